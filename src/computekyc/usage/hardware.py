"""Resolve hardware names found in usage files through the chip catalogue (``computekyc.chips``).

Readers never interpret a name themselves: every distinct instance type, Kubernetes label, Slurm
gres type or DCGM model name goes through :func:`computekyc.chips.resolve` once per file, and the
answer becomes a small table joined into the reader's SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

# Accounting precision: the BIS thresholds count dense operations; BF16 is what large training
# runs use (regulatory.md §compute thresholds computes its H100-hour equivalents the same way).
ACCOUNTING_PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "tf32", "fp32")

HARDWARE_SCHEMA = pa.schema(
    [
        ("hardware_name", pa.string()),
        ("chip", pa.string()),
        ("unit_count", pa.float64()),
        ("controlled", pa.bool_()),
        ("eccn", pa.string()),
        ("peak_ops_per_gpu", pa.float64()),
        ("h100_equivalents", pa.float64()),
        ("matched", pa.string()),
    ]
)


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


def hardware_table(names: Iterable[str]) -> tuple[pa.Table, list[str]]:
    """Resolve distinct ``names``; returns the join table and the names the catalogue lacks."""
    rows: list[dict[str, object]] = []
    unknown: list[str] = []
    for name in sorted({n for n in names if n}):
        hw = resolve(name)
        if hw is None:
            unknown.append(name)
            continue
        rows.append(
            {
                "hardware_name": name,
                "chip": hw.chip,
                "unit_count": float(hw.unit_count),
                "controlled": hw.controlled,
                "eccn": hw.eccn,
                "peak_ops_per_gpu": hw.peak_ops_per_gpu,
                "h100_equivalents": hw.h100_equivalents,
                "matched": hw.matched,
            }
        )
    return pa.Table.from_pylist(rows, schema=HARDWARE_SCHEMA), unknown
