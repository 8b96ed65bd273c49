"""What every list parser shares: parse results, problems, refusal, dates and key helpers."""

from __future__ import annotations

import calendar
import csv
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from computekyc.exc import InputError
from computekyc.lists.model import Party

# A file with more than this share of malformed rows is refused whole: it is not the layout we
# think it is, or it is damaged, and loading the rest would silently drop most of a list.
MAX_BAD_SHARE = 0.5


class ListFormatError(InputError, ValueError):
    """A file refused whole: no known layout, unreadable, empty, or mostly malformed."""

    def __init__(
        self, path: str | Path, message: str, line: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message, file=path, line=line, field=field)
        self.path = str(path)
        self.reason = message


@dataclass(frozen=True, slots=True)
class Problem:
    """One malformed row or field, reported and skipped; ``severity`` "note" is not an error."""

    file: str
    line: int | None
    field: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        col = f" [{self.field}]" if self.field else ""
        return f"{where}{col}: {self.message}"


@dataclass(slots=True)
class ParsedFile:
    """One source file read: its layout, content hash, rows and the parties it yields.

    ``feed`` names the logical feed the file belongs to (``csl``, ``ofac-sdn``, ``ofac-cons``,
    ``un``…): loading files of a feed replaces that feed in the next snapshot. OFAC companion
    files (ALT/ADD/COMMENTS) carry no parties of their own: they enrich their primary file's.
    """

    path: str
    format: str
    sha256: str
    rows: int = 0
    parties: list[Party] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    feed: str = ""
    bad_rows: int = 0
    truncated_at: int | None = None  # see mark_truncated: the store refuses it unless forced
    # Rows per source code before any merge (the CSL prints one row per country of an entry).
    source_rows: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.path).name


class Report:
    """Collects a file's problems and counts bad rows, so the whole-file refusal can be decided."""

    def __init__(self, path: str | Path) -> None:
        self.file = str(path)
        self.problems: list[Problem] = []
        self.bad_rows = 0
        self.truncated_at: int | None = None  # the line of an incomplete last record

    def bad(self, line: int | None, field: str | None, message: str) -> None:
        """A row that cannot be used: reported and skipped."""
        self.bad_rows += 1
        self.problems.append(Problem(self.file, line, field, message))

    def warn(self, line: int | None, field: str | None, message: str) -> None:
        """A field that could not be read; the row itself is kept."""
        self.problems.append(Problem(self.file, line, field, message, "warning"))

    def note(self, line: int | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, line, field, message, "note"))

    def check(self, rows: int) -> None:
        if rows == 0 and self.bad_rows == 0:
            return
        if self.bad_rows > MAX_BAD_SHARE * max(rows + self.bad_rows, 1) and self.bad_rows:
            first = "; ".join(str(p) for p in self.problems[:3])
            raise ListFormatError(
                self.file,
                f"refused: {self.bad_rows} of {rows + self.bad_rows} rows are malformed "
                f"(first: {first})",
            )


