"""Bounded proofs that need no Tamarin: the role tables unrolled against a symbolic adversary, data
constraints decided by z3, every run checked by the real checker and property monitors.

Modules: :mod:`~expat.proofs.terms` (the term algebra in z3), :mod:`~expat.proofs.world` (agents, keys,
bytes), :mod:`~expat.proofs.search` (the bounded run generator), :mod:`~expat.proofs.analysis`
(verdicts), :mod:`~expat.proofs.record` (proofs/*.json), :mod:`~expat.proofs.commands` (``expat proofs``).
See docs/proofs.md.
"""
