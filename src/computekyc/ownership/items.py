"""What is rented, as determinations need it: the item's ECCN, flags and the figures behind them
(TPP, performance density, 3A090 rule version and status) from the chip catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from computekyc.chips import UnknownHardware, classify, resolve
from computekyc.exc import NotFoundError

DEFAULT_ITEM = "H100"  # without --item, assume an H100-class 3A090.a item


class UnknownItem(NotFoundError):
    """``--item`` names nothing the chip catalogue knows; ``suggestions`` are the closest names."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        self.suggestions = suggestions
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    chip: str
    eccn: str | None
    count: int = 1
    flags: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())
    chip_id: str = ""
    tpp: float | None = None
    performance_density: float | None = None
    rule_version: str = ""
    # controlled | not controlled | review (figures not public: never a clear)
    status: str = ""

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
            "chip_id": self.chip_id,
            "count": self.count,
            "eccn": self.eccn,
            "status": self.status,
            "tpp": None if self.tpp is None else round(self.tpp, 2),
            "performance_density": (
                None if self.performance_density is None else round(self.performance_density, 2)
            ),
            "rule_version": self.rule_version,
            "flags": list(self.flags),
        }


def resolve_item(name: str = DEFAULT_ITEM, as_of: date | None = None) -> Item:
    """Resolve a chip, instance type or label through ``computekyc.chips``; classify it as of
    the determination date (the 3A090 parameters themselves changed over time).

    Raises :class:`UnknownItem` (a ``NotFoundError``) naming the closest known names."""
    try:
        allocation = resolve(name)
    except UnknownHardware as exc:
        raise UnknownItem(f"--item: {exc}", exc.suggestions) from exc
    classification = classify(allocation, as_of)
    return Item(
        name=name,
        chip=allocation.chip.name,
        eccn=classification.eccn,
        count=allocation.count,
        flags=tuple(classification.flags),
        reasons=tuple(classification.reasons),
        chip_id=allocation.chip.id,
        tpp=classification.tpp,
        performance_density=classification.performance_density,
        rule_version=classification.rule_version,
        status=classification.status,
    )
