"""Vendor classes (``data/vendor_classes.yaml``): the capacity to assume for an unknown name.

Usage on hardware the catalogue does not know must never count as nothing: it is reported as
*unclassified* and counted at the most capable catalogued chip of the vendor class the name
points to, never below the floor chip (H100 SXM)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from computekyc.chips.catalogue import CatalogueError, catalogue, read_data_file
from computekyc.chips.model import Chip

CLASSES_FILE = "vendor_classes.yaml"


@dataclass(frozen=True)
class VendorClass:
    name: str
    vendors: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    source: str


@dataclass(frozen=True)
class Assumed:
    """The chip an unknown name is counted as, and why."""

    chip: Chip
    vendor_class: str | None
    reason: str


@cache
def _classes() -> tuple[str, tuple[VendorClass, ...]]:
    data = read_data_file(CLASSES_FILE)
    floor = str(data.get("floor", ""))
    if floor not in catalogue():
        raise CatalogueError(f"{CLASSES_FILE}: floor chip {floor!r} is not in the catalogue")
    classes = []
    for number, raw in enumerate(data.get("classes") or [], start=1):
        where = f"{CLASSES_FILE}: classes[{number}]"
        if not isinstance(raw, dict) or not str(raw.get("source", "")).strip():
            raise CatalogueError(f"{where}: every class needs a name, vendors, patterns, source")
        try:
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in raw.get("patterns") or [])
        except re.error as exc:
            raise CatalogueError(f"{where}: bad pattern: {exc}") from exc
        vendors = tuple(str(v) for v in raw.get("vendors") or [])
        if not patterns or not vendors:
            raise CatalogueError(f"{where}: needs vendors and patterns")
        classes.append(VendorClass(str(raw["name"]), vendors, patterns, str(raw["source"])))
    return floor, tuple(classes)


def vendor_class(name: str) -> VendorClass | None:
    """The first class whose patterns match ``name``, else None."""
    for cls in _classes()[1]:
        if any(p.search(name) for p in cls.patterns):
            return cls
    return None


def _capability(chip: Chip) -> tuple[float, float]:
    return chip.training_ops_per_second, chip.peak_dense_ops_per_second


def assumed_chip(name: str | None) -> Assumed:
    """The chip to count an unknown hardware ``name`` as: the class's most capable chip, at
    least the floor chip."""
    floor_id, _ = _classes()
    floor = catalogue()[floor_id]
    cls = vendor_class(name) if name else None
    if cls is None:
        what = f"{name!r}" if name else "usage without a hardware name"
        return Assumed(
            floor,
            None,
            f"{what} is not in the chip catalogue and names no known vendor: counted as "
            f"{floor.id} (the assumed minimum for an unknown accelerator)",
        )
    members = [c for c in catalogue().values() if c.vendor in cls.vendors and c.tpp_known]
    best = max([*members, floor], key=_capability)
    why = (
        f"the most capable catalogued {cls.name} chip"
        if best is not floor
        else f"the assumed minimum; no catalogued {cls.name} chip is more capable"
    )
    return Assumed(
        best,
        cls.name,
        f"{name!r} is not in the chip catalogue; it looks like {cls.name} hardware: counted as "
        f"{best.id} ({why})",
    )
