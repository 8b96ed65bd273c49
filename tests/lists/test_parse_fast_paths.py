"""The parsers' shortcuts read every value of the real lists as the plain path does."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from computekyc.lists.identifiers import _REMARK, from_remark
from computekyc.lists.parsing import _DATE_FORMATS, _YEAR_MONTH, _iso_date


def _remark_items(lists_dir: Path) -> list[str]:
    """Every ``; ``-separated remarks item of the OFAC primaries and comments, as printed."""
    items: list[str] = []
    for name, column in (
        ("sdn.csv", 11),
        ("cons_prim.csv", 11),
        ("sdn_comments.csv", 1),
        ("cons_comments.csv", 1),
    ):
        with open(lists_dir / "ofac" / name, encoding="cp1252", newline="") as handle:
            for row in csv.reader(handle):
                if len(row) > column:
                    items.extend(row[column].split("; "))
    return items


def _plain_date(raw: str) -> str | None:
    if _YEAR_MONTH.fullmatch(raw):
        return raw
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def test_identifiers_in_remarks_as_the_pattern_reads_them(lists_dir: Path) -> None:
    items = _remark_items(lists_dir)
    readings = {raw.strip().rstrip(".").removeprefix("alt. ") for raw in items} | set(items)
    found = 0
    for item in readings:
        match = _REMARK.match(item.strip().rstrip("."))
        ident = from_remark(item)
        assert (ident is None) == (match is None), item
        found += ident is not None
    assert found > 5000  # passports, tax ids, registrations… of the real lists


def test_dates_as_strptime_reads_them(lists_dir: Path) -> None:
    items = _remark_items(lists_dir)
    dates = {
        item.strip().rstrip(".").removeprefix("alt. ")[4:].strip().rstrip(".")
        for item in items
        if item.strip().removeprefix("alt. ").startswith("DOB ")
    }
    assert len(dates) > 3000
    odd = {"30 Feb 1961", "00 Jan 1961", "1 jan 1961", "12 FEB 1961", "12 Fxb 1961", "31 Apr 2000"}
    odd |= {
        "29 Feb 2000",
        "29 Feb 1900",
        "7 Sep 0000",
        "12 Sept 1961",
        "12 May 19611",
        "٣ Jan 1961",
    }
    for raw in sorted(dates | odd):
        assert _iso_date(raw) == _plain_date(raw), raw
