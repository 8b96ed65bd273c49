"""The screening report: one row per screened subject and hit of a scan, as an Excel-friendly
CSV (UTF-8 with a BOM), a real .xlsx workbook with a summary sheet, or Parquet for pipelines
(pure: rows in, bytes out)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from computekyc.exc import OptionError

# The columns, in order, with their Parquet types ("string", "double", "int64").
COLUMNS: tuple[tuple[str, str], ...] = (
    ("scan_id", "int64"),
    ("scan_as_of", "string"),
    ("snapshot", "string"),
    ("subject_kind", "string"),
    ("subject_id", "string"),
    ("subject_name", "string"),
    ("customer_id", "string"),
    ("role", "string"),
    ("screened_name", "string"),
    ("screened_country", "string"),
    ("party_id", "string"),
    ("listed_name", "string"),
    ("matched_name", "string"),
    ("list", "string"),
    ("programs", "string"),
    ("score", "double"),
    ("band", "string"),
    ("listed_on", "string"),
    ("delisted_on", "string"),
    ("alert_ids", "string"),
    ("determination", "string"),
    ("determination_item", "string"),
    ("determination_explanation", "string"),
    ("rules_version", "string"),
)
NAMES = tuple(name for name, _ in COLUMNS)


class ReportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"

    @classmethod
    def parse(cls, value: str) -> ReportFormat:
        try:
            return cls(value.lower())
        except ValueError:
            raise OptionError(f"--format must be csv, xlsx or parquet, not {value!r}") from None

    @property
    def media_type(self) -> str:
        return {
            ReportFormat.CSV: "text/csv; charset=utf-8",
            ReportFormat.XLSX: (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            ),
            ReportFormat.PARQUET: "application/vnd.apache.parquet",
        }[self]


def _cell(value: Any) -> Any:
    return "" if value is None else value


# A cell starting with one of these is read as a formula by spreadsheets: names in a book and on
# the lists are data, never formulas (CSV injection), so such a cell gets a leading apostrophe.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def to_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads every script right), CRLF line ends, a header."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(NAMES)
    for row in rows:
        writer.writerow([_safe_text(_cell(row.get(name))) for name in NAMES])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def summary_of(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """(label, value) lines of the summary sheet."""
    first = rows[0] if rows else {}
    subjects = {(r["subject_kind"], r["subject_id"]) for r in rows}
    with_hits = {(r["subject_kind"], r["subject_id"]) for r in rows if r.get("party_id")}
    lines: list[tuple[str, Any]] = [
        ("scan", first.get("scan_id", "")),
        ("as of", first.get("scan_as_of", "")),
        ("list snapshot", first.get("snapshot", "")),
        ("subjects screened", len(subjects)),
        ("subjects with a hit", len(with_hits)),
        ("hits", sum(1 for r in rows if r.get("party_id"))),
    ]
    bands = Counter(str(r["band"]) for r in rows if r.get("band"))
    lines += [(f"hits: {band}", count) for band, count in sorted(bands.items())]
    lists = Counter(str(r["list"]) for r in rows if r.get("list"))
    lines += [(f"hits on list {name}", count) for name, count in sorted(lists.items())]
    determinations = Counter(
        str(r["determination"])
        for r in {(r["subject_kind"], r["subject_id"]): r for r in rows}.values()
        if r["subject_kind"] == "customer" and r.get("determination")
    )
    lines += [(f"customers {status}", n) for status, n in sorted(determinations.items())]
    return lines


def to_xlsx(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """A workbook: ``summary`` (counts) and ``screening`` (the rows, filterable, header frozen)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "summary"
    summary.append(["computekyc screening report"])
    summary["A1"].font = Font(bold=True)
    for label, value in summary_of(rows):
        summary.append([label, _safe_text(value)])
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 24
    sheet = book.create_sheet("screening")
    sheet.append(list(NAMES))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe_text(row.get(name)) for name in NAMES])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(NAMES))}{max(len(rows) + 1, 1)}"
    for index, name in enumerate(NAMES, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(name) + 4))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_parquet(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Typed columns (score a double, scan id an integer, the rest text), zstd-compressed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"string": pa.string(), "double": pa.float64(), "int64": pa.int64()}
    schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS])
    table = pa.Table.from_pylist([{n: row.get(n) for n in NAMES} for row in rows], schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def render(rows: Sequence[Mapping[str, Any]], fmt: ReportFormat) -> bytes:
    if fmt is ReportFormat.CSV:
        return to_csv(rows)
    if fmt is ReportFormat.XLSX:
        return to_xlsx(rows)
    return to_parquet(rows)
