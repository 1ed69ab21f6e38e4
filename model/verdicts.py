"""What a check finds: rule and property violations of one trace (bottom of the model package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Violation:
    kind: str  # "rule" or "property"
    id: str
    event_index: Optional[int]
    detail: str
    breaks: tuple[str, ...] = ()  # for a rule: the properties it puts at risk (model/breaks.py)

    def at_risk(self) -> tuple[str, ...]:
        """The security properties this violation is about: a monitor's own, or a rule's ``breaks``."""
        return (self.id,) if self.kind == "property" else self.breaks

    def to_json(self) -> dict[str, Any]:
        out = {self.kind: self.id, "event_index": self.event_index, "detail": self.detail}
        if self.kind == "rule":
            out["breaks"] = list(self.breaks)
        return out


@dataclass
class Result:
    source: str
    violations: list[Violation] = field(default_factory=list)

    @property
    def conformant(self) -> bool:
        return not self.violations

    def rules(self) -> set[str]:
        return {v.id for v in self.violations if v.kind == "rule"}

    def properties(self) -> set[str]:
        return {v.id for v in self.violations if v.kind == "property"}

    def broken(self) -> set[str]:
        """Every property found violated by a monitor or put at risk by a failed rule."""
        return {p for v in self.violations for p in v.at_risk()}

    def to_json(self) -> dict[str, Any]:
        return {"trace": self.source, "conformant": self.conformant, "broken": sorted(self.broken()),
                "violations": [v.to_json() for v in self.violations]}