def csv_records(text: str, report: Report, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) per CSV record: a quoted field may span lines.

    A field over the csv module's limit (128 KiB: a quote left open swallows the rest of the
    file) is refused whole, naming the line the record starts on. A file that ends inside an
    open quote, with no line break, was cut off: ``report.truncated_at`` says where.
    """
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, delimiter=delimiter)
    start = last = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ListFormatError(
                report.file,
                f"unreadable CSV record ({exc}): a quote left open, or a damaged file",
                line=start,
            ) from exc
        last = start
        yield start, row
        start = reader.line_num + 1
    if lines and not text.endswith(("\n", "\r", "\x1a")):
        # The csv module closes a quote left open at the end silently; strict mode does not.
        try:
            list(csv.reader(lines[last - 1 :], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                report.truncated_at = last


TRUNCATED = (
    "the last record is incomplete and the file ends without a line break: "
    "the file looks truncated (an interrupted download?)"
)


def mark_truncated(text: str, report: Report, line: int) -> None:
    """Called when a file's last record is malformed: if the file also ends without a line
    break it was cut off. The reader still yields the complete records (screening may read
    such a file), but the store refuses to load it without ``force``."""
    if text and not text.endswith(("\n", "\r", "\x1a")):
        report.truncated_at = line


def require_columns(
    header: Iterable[str], required: Iterable[str], report: Report, line: int
) -> None:
    """Refuse a file whose header lacks a column the parser reads (a damaged header would
    otherwise read as empty values: a lost end date is a listing wrongly in force, or not)."""
    present = set(header)
    missing = [c for c in required if c not in present]
    if missing:
        raise ListFormatError(
            report.file, f"the header lacks the column(s) {', '.join(missing)}", line=line
        )


def header_records(
    text: str, report: Report, delimiter: str = ",", required: Iterable[str] = ()
) -> list[tuple[int, dict[str, str]]]:
    """Records of a file with a header line, as dicts; a row of the wrong width is reported."""
    records = csv_records(text, report, delimiter)
    start, header = next(records, (1, []))
    header = [c.strip() for c in header]
    require_columns(header, required, report, start)
    out: list[tuple[int, dict[str, str]]] = []
    last_bad = 0
    for line, row in records:
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            report.bad(line, None, f"expected {len(header)} fields, found {len(row)}")
            last_bad = line
            continue
        out.append((line, {k: v.strip() for k, v in zip(header, row, strict=True)}))
    if last_bad and (not out or out[-1][0] < last_bad):
        mark_truncated(text, report, last_bad)
    return out


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def clean(value: str | None) -> str:
    """Trim, and turn OFAC's ``-0-`` placeholder into the empty string."""
    if value is None:
        return ""
    text = value.strip()
    return "" if text == "-0-" else text


def split_multi(value: str | None, sep: str = "; ") -> list[str]:
    return [part.strip() for part in (value or "").split(sep) if part.strip()]


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d %b %Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y/%m/%d",
    "%Y-%m-%dT%H:%M:%S",
)


_YEAR_MONTH = re.compile(r"\d{4}(-\d{2})?")
_DAY_MONTH_YEAR = re.compile(r"[0-9]{1,2} [A-Za-z]{3} [0-9]{4}")
# strptime's %b: the month abbreviations of the process's locale, in any case.
_MONTH_ABBR = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}


def iso_date(text: str | None) -> str | None:
    """ISO date for the many ways the lists print one; ``None`` when empty or unreadable."""
    raw = clean(text)
    if not raw:
        return None
    return _iso_date(raw.rstrip("."))


@lru_cache(maxsize=1 << 16)
def _iso_date(raw: str) -> str | None:
    # A year (or year-month) fits none of the formats: no failed strptime for each of them.
    if _YEAR_MONTH.fullmatch(raw):
        return raw
    if _DAY_MONTH_YEAR.fullmatch(raw):
        # "12 Feb 1961", OFAC's way, read without strptime (slow): the formats before "%d %b
        # %Y" need "-" or "/", so none of them could read it; anything else falls through.
        day, month, year = raw.split(" ")
        number = _MONTH_ABBR.get(month.lower())
        if number is not None:
            try:
                return date(int(year), number, int(day)).isoformat()
            except ValueError:
                pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def today() -> str:
    return date.today().isoformat()


def name_key(*parts: str | None) -> str:
    """A short, stable hash of normalised text: the identity of rows that carry no id."""
    text = "|".join(
        re.sub(r"\s+", " ", unicodedata.normalize("NFKC", p or "").casefold()).strip()
        for p in parts
    )
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def unique_ids(parties: list[Party]) -> None:
    """Suffix repeated party ids (``-2``, ``-3``…) in file order, so every id stays unique."""
    seen: dict[str, int] = {}
    for party in parties:
        count = seen.get(party.party_id, 0) + 1
        seen[party.party_id] = count
        if count > 1:
            party.party_id = f"{party.party_id}-{count}"
