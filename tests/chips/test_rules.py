"""The 3A090 formulas and the dated licence triggers, exercised on catalogue chips."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from computekyc.chips import (
    FLAG_CONSUMER,
    FLAG_GAIN_AI,
    FLAG_IS_INFORMED,
    FLAG_JAN_2026,
    FLAG_PD_UNKNOWN,
    PRECISION_BITS,
    catalogue,
    classify,
    get_chip,
    resolve,
    rule_in_force,
)
from computekyc.chips.catalogue import parse_chip
from computekyc.chips.rules import PD_A, PD_B_DENSE, PD_B_LOW, TPP_A, TPP_A_DENSE, TPP_B_LOW

LATER = date(2026, 7, 1)


def test_tpp_is_max_of_dense_tops_times_bits() -> None:
    for chip in catalogue().values():
        if not chip.tpp_known:
            # Only a chip whose data says its compute figures are not public may lack them.
            assert "dense_tops" in chip.unpublished and chip.tpp == 0.0, chip.id
            continue
        expected = max(value * PRECISION_BITS[p] for p, value in chip.dense_tops.items())
        assert chip.tpp == pytest.approx(expected)
        assert chip.tpp == chip.dense_tops[chip.tpp_precision] * chip.bit_length_for_tpp
        if chip.die_area_mm2:
            assert chip.performance_density == pytest.approx(chip.tpp / chip.die_area_mm2)


def _expected_eccn(tpp: float, pd: float | None, datacenter: bool) -> str | None:
    """The 2023 parameters, written independently of the implementation's branch order."""
    if not datacenter and tpp < TPP_A:
        return None
    if tpp >= TPP_A or (pd is not None and tpp >= TPP_A_DENSE and pd >= PD_A):
        return "3A090.a"
    if pd is None:
        return None
    band_1 = TPP_B_LOW <= tpp < TPP_A and PD_B_LOW <= pd < PD_A
    band_2 = tpp >= TPP_A_DENSE and PD_B_DENSE <= pd < PD_A
    return "3A090.b" if band_1 or band_2 else None


def test_every_chip_classified_by_formula() -> None:
    for chip in catalogue().values():
        result = classify(chip, LATER)
        expected = _expected_eccn(chip.tpp, chip.performance_density, chip.datacenter)
        assert result.eccn == expected, (chip.id, result.reasons)
        assert result.rule_version == "3A090-2023"


def test_l40_lands_in_3a090_b() -> None:
    """L40: TPP 2,896 and PD 4.76 sit in the first .b band (2400-4800, 1.6-5.92)."""
    result = classify(get_chip("L40"), LATER)
    assert result.eccn == "3A090.b" and result.system_eccn == "4A090.b"
    assert any(reason.startswith("3A090.b") for reason in result.reasons)


def _variant(base: str, **changes: Any) -> dict[str, Any]:
    chip = get_chip(base)
    raw: dict[str, Any] = {
        "vendor": chip.vendor,
        "name": chip.name,
        "datacenter": chip.datacenter,
        "dense_tops": dict(chip.dense_tops),
        "die_area_mm2": chip.die_area_mm2,
        "memory_bandwidth_gbps": chip.memory_bandwidth_gbps,
        "interconnect_bandwidth_gbps": chip.interconnect_bandwidth_gbps,
        "sources": dict(chip.sources),
    }
    raw.update(changes)
    return raw


def test_second_b_band_and_unknown_die_area() -> None:
    # L20 with its die area shrunk to 500 mm2: TPP 1,914 < 2,400 but PD 3.83 >= 3.2 -> .b.
    shrunk = parse_chip("L20-small-die", _variant("L20", die_area_mm2=500))
    assert shrunk.tpp < TPP_B_LOW and PD_B_DENSE <= (shrunk.performance_density or 0) < PD_A
    assert classify(shrunk, LATER).eccn == "3A090.b"
    # Same chip without a die area: density-dependent band, so it cannot be decided -> flagged.
    unknown = parse_chip("L20-no-die", _variant("L20", die_area_mm2=None))
    result = classify(unknown, LATER)
    assert result.eccn is None and FLAG_PD_UNKNOWN in result.flags


