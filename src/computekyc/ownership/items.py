"""What is rented, as determinations need it: the item's ECCN and flags from the chip catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from computekyc.chips import classify, resolve

DEFAULT_ITEM = "H100"  # without --item, assume an H100-class 3A090.a item (issue 4 §3)


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    chip: str
    eccn: str | None
    count: int = 1
    flags: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    def advanced_computing(self, prefixes: list[str]) -> bool:
        """Is the item (or a system holding it, 4A090) caught by the given ECCN prefixes?"""
        if not self.eccn:
            return False
        system = "4A090" + self.eccn[len("3A090") :] if self.eccn.startswith("3A090") else None
        return any(self.eccn.startswith(p) or (system or "").startswith(p) for p in prefixes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "chip": self.chip,
            "count": self.count,
            "eccn": self.eccn,
            "flags": list(self.flags),
        }


def resolve_item(name: str = DEFAULT_ITEM, as_of: date | None = None) -> Item:
    """Resolve a chip, instance type or label through ``computekyc.chips``; classify it as of
    the determination date (the 3A090 parameters themselves changed over time)."""
    allocation = resolve(name)
    classification = classify(allocation, as_of)
    return Item(
        name=name,
        chip=allocation.chip.name,
        eccn=classification.eccn,
        count=allocation.count,
        flags=tuple(classification.flags),
        reasons=tuple(classification.reasons),
    )
