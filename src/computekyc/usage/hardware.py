"""Resolve hardware names found in usage files through the chip catalogue (``computekyc.chips``).

Readers never interpret a name themselves: every distinct instance type, Kubernetes label, Slurm
gres type or DCGM model name goes through :func:`computekyc.chips.resolve` once per file, and the
answer becomes a small table joined into the reader's SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Accounting precision: the BIS thresholds count dense operations; BF16 is what large training
# runs use (regulatory.md §compute thresholds computes its H100-hour equivalents the same way).
ACCOUNTING_PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "tf32", "fp32")


@dataclass(frozen=True)
class Hardware:
    """One resolved name: which chip, how many per unit (instance), and its accounting figures."""

    name: str
    chip: str
    unit_count: int
    controlled: bool
    eccn: str | None
    peak_ops_per_gpu: float
    h100_equivalents: float
    matched: str


def _peak(chip: object) -> float:
    for precision in ACCOUNTING_PRECISIONS:
        try:
            return float(chip.peak_ops_per_second(precision))  # type: ignore[attr-defined]
        except ValueError:
            continue
    return 0.0


def resolve(name: str) -> Hardware | None:
    """The catalogue's answer for ``name``, or None when the catalogue does not know it."""
    from computekyc import chips  # imported late: the catalogue loads its data on first use

    try:
        allocation = chips.resolve(name)
    except chips.UnknownHardware:
        return None
    chip = allocation.chip
    eccn = chips.classify(chip).eccn
    return Hardware(
        name=name,
        chip=chip.id,
        unit_count=int(allocation.count),
        controlled=eccn is not None,
        eccn=eccn,
        peak_ops_per_gpu=_peak(chip),
        h100_equivalents=float(chip.h100_equivalents),
        matched=str(allocation.matched),
    )


def hardware_table(names: Iterable[str]) -> tuple[list[Hardware], list[str]]:
    """Resolve distinct ``names``; returns the catalogue's answers (sorted by name) and the names
    the catalogue lacks. Plain records, not an Arrow table: building one imports pandas."""
    known: list[Hardware] = []
    unknown: list[str] = []
    for name in sorted({n for n in names if n}):
        hw = resolve(name)
        if hw is None:
            unknown.append(name)
        else:
            known.append(hw)
    return known, unknown
