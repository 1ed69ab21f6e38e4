"""Named checks: every MUST expat enforces is a :class:`Check` declared once.

A check has a stable id, the section it cites, the TLS alert it fails with and a
one-line paraphrase (our words). Code enforces it with ``CHECK.require(cond, detail)``
or ``CHECK.fail(detail)``; the registry lets the requirement catalogue
(:mod:`expat.spec`) link requirements to the code that enforces them.

Id convention: ``<document>-<section>-<short-name>``, e.g. ``rfc9261-5.2.4-ctx-match``
or ``expat02-3.1-unsolicited``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from expat.errors import Alert, ProtocolError, error_class

REGISTRY: dict[str, "Check"] = {}


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    alert: Alert
    summary: str
    module: str = ""

    def fail(self, detail: str) -> NoReturn:
        raise error_class(self.alert)(detail, alert=self.alert, check=self.id, section=self.section)

    def require(self, condition: object, detail: str) -> None:
        if not condition:
            self.fail(detail)


def check(id: str, section: str, alert: Alert, summary: str) -> Check:
    """Declare a check (module level). Ids are unique across the project."""
    import inspect

    frame = inspect.currentframe()
    module = frame.f_back.f_globals.get("__name__", "") if frame and frame.f_back else ""
    existing = REGISTRY.get(id)
    if existing is not None:
        if existing.module == module and existing.section == section:
            return existing  # module re-imported
        raise ValueError(f"duplicate check id {id!r} ({existing.module} and {module})")
    c = Check(id=id, section=section, alert=alert, summary=summary, module=module)
    REGISTRY[id] = c
    return c


def is_protocol_error(exc: BaseException) -> bool:
    return isinstance(exc, ProtocolError)
