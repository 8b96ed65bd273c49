"""What is rented, as determinations need it: the item's ECCN and flags from the chip catalogue."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
    # The chips package is built in parallel; reach its public functions at call time.
    chips: Any = importlib.import_module("computekyc.chips")
    allocation: Any = chips.resolve(name)
    classification: Any = chips.classify(allocation, as_of)
    chip = getattr(allocation, "chip", None)
    chip_name = str(getattr(chip, "name", chip) or name)
    flags = tuple(str(f) for f in (getattr(classification, "flags", None) or ()))
    reasons = tuple(str(r) for r in (getattr(classification, "reasons", None) or ()))
    return Item(
        name=name,
        chip=chip_name,
        eccn=getattr(classification, "eccn", None),
        count=int(getattr(allocation, "count", 1) or 1),
        flags=flags,
        reasons=reasons,
    )
