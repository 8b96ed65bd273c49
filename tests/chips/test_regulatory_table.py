"""Every accelerator in regulatory.md's table, classified by formula and checked against it.

The expected TPP, density, bandwidth and status are read from the table in
``shared/docs/regulatory.md`` section 3.4 itself, so the document and the catalogue cannot drift
apart silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from computekyc.chips import (
    FLAG_CONSUMER,
    FLAG_GP10,
    FLAG_IS_INFORMED,
    FLAG_JAN_2026,
    classify,
    get_chip,
)

# The table describes the rules "as of the latest source consulted" (mid-2026).
TABLE_DATE = date(2026, 7, 1)
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Row:
    accelerator: str
    tpp: str
    density: str
    memory: str
    status: str


def _rows(shared: Path) -> list[Row]:
    text = (shared / "docs" / "regulatory.md").read_text(encoding="utf-8")
    section = text[text.index("### 3.4 Accelerator table") :]
    section = section[: section.index("\n## ")]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[0] in ("Accelerator", "") or set(cells[0]) <= {"-"}:
            continue
        rows.append(Row(cells[0], cells[2], cells[4], cells[5], cells[6]))
    return rows


@pytest.fixture(scope="module")
def table(shared: Path) -> list[Row]:
    rows = _rows(shared)
    assert len(rows) >= 20, "regulatory.md 3.4 table not found or reshaped"
    return rows


def _numbers(cell: str) -> list[float]:
    """Numbers in a cell, ignoring parenthetical remarks ("(UNVERIFIED)", "(range …)")."""
    head = re.sub(r"\(.*?\)", "", cell)
    return [float(n.replace(",", "")) for n in NUMBER.findall(head)]


def _assert_close(actual: float, cell: str, what: str, row: Row, exact_tol: float) -> None:
    """Exact cell: within exact_tol (the table rounds); '~': within 3%; 'a–b': within the range."""
    values = _numbers(cell)
    assert values, f"{row.accelerator}: no number in {what} cell {cell!r}"
    if cell.lstrip().startswith("<"):
        assert actual < values[0], f"{row.accelerator}: {what} {actual} not < {values[0]}"
        return
    low, high = min(values[:2]), max(values[:2])
    if "~" in cell or len(values) > 1:
        low, high = low * 0.97, high * 1.03
    else:
        low, high = low * (1 - exact_tol), high * (1 + exact_tol)
    assert low <= actual <= high, f"{row.accelerator}: {what} {actual:.2f} vs table {cell!r}"


def _in_gbps(cell: str) -> str:
    """The memory cell with TB/s figures rewritten in GB/s (the catalogue's unit)."""
    if "TB/s" not in cell:
        return cell
    return NUMBER.sub(lambda m: str(float(m[0].replace(",", "")) * 1000), cell)


def _chip_for(row: Row) -> str:
    # "B200 (HGX)" / "GB300 (per GPU)" / "A100 (SXM/PCIe)": the name before the parenthesis is
    # one of the catalogue's aliases.
    return get_chip(re.sub(r"\(.*?\)", "", row.accelerator).strip()).id


def test_every_table_row_is_catalogued(table: list[Row]) -> None:
    assert len({_chip_for(row) for row in table}) == len(table)


def test_tpp_density_and_bandwidth_match_table(table: list[Row]) -> None:
    for row in table:
        chip = get_chip(_chip_for(row))
        _assert_close(chip.tpp, row.tpp, "TPP", row, exact_tol=0.002)
        if chip.performance_density is not None and _numbers(row.density):
            _assert_close(chip.performance_density, row.density, "PD", row, exact_tol=0.005)
        memory = chip.memory_bandwidth_gbps
        assert memory is not None, f"{chip.id}: no memory bandwidth"
        _assert_close(memory, _in_gbps(row.memory), "memory bandwidth", row, exact_tol=0.03)


def _expected_eccn(status: str) -> str | None:
    if re.search(r"not 3A090", status, re.IGNORECASE):
        return None
    assert ".a" in status, f"status {status!r} names neither .a nor 'not 3A090'"
    return "3A090.a"


def test_classification_matches_table_status(table: list[Row]) -> None:
    for row in table:
        result = classify(get_chip(_chip_for(row)), TABLE_DATE)
        assert result.eccn == _expected_eccn(row.status), (row.accelerator, result.reasons)
        assert result.system_eccn == (result.eccn.replace("3A", "4A") if result.eccn else None)
        status = row.status.lower()
        if "jan 2026" in status:
            assert (FLAG_JAN_2026 in result.flags) == ("exceeds" not in status), row
        if "is-informed" in status or "apr 2025" in status:
            assert FLAG_IS_INFORMED in result.flags, (row.accelerator, result.flags)
        if "consumer" in status or "non-datacenter" in status:
            assert FLAG_CONSUMER in result.flags, (row.accelerator, result.flags)
        if "gp10" in status:
            assert FLAG_GP10 in result.flags, (row.accelerator, result.flags)


def test_since_dates_in_table_hold(table: list[Row]) -> None:
    """'.a since 17 Nov 2023' (H800, A800): caught from that day, not the day before."""
    rows = [row for row in table if "since" in row.status and "2023" in row.status]
    assert {_chip_for(row) for row in rows} >= {"H800", "A800-SXM"}
    for row in rows:
        chip = get_chip(_chip_for(row))
        assert classify(chip, date(2023, 11, 16)).eccn is None
        assert classify(chip, date(2023, 11, 17)).eccn == "3A090.a"


def test_issue_anchor_cases() -> None:
    """The three cases the issue names: H100 TPP 15,831 -> .a; H20 flagged; RTX 4090D not caught."""
    h100 = classify(get_chip("H100 SXM"), TABLE_DATE)
    assert round(h100.tpp) == 15831 and h100.eccn == "3A090.a"
    assert any("15,831" in reason for reason in h100.reasons)
    h20 = classify(get_chip("H20"), TABLE_DATE)
    assert h20.eccn is None and FLAG_IS_INFORMED in h20.flags
    rtx = classify(get_chip("RTX 4090D"), TABLE_DATE)
    assert rtx.eccn is None and FLAG_CONSUMER in rtx.flags
    assert any("Note 2" in reason for reason in rtx.reasons)


@dataclass(frozen=True)
class Sourced:
    """A chip beyond regulatory.md's table, with the datasheet figure its TPP rests on."""

    chip: str
    sparse_or_dense: str  # how the source states the figure
    stated_tops: float  # as stated in the source (sparse figures are twice the dense rate)
    bits: int
    die_mm2: float | None
    memory_gbps: float | None
    status: str  # on TABLE_DATE
    source: str  # a piece of the catalogue's source for the figure


SOURCED = [
    # NVIDIA Blackwell brief, HGX B100: FP4 14 PF sparse -> 7,000 dense x 4 bits.
    Sourced("B100", "sparse", 14000, 4, 1600, 8000, "controlled", "blackwell-architecture"),
    # NVIDIA H200 datasheet, H200 NVL: FP8 3,341 TF sparse.
    Sourced("H200-NVL", "sparse", 3341, 8, 814, 4800, "controlled", "data-center/h200"),
    # NVIDIA H800 PCIe datasheet: FP8 3,026 TF sparse.
    Sourced("H800-PCIe", "sparse", 3026, 8, 814, 2000, "controlled", "h800"),
    # A100 datasheet, 40GB SXM4: INT8 1,248 TOPS sparse; 1,555 GB/s.
    Sourced("A100-SXM-40GB", "sparse", 1248, 8, 826, 1555, "controlled", "a100-datasheet"),
    Sourced("A100-PCIe-40GB", "sparse", 1248, 8, 826, 1555, "controlled", "A100 datasheet"),
    # A800 40GB Active datasheet: INT8 1,247.4 TOPS sparse.
    Sourced(
        "A800-40GB", "sparse", 1247.6, 8, 826, 1555.2, "controlled", "design-visualization/a800"
    ),
    # RTX Blackwell whitepaper: RTX 5090 FP4 3,352 TOPS sparse (consumer, >= 4,800: caught).
    Sourced("RTX-5090", "sparse", 3352, 4, 750, 1792, "controlled", "rtx-blackwell"),
    # RTX 6000 Ada datasheet: FP8 1,457 TF sparse.
    Sourced("RTX-6000-Ada", "sparse", 1457, 8, 608.5, 960, "controlled", "rtx6000-datasheet"),
    # RTX PRO 6000 Server Edition: FP4 4 PF sparse.
    Sourced("RTX-PRO-6000", "sparse", 4000, 4, 750, 1597, "controlled", "rtx-pro-6000"),
    # Google Cloud TPU pages: dense peak per chip (BF16 x 16 bits; INT8 x 8 ties or loses).
    Sourced("TPUv4", "dense", 275, 16, None, 1200, "review", "cloud.google.com/tpu/docs/v4"),
    Sourced("TPUv5e", "dense", 197, 16, None, 819, "review", "cloud.google.com/tpu/docs/v5e"),
    Sourced("TPUv5p", "dense", 459, 16, None, 2765, "controlled", "tpu/docs/v5p"),
    Sourced("TPUv6e", "dense", 918, 16, None, 1640, "controlled", "tpu/docs/v6e"),
    # AWS Neuron architecture pages: TF32 at the BF16 rate, counted at 32 bits.
    Sourced("Trainium", "dense", 190, 32, None, 820, "controlled", "neuron-hardware/trainium"),
    Sourced("Trainium2", "dense", 667, 32, None, 2900, "controlled", "trainium2"),
    Sourced("Inferentia2", "dense", 190, 32, None, 820, "controlled", "inferentia2"),
    # AMD MI355X spec: FP8 5,033.2 TF dense.
    Sourced("MI355X", "dense", 5033.2, 8, None, 8000, "controlled", "instinct/mi350/mi355x"),
    # Intel Gaudi 3 white paper: HL-338 1,835 TF BF16 dense.
    Sourced("Gaudi3-PCIe", "dense", 1835, 16, None, 3700, "controlled", "gaudi-3"),
    # Huawei Hot Chips 31: Ascend 910 256 TF FP16 dense; 456 + 168 mm2 FinFET dies.
    Sourced("Ascend910", "dense", 256, 16, 624, 1200, "controlled", "hotchips.org/hc31"),
    # Huawei Ascend 310: 22 TOPS INT8.
    Sourced("Ascend310", "dense", 22, 8, None, None, "not controlled", "ascend-310"),
]


@pytest.mark.parametrize("row", SOURCED, ids=lambda row: row.chip)
def test_new_chips_match_their_sources(row: Sourced) -> None:
    """TPP = 2 x MacTOPS x bit length, where 2 x MacTOPS is the dense datasheet figure (sparse
    figures halved); PD = TPP / applicable die area; the status on the table's date follows."""
    chip = get_chip(row.chip)
    dense = row.stated_tops / 2 if row.sparse_or_dense == "sparse" else row.stated_tops
    mac_tops = dense / 2
    # Datasheets round each precision on its own (H200 NVL: BF16 1,671 x 16 = 13,368 vs FP8
    # 3,341 x 8 = 13,364 sparse): the TPP is the largest, within that rounding.
    assert chip.tpp == pytest.approx(2 * mac_tops * row.bits, rel=5e-4), row
    if row.die_mm2 is None:
        assert chip.performance_density is None
    else:
        assert chip.performance_density == pytest.approx(chip.tpp / row.die_mm2)
    assert chip.memory_bandwidth_gbps == row.memory_gbps
    result = classify(chip, TABLE_DATE)
    assert result.status == row.status, (row.chip, result.reasons)
    assert (result.eccn == "3A090.a") == (row.status == "controlled")
    assert row.source in chip.sources["dense_tops"]


@pytest.mark.parametrize("chip_id", ["H20E", "L2", "Gaudi3-HL328", "Gaudi3-HL388", "MI308X"])
def test_unpublished_figures_never_clear(chip_id: str) -> None:
    """Chips whose deciding figures are not public say so in the data and classify as review."""
    chip = get_chip(chip_id)
    assert chip.unpublished and all(
        "NOT PUBLIC" in chip.sources[f] or "UNVERIFIED" in chip.sources[f] for f in chip.unpublished
    )
    result = classify(chip, TABLE_DATE)
    assert result.status == "review" and result.eccn is None, result.reasons
    assert any(reason.startswith("review") for reason in result.reasons)


def test_china_gaudi_without_a_compute_figure_has_no_tpp() -> None:
    result = classify(get_chip("HL-328"), TABLE_DATE)
    assert result.tpp is None and not result.tpp_known and result.status == "review"
    assert "no dense compute figure is public" in result.reasons[0]


def test_a100_40gb_is_its_own_card() -> None:
    """The 40GB A100 has HBM2 at 1,555 GB/s; the 80GB card 2,039 GB/s (SXM4)."""
    assert get_chip("A100-SXM4-40GB").memory_bandwidth_gbps == 1555
    assert get_chip("A100-SXM4-80GB").memory_bandwidth_gbps == 2039
    assert get_chip("A100 40GB").id == "A100-SXM-40GB"
    assert get_chip("A100").id == "A100-SXM"
