"""expat.spec: spec-editor tooling for draft-fossati-seat-expat.

Reading drafts (:mod:`.document`, :mod:`.markdown`, :mod:`.text`), BCP 14 statements
(:mod:`.statements`), protocol parameters (:mod:`.parameters`), findings in one draft
(:mod:`.lint`), changes between revisions (:mod:`.diff`), the requirement catalogue
(:mod:`.catalogue`, ``catalogue.json``), link verification (:mod:`.links`) and the
traceability matrix (:mod:`.traceability`). CLI: ``expat spec lint|diff|requirements|coverage|trace``.
"""
