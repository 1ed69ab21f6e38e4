"""expat.reference.attestation: the attestation primitives of draft-fossati-seat-expat.

Transport-independent pieces, wired into EA flows elsewhere:

  binding       exporter binding and AIK_pub_hash (draft §5.1, §5.2)
  cmw           Conceptual Message Wrappers (RFC 9999 §3)
  cbor          strict CBOR decoding shared by the modules below
  cose          COSE_Sign1 (RFC 9052)
  eat           Evidence: EAT claims in a COSE_Sign1 (RFC 9711)
  ear           Attestation Results (draft-ietf-rats-ear-03)
  environment   Attesting Environment: attestation key, AIK, Evidence
  verifier      Verifier appraisal and the Relying Party's EAR check
  verifier_service  the Verifier over HTTP/JSON on loopback
"""
