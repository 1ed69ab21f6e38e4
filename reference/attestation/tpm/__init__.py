"""A TPM 2.0 Attesting Environment on a private swtpm, its Evidence format and its appraisal (docs/tpm.md).

Modules: ``swtpm`` (process manager), ``device`` (ESAPI via tpm2-pytss), ``environment``
(TpmAttestingEnvironment), ``evidence`` (format, qualifyingData, PCR layout), ``structures`` (strict
TPM structure parsers), ``appraisal`` (the Verifier's checks). Only ``device`` and ``environment``
need tpm2-pytss; the Verifier side imports neither.
"""
