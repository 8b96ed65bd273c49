"""ECCN 3A090 / 4A090 classification, computed from TPP and performance density on a date.

The thresholds and their effective dates are data (``RULES``); the answer for a chip is always
derived from its catalogue figures. Texts: shared/docs/regulatory.md sections 2.5, 3.1 and 3.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from computekyc.chips.catalogue import catalogue
from computekyc.chips.model import Allocation, Chip, Classification


@dataclass(frozen=True)
class Rule3A090:
    """One version of the 3A090 parameters, in force from ``effective``."""

    version: str
    citation: str
    effective: date
    # 2022 text: caught only with an aggregate bidirectional I/O rate of >= 600 GB/s.
    min_interconnect_gbps: float | None
    # 2023 text: performance-density bands and Note 2 (consumer parts need TPP >= 4800).
    uses_density: bool


RULES: tuple[Rule3A090, ...] = (
    Rule3A090(
        version="3A090-2022",
        citation=(
            "87 FR 62186 (FR Doc 2022-21658, 13 Oct 2022): 3A090.a = aggregate bidirectional "
            "transfer rate >= 600 GB/s and bit length x TOPS >= 4800"
        ),
        effective=date(2022, 10, 7),
        min_interconnect_gbps=600.0,
        uses_density=False,
    ),
    Rule3A090(
        version="3A090-2023",
        citation="88 FR 73458 (FR Doc 2023-23055, 25 Oct 2023; in force 17 Nov 2023)",
        effective=date(2023, 11, 17),
        min_interconnect_gbps=None,
        uses_density=True,
    ),
)

# 2023 thresholds (regulatory.md 3.1, verbatim parameters).
TPP_A = 4800.0
TPP_A_DENSE = 1600.0
PD_A = 5.92
TPP_B_LOW = 2400.0
PD_B_LOW = 1.6
PD_B_DENSE = 3.2

# Licence requirements outside the TPP test (regulatory.md 2.4, 2.5, 3.3, 5.3).
IS_INFORMED_FROM = date(2025, 4, 9)  # NVIDIA 8-K of 15 Apr 2025: letter received 9 Apr 2025
IS_INFORMED_REFERENCE = "H20"  # "any IC achieving H20's memory bandwidth, interconnect bw, or both"
JAN_2026_FROM = date(2026, 1, 15)  # 91 FR 1684, FR Doc 2026-00789
JAN_2026_MAX_TPP = 21000.0
JAN_2026_MAX_DRAM_GBPS = 6500.0
GP10_FROM = date(2025, 5, 13)  # BIS GP10 guidance naming Ascend 910B/C/D
GAIN_AI_DRAM_GBPS = 1400.0  # S. 3150 "advanced IC" (a bill: informational only)
GAIN_AI_INTERCONNECT_GBPS = 1100.0
GAIN_AI_COMBINED_GBPS = 1700.0

FLAG_CONSUMER = "consumer-gpu-note"
FLAG_IS_INFORMED = "is-informed-bandwidth"
FLAG_JAN_2026 = "jan-2026-case-by-case"
FLAG_GP10 = "gp10-prc-3a090"
FLAG_GAIN_AI = "gain-ai-bill-advanced-ic"
FLAG_PD_UNKNOWN = "performance-density-unknown"
FLAG_UNPUBLISHED = "figures-not-public"

STATUS_CONTROLLED = "controlled"
STATUS_NOT_CONTROLLED = "not controlled"
STATUS_REVIEW = "review"


def rule_in_force(as_of: date) -> Rule3A090 | None:
    """The 3A090 text in force on ``as_of`` (None before 3A090 existed)."""
    current = None
    for rule in RULES:
        if rule.effective <= as_of:
            current = rule
    return current


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _gbps(value: float | None) -> str:
    return "unknown" if value is None else f"{_fmt(value)} GB/s"


def _eccn_2023(chip: Chip, tpp: float, pd: float | None, reasons: list[str]) -> str | None:
    if not chip.datacenter and tpp < TPP_A:
        reasons.append(
            f"Note 2 to 3A090: not designed or marketed for datacenters and TPP {_fmt(tpp)} < "
            f"{_fmt(TPP_A)}, so 3A090 does not apply"
        )
        return None
    if tpp >= TPP_A:
        reasons.append(f"3A090.a: TPP {_fmt(tpp)} >= {_fmt(TPP_A)}")
        return "3A090.a"
    if tpp < TPP_A_DENSE:
        reasons.append(f"not 3A090: TPP {_fmt(tpp)} < {_fmt(TPP_A_DENSE)}")
        return None
    if pd is None:
        reasons.append(
            f"TPP {_fmt(tpp)} is in the density-dependent band but the applicable die area is "
            "not known: performance density cannot be computed"
        )
        return None
    if pd >= PD_A:
        reasons.append(f"3A090.a: TPP {_fmt(tpp)} >= {_fmt(TPP_A_DENSE)} and PD {pd:.2f} >= {PD_A}")
        return "3A090.a"
    if tpp >= TPP_B_LOW and pd >= PD_B_LOW:
        reasons.append(
            f"3A090.b: {_fmt(TPP_B_LOW)} <= TPP {_fmt(tpp)} < {_fmt(TPP_A)} and "
            f"{PD_B_LOW} <= PD {pd:.2f} < {PD_A}"
        )
        return "3A090.b"
    if pd >= PD_B_DENSE:
        reasons.append(
            f"3A090.b: TPP {_fmt(tpp)} >= {_fmt(TPP_A_DENSE)} and "
            f"{PD_B_DENSE} <= PD {pd:.2f} < {PD_A}"
        )
        return "3A090.b"
    reasons.append(
        f"not 3A090: TPP {_fmt(tpp)} < {_fmt(TPP_A)}; neither TPP >= {_fmt(TPP_B_LOW)} with "
        f"PD >= {PD_B_LOW} nor PD >= {PD_B_DENSE} (PD {pd:.2f})"
    )
    return None


def _eccn_2022(chip: Chip, tpp: float, rule: Rule3A090, reasons: list[str]) -> str | None:
    io = chip.interconnect_bandwidth_gbps
    threshold = rule.min_interconnect_gbps or 0.0
    if tpp >= TPP_A and io is not None and io >= threshold:
        reasons.append(
            f"3A090.a (2022 text): TPP {_fmt(tpp)} >= {_fmt(TPP_A)} and I/O {_fmt(io)} GB/s "
            f">= {_fmt(threshold)} GB/s"
        )
        return "3A090.a"
    reasons.append(
        f"not 3A090 (2022 text): needs TPP >= {_fmt(TPP_A)} (has {_fmt(tpp)}) and I/O >= "
        f"{_fmt(threshold)} GB/s (has {_gbps(io)})"
    )
    return None


def _bandwidth_flags(chip: Chip, eccn: str | None, as_of: date, reasons: list[str]) -> list[str]:
    """Licence triggers outside the TPP test: bandwidth letters and the Jan 2026 band."""
    flags: list[str] = []
    mem = chip.memory_bandwidth_gbps or 0.0
    io = chip.interconnect_bandwidth_gbps or 0.0
    # Only chips outside 3A090 need these: a 3A090 chip already needs a licence on that path.
    if eccn is None and as_of >= IS_INFORMED_FROM:
        ref = catalogue()[IS_INFORMED_REFERENCE]
        ref_mem = ref.memory_bandwidth_gbps or 0.0
        ref_io = ref.interconnect_bandwidth_gbps or 0.0
        if mem >= ref_mem or io >= ref_io or mem + io >= ref_mem + ref_io:
            flags.append(FLAG_IS_INFORMED)
            reasons.append(
                "is-informed (9 Apr 2025 letter, NVIDIA 8-K 15 Apr 2025): memory "
                f"{_gbps(chip.memory_bandwidth_gbps)}, interconnect "
                f"{_gbps(chip.interconnect_bandwidth_gbps)} reach the H20's {_fmt(ref_mem)} / "
                f"{_fmt(ref_io)} GB/s (or their sum): licence needed for China incl. HK/Macau, "
                "D:5, or entities headquartered there"
            )
    gain_ai = (
        mem >= GAIN_AI_DRAM_GBPS
        or io >= GAIN_AI_INTERCONNECT_GBPS
        or mem + io >= GAIN_AI_COMBINED_GBPS
    )
    if eccn is None and gain_ai:
        flags.append(FLAG_GAIN_AI)
        reasons.append(
            "GAIN AI Act (S. 3150, a bill, not law) would count it an advanced IC: DRAM "
            f"{_gbps(chip.memory_bandwidth_gbps)}, interconnect "
            f"{_gbps(chip.interconnect_bandwidth_gbps)}; thresholds DRAM >= "
            f"{_fmt(GAIN_AI_DRAM_GBPS)}, interconnect >= {_fmt(GAIN_AI_INTERCONNECT_GBPS)} or "
            f"sum >= {_fmt(GAIN_AI_COMBINED_GBPS)} GB/s"
        )
    in_band = (
        chip.tpp < JAN_2026_MAX_TPP
        and chip.memory_bandwidth_gbps is not None
        and mem < JAN_2026_MAX_DRAM_GBPS
    )
    if eccn is not None and as_of >= JAN_2026_FROM and in_band:
        flags.append(FLAG_JAN_2026)
        reasons.append(
            f"Jan 2026 rule (91 FR 1684, from 15 Jan 2026): TPP {_fmt(chip.tpp)} < "
            f"{_fmt(JAN_2026_MAX_TPP)} and DRAM {_fmt(mem)} GB/s < "
            f"{_fmt(JAN_2026_MAX_DRAM_GBPS)}: exports from the US to China/Macau reviewed "
            "case-by-case with certifications (D:5-headquartered entities elsewhere: "
            "presumption of denial)"
        )
    return flags


def classify_chip(chip: Chip, as_of: date | None = None, count: int = 1) -> Classification:
    """Classify one chip model (per IC) under the 3A090 text in force on ``as_of``.

    ``status`` is ``review`` (never a clear) when the answer is "not 3A090" but rests on a figure
    the vendor has not published, or on a performance density that cannot be computed."""
    day = as_of or date.today()
    verdict = _verdict(chip, day) if chip.tpp_known else _unknown_tpp(chip, day)
    reasons = verdict.reasons
    if count != 1:
        reasons.append(f"allocation of {count} x {chip.id}: classification is per IC")
    return Classification(
        chip_id=chip.id,
        count=count,
        as_of=day,
        tpp=chip.tpp if chip.tpp_known else None,
        performance_density=chip.performance_density,
        memory_bandwidth_gbps=chip.memory_bandwidth_gbps,
        eccn=verdict.eccn,
        system_eccn=verdict.eccn.replace("3A090", "4A090") if verdict.eccn else None,
        flags=verdict.flags,
        reasons=reasons,
        rule_version=verdict.version,
        status=verdict.status,
        tpp_known=chip.tpp_known,
    )


@dataclass
class _Verdict:
    eccn: str | None
    flags: list[str]
    reasons: list[str]
    version: str
    status: str


def _verdict(chip: Chip, day: date) -> _Verdict:
    """ECCN, flags, reasons, rule version and status of a chip with a known TPP on ``day``."""
    tpp = chip.tpp
    pd = chip.performance_density
    precision = chip.tpp_precision
    reasons = [
        f"TPP {_fmt(tpp)} = {precision.upper()} {chip.dense_tops[precision]:,} dense TOPS x "
        f"{chip.bit_length_for_tpp} bits (highest of: {', '.join(chip.dense_tops)})"
    ]
    if pd is not None:
        reasons.append(
            f"performance density {pd:.2f} = TPP {_fmt(tpp)} / {chip.die_area_mm2:,} mm2 "
            "applicable die area"
        )
    flags: list[str] = []
    rule = rule_in_force(day)
    eccn: str | None
    if rule is None:
        reasons.append(f"no 3A090 on {day.isoformat()}: ECCN created on {RULES[0].effective}")
        eccn = None
        version = "pre-3A090"
    else:
        version = rule.version
        if rule.uses_density:
            eccn = _eccn_2023(chip, tpp, pd, reasons)
            if eccn is None and pd is None and TPP_A_DENSE <= tpp < TPP_A and chip.datacenter:
                flags.append(FLAG_PD_UNKNOWN)
        else:
            eccn = _eccn_2022(chip, tpp, rule, reasons)
        reasons.append(f"rule {rule.version}: {rule.citation}")
    if not chip.datacenter:
        flags.append(FLAG_CONSUMER)
        if eccn is not None:
            reasons.append(
                "consumer part with TPP >= 4,800: NAC-eligible with prior notification for "
                "D:5/Macau (regulatory.md 3.2)"
            )
    flags.extend(_bandwidth_flags(chip, eccn, day, reasons))
    if eccn is not None and chip.designed_in == "CN" and day >= GP10_FROM:
        flags.append(FLAG_GP10)
        reasons.append(
            "PRC-designed IC meeting 3A090: presumed produced in violation of the EAR (BIS GP10 "
            "guidance, 13 May 2025); using or servicing it risks General Prohibition 10"
        )
    if eccn:
        system_eccn = eccn.replace("3A090", "4A090")
        reasons.append(f"{system_eccn}: computers and assemblies containing a {eccn} IC")
    status = _status(chip, eccn, rule, flags, reasons, day)
    return _Verdict(eccn, flags, reasons, version, status)


def _unpublished_decides(chip: Chip, rule: Rule3A090, as_of: date) -> bool:
    """Could a figure the vendor has not published turn this 'not 3A090' into a licence need?"""
    unpublished = set(chip.unpublished)
    if "dense_tops" in unpublished:
        return True
    # Die area: only inside the density band of the 2023 text (FLAG_PD_UNKNOWN covers it when
    # the area is missing; an estimated area there is just as undecided).
    in_band = TPP_A_DENSE <= chip.tpp < TPP_A and chip.datacenter
    if "die_area_mm2" in unpublished and rule.uses_density and in_band:
        return True
    # Bandwidths: the 2022 text's interconnect test, and the bandwidth-based licence letters.
    bandwidth = unpublished & {"memory_bandwidth_gbps", "interconnect_bandwidth_gbps"}
    if bandwidth and not rule.uses_density and chip.tpp >= TPP_A:
        return True
    return bool(bandwidth) and as_of >= IS_INFORMED_FROM


def _status(
    chip: Chip,
    eccn: str | None,
    rule: Rule3A090 | None,
    flags: list[str],
    reasons: list[str],
    as_of: date,
) -> str:
    if eccn is not None:
        if chip.unpublished:
            reasons.append(
                f"figures not public ({', '.join(chip.unpublished)}): the estimates already meet "
                "3A090, so the item is treated as controlled"
            )
        return STATUS_CONTROLLED
    if rule is None:
        return STATUS_NOT_CONTROLLED
    if FLAG_PD_UNKNOWN in flags:
        reasons.append("review: the density test decides and the die area is not public")
        return STATUS_REVIEW
    if _unpublished_decides(chip, rule, as_of):
        flags.append(FLAG_UNPUBLISHED)
        reasons.append(
            f"review: 'not 3A090' rests on figures the vendor has not published "
            f"({', '.join(chip.unpublished)}); not a clear"
        )
        return STATUS_REVIEW
    return STATUS_NOT_CONTROLLED


def _unknown_tpp(chip: Chip, day: date) -> _Verdict:
    """No public compute figure: no TPP, no ECCN, status review."""
    rule = rule_in_force(day)
    reasons = [
        f"no dense compute figure is public for {chip.name}: TPP cannot be computed",
        f"review: 3A090 cannot be decided ({chip.sources.get('dense_tops', 'not published')})",
    ]
    if rule is None:
        return _Verdict(None, [FLAG_UNPUBLISHED], reasons, "pre-3A090", STATUS_NOT_CONTROLLED)
    reasons.append(f"rule {rule.version}: {rule.citation}")
    return _Verdict(None, [FLAG_UNPUBLISHED], reasons, rule.version, STATUS_REVIEW)


def classify(item: Chip | Allocation, as_of: date | None = None) -> Classification:
    """Classify a chip or a resolved allocation (the ECCN is per IC; 4A090 for the system)."""
    if isinstance(item, Allocation):
        result = classify_chip(item.chip, as_of, count=item.count)
        if item.kind != "chip":
            kind = item.kind.replace("_", " ")
            source = f" (source: {item.source})" if item.source else ""
            result.reasons.insert(
                0, f"{item.matched!r} ({kind}) = {item.count} x {item.chip.id}{source}"
            )
        return result
    return classify_chip(item, as_of)