def test_rule_versions_by_date() -> None:
    assert rule_in_force(date(2022, 10, 6)) is None
    assert rule_in_force(date(2022, 10, 7)).version == "3A090-2022"  # type: ignore[union-attr]
    assert rule_in_force(date(2023, 11, 17)).version == "3A090-2023"  # type: ignore[union-attr]
    before = classify(get_chip("A100"), date(2022, 1, 1))
    assert before.eccn is None and before.rule_version == "pre-3A090"


def test_2022_text_needs_600_gbps_io() -> None:
    """Oct 2022: A100 (NVLink 600 GB/s) caught; A800/H800 (400 GB/s) designed to escape."""
    day = date(2023, 6, 1)
    assert classify(get_chip("A100"), day).eccn == "3A090.a"
    for name in ("A800", "H800"):
        result = classify(get_chip(name), day)
        assert result.eccn is None and result.rule_version == "3A090-2022"
        assert any("400 GB/s" in reason for reason in result.reasons)


def test_is_informed_starts_9_april_2025() -> None:
    h20 = get_chip("H20")
    assert FLAG_IS_INFORMED not in classify(h20, date(2025, 4, 8)).flags
    assert FLAG_IS_INFORMED in classify(h20, date(2025, 4, 9)).flags
    # L20 has neither the H20's memory nor its interconnect bandwidth.
    assert FLAG_IS_INFORMED not in classify(get_chip("L20"), LATER).flags
    assert FLAG_GAIN_AI in classify(h20, LATER).flags


def test_jan_2026_band() -> None:
    h200, mi325x, b200 = get_chip("H200"), get_chip("MI325X"), get_chip("B200")
    assert FLAG_JAN_2026 not in classify(h200, date(2026, 1, 14)).flags
    assert FLAG_JAN_2026 in classify(h200, date(2026, 1, 15)).flags
    assert FLAG_JAN_2026 in classify(mi325x, LATER).flags  # 6,000 GB/s < 6,500
    assert FLAG_JAN_2026 not in classify(b200, LATER).flags  # TPP 36,000 >= 21,000
    # Not 3A090 at all: the case-by-case band does not apply.
    assert FLAG_JAN_2026 not in classify(get_chip("H20"), LATER).flags


def test_consumer_note_both_sides_of_4800() -> None:
    rtx = classify(get_chip("RTX 4090"), LATER)
    assert rtx.eccn == "3A090.a" and FLAG_CONSUMER in rtx.flags
    assert any("NAC" in reason for reason in rtx.reasons)
    # The same silicon marketed for datacenters would be caught on density alone.
    dc = parse_chip("4090D-dc", _variant("RTX-4090D", datacenter=True))
    assert classify(dc, LATER).eccn == "3A090.a"


def test_allocation_classification_keeps_count() -> None:
    result = classify(resolve("p5.48xlarge"), LATER)
    assert result.count == 8 and result.eccn == "3A090.a" and result.system_eccn == "4A090.a"
    assert "p5.48xlarge" in result.reasons[0]


def test_accounting_units() -> None:
    h100 = get_chip("H100-SXM")
    assert h100.h100_equivalents == pytest.approx(1.0)
    assert h100.peak_ops_per_second() == pytest.approx(989.4e12)
    assert h100.peak_ops_per_second("fp8") == pytest.approx(1978.9e12)
    assert get_chip("B200").h100_equivalents == pytest.approx(2250 / 989.4)
    # Pre-BF16 chips account in FP16.
    assert get_chip("V100").peak_ops_per_second("bf16") == pytest.approx(125e12)
    with pytest.raises(ValueError, match="no dense fp4"):
        h100.peak_ops_per_second("fp4")
