"""Named checks: every MUST expat enforces is a :class:`Check` declared once.

A check has a stable id, the section it cites, the TLS alert it fails with and a
one-line paraphrase (our words). Code enforces it with ``CHECK.require(cond, detail)``
or ``CHECK.fail(detail)``; the registry lets the requirement catalogue
(:mod:`expat.spec`) link requirements to the code that enforces them.

Details are built only on failure: ``detail`` may be a plain string, a callable returning the
string, or a ``str.format`` template with its arguments after it
(``CHECK.require(n <= left, "{} needs {} bytes", field, n)``). Hot decoding paths use the last two
forms so that a passing check costs one call and one truth test.

Id convention: ``<document>-<section>-<short-name>``, e.g. ``rfc9261-5.2.4-ctx-match``
or ``expat02-3.1-unsolicited``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NoReturn, Union

from expat.errors import Alert, error_class

REGISTRY: dict[str, "Check"] = {}

Detail = Union[str, Callable[[], str]]


def render_detail(detail: Detail, args: tuple = ()) -> str:
    """The failure text: call a callable detail, or fill a template with ``args``."""
    if callable(detail):
        detail = detail()
    if args:
        try:
            return str(detail).format(*args)
        except (IndexError, KeyError, ValueError):  # a template bug must not hide the failed check
            return f"{detail} {args!r}"
    return str(detail)


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    alert: Alert
    summary: str
    module: str = ""

    def fail(self, detail: Detail, *args: Any) -> NoReturn:
        raise error_class(self.alert)(render_detail(detail, args), alert=self.alert, check=self.id,
                                      section=self.section)

    def require(self, condition: object, detail: Detail, *args: Any) -> None:
        """Fail unless ``condition``; ``detail`` (and ``args``) are rendered only on failure."""
        if not condition:
            self.fail(detail, *args)


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
