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
