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

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.id, "event_index": self.event_index, "detail": self.detail}


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

    def to_json(self) -> dict[str, Any]:
        return {"trace": self.source, "conformant": self.conformant,
                "violations": [v.to_json() for v in self.violations]}
