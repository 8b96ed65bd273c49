"""Resolve hardware names found in usage files through the chip catalogue (``computekyc.chips``).

Readers never interpret a name themselves: every distinct instance type, Kubernetes label, Slurm
gres type or DCGM model name goes through :func:`computekyc.chips.resolve` once per file, and the
answer becomes a small table joined into the reader's SQL.

What is stored at ingest (chip, controlled, eccn, per-GPU figures) records what the catalogue
said then. Accounting does not rely on it: :func:`rates` classifies and costs each stored name
again, under the rules in force on each usage day, and counts names nobody knows as
*unclassified* at an assumed chip rather than as nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from computekyc.chips import Chip

# Accounting precision: the thresholds count dense operations; training is costed at BF16 (else
# FP16/TF32/FP32: ``Chip.training_precision``), the theoretical maximum at the chip's highest
# dense precision of 8 bits or more (FP8 where it has it: ``Chip.peak_precision``).


@dataclass(frozen=True)
class Hardware:
    """One resolved name at ingest: which chip, how many per unit (instance), and the catalogue's
    figures and classification as of ingest (informational; accounting uses :func:`rates`)."""

    name: str
    chip: str
    unit_count: int
    controlled: bool
    eccn: str | None
    peak_ops_per_gpu: float
    h100_equivalents: float
    matched: str


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
        peak_ops_per_gpu=chip.training_ops_per_second,
        h100_equivalents=chip.training_ops_per_second
        / chips.get_chip(REFERENCE_CHIP).training_ops_per_second,
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


# ---------------------------------------------------------------------------------------------
# Accounting rates: how each stored hardware name counts, per span of days


EPOCH = date(1970, 1, 1)
# Day numbers bounding the first and last rule periods (far outside any usage data).
FIRST_DAY = -(10**6)
LAST_DAY = 10**7
UNCLASSIFIED = "unclassified"
REFERENCE_CHIP = "H100-SXM"  # the unit of H100-equivalent hours


@dataclass(frozen=True)
class Rate:
    """How usage on one hardware name counts on days ``[from_day, to_day)`` (epoch days).

    ``status`` is the 3A090 status under the rules in force on those days (controlled / not
    controlled / review), or ``unclassified`` for a name the catalogue does not know: such usage
    is counted at an assumed chip (``reason`` says which and why) and never as uncontrolled."""

    name: str
    period: int  # index of the rule period (``periods()``) the span is
    from_day: int
    to_day: int
    chip: str
    status: str
    rule_version: str
    training_ops_per_gpu: float
    peak_ops_per_gpu: float
    h100_equivalents: float
    training_precision: str
    peak_precision: str
    reason: str


def periods() -> list[tuple[int, int]]:
    """Spans of epoch days with one 3A090 text in force (the first: before 3A090 existed)."""
    from computekyc import chips

    starts = sorted({(rule.effective - EPOCH).days for rule in chips.RULES})
    bounds = [FIRST_DAY, *starts, LAST_DAY]
    return list(pairwise(bounds))


def rates(names: Iterable[tuple[str | None, str | None]]) -> list[Rate]:
    """Rates for each (hardware name, chip stored at ingest), one per rule period.

    The name is resolved again through the current catalogue (a corrected or newly catalogued
    chip applies to old usage too); the stored chip is the fallback; a name neither knows is
    ``unclassified`` and counted at its vendor class's most capable chip
    (``chips.assumed_chip``). A catalogued chip with no public compute figure is counted the same
    way, as ``review``."""
    from computekyc import chips

    stored: dict[str, str | None] = {}
    for name, chip_id in names:
        if stored.get(name or "") is None:
            stored[name or ""] = chip_id
    out: list[Rate] = []
    for name in sorted(stored):
        chip: Chip | None = None
        try:
            chip = chips.resolve(name).chip if name else None
        except chips.UnknownHardware:
            chip = chips.find_chip(stored[name] or "") if stored[name] else None
        out.extend(_rates_for(name, chip))
    return out


def _rates_for(name: str, chip: Chip | None) -> list[Rate]:
    from computekyc import chips

    counted_as, label, reason = chip, chip.id if chip else "", ""
    if chip is None or chip.training_ops_per_second <= 0:
        assumed = chips.assumed_chip(name or None)
        counted_as = assumed.chip
        if chip is None:
            label, reason = f"({UNCLASSIFIED}) {name or '(no hardware name)'}", assumed.reason
        else:
            reason = f"{chip.id}: no public compute figure; counted as {assumed.chip.id}"
    assert counted_as is not None
    training = counted_as.training_ops_per_second
    reference = chips.get_chip(REFERENCE_CHIP).training_ops_per_second
    out = []
    for period, (first, end) in enumerate(periods()):
        status, version, why = UNCLASSIFIED, "", reason
        if chip is not None:
            # Classified under the text in force over the span (any day inside it will do).
            result = chips.classify(
                chip, EPOCH + timedelta(days=end - 1 if first == FIRST_DAY else first)
            )
            status, version = result.status, result.rule_version
            if status == chips.STATUS_REVIEW:
                why = "; ".join([*([reason] if reason else []), *_review_reasons(result.reasons)])
        out.append(
            Rate(
                name=name,
                period=period,
                from_day=first,
                to_day=end,
                chip=label,
                status=status,
                rule_version=version,
                training_ops_per_gpu=training,
                peak_ops_per_gpu=counted_as.peak_dense_ops_per_second,
                h100_equivalents=training / reference,
                training_precision=counted_as.training_precision,
                peak_precision=counted_as.peak_precision,
                reason=why,
            )
        )
    return out


def _review_reasons(reasons: list[str]) -> list[str]:
    return [r for r in reasons if r.startswith("review")]


def default_rate() -> Rate:
    """How a name missing from the rate table counts (ingested after the table was built)."""
    return _rates_for("", None)[-1]
