"""The protocol model: event vocabulary, traces, role state machines, conformance checker, monitors.

Modules: events (vocabulary), trace (JSON Lines format, recorder, loader, schema), roles (rule
tables), graph (networkx + rendering), static (static checks), properties (ids and statements),
monitors (one per property), relations (literal recomputation), checker (replay).
See docs/model.md and docs/trace-format.md.
"""
