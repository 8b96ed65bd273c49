"""Read list files: detect the layout from content, parse, and group OFAC companions into feeds.

Public entry points: :func:`read_file`, :func:`read_files`, :func:`read_mirror`,
:func:`parties_from`. Pure: no database, no network.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from computekyc.exc import InputError
from computekyc.lists.formats import csl, dpl, ftm, ofac, tables, un
from computekyc.lists.model import Party
from computekyc.lists.parsing import ListFormatError, ParsedFile, Problem, Report, sha256_file

KNOWN_LAYOUTS = (
    "trade.gov CSL CSV, OFAC SDN/CONS CSV (+ALT/ADD/COMMENTS), BIS DPL TSV, UN consolidated XML, "
    "FollowTheMoney JSON lines, DoD 1260H / FCC Covered List / OpenSanctions source CSV"
)
# Files in a mirror folder that are not lists (licences, notes).
_NOT_LISTS = ("LICENSE", "README", "NOTICE")
_OFAC_COMPANIONS = ("ofac-alt", "ofac-add", "ofac-comments")


# Older OFAC and BIS files are Windows-1252; every other layout is UTF-8 by definition.
_CP1252_FORMATS = ("ofac-prim", "ofac-alt", "ofac-add", "ofac-comments", "bis-dpl")
# Formats that carry no parties of their own (they enrich their primary's).
COMPANION_FORMATS = ("ofac-alt", "ofac-add", "ofac-comments")
# The note on a file given again under another name (the load reads it once).
COPY_NOTE = "has the same content: read once"
# The formats of OFAC files as read (a primary is "ofac-sdn" or "ofac-cons").
OFAC_FORMATS = ("ofac-sdn", "ofac-cons", *COMPANION_FORMATS)


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, path: str | Path, fmt: str) -> str:
    """The text of a file; a byte that is not text in its layout's encoding refuses it whole
    (a silently replaced character would change a name)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = exc
    where = f"byte 0x{data[bad.start]:02x} at offset {bad.start}"
    if fmt in _CP1252_FORMATS:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ListFormatError(
                path,
                f"neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02x})",
                line=_line_at(data, exc.start),
            ) from exc
    raise ListFormatError(
        path,
        f"not UTF-8 text ({where}); this layout ({fmt}) is UTF-8: save the file as UTF-8",
        line=_line_at(data, bad.start),
    )


def detect(path: str | Path, data: bytes | None = None) -> str:
    """The layout of a file, from its content; raises :class:`ListFormatError` if none fits."""
    raw = _read_bytes(Path(path)) if data is None else data
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        raise ListFormatError(
            path, "binary data (a NUL byte), not a text list file", line=_line_at(raw, at)
        )
    # Sniffing only: a character cut at the 64 KiB boundary must not fail the detection.
    text = raw[:65536].decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    if not stripped:
        raise ListFormatError(path, "empty file")
    first_line = stripped.splitlines()[0]
    if stripped.startswith("<"):
        if "<CONSOLIDATED_LIST" in text:
            return "un-xml"
        raise ListFormatError(path, f"XML that is not the UN consolidated list ({KNOWN_LAYOUTS})")
    if stripped.startswith("{") and ftm.matches(first_line):
        return "ftm"
    if "\t" in first_line and dpl.matches(first_line):
        return "bis-dpl"
    lines = stripped.splitlines()[:60]
    try:
        sample = list(csv.reader(io.StringIO("\n".join(lines[:-1] or lines))))
    except csv.Error as exc:
        raise ListFormatError(path, f"not a known list layout ({exc})") from exc
    if sample and csl.matches(sample[0]):
        return "csl"
    if sample and (kind := tables.kind(sample[0])):
        return kind
    records = [r for r in sample if r and not (len(r) == 1 and r[0].strip() in ("\x1a", ""))]
    if kind := ofac.sniff(records[:50]):
        return kind
    raise ListFormatError(path, f"matches no known list layout; expected one of: {KNOWN_LAYOUTS}")


def _read_bytes(path: Path) -> bytes:
    """A list file's bytes; a folder, a missing or unreadable file is a clear input error."""
    if path.is_dir():
        raise ListFormatError(
            path,
            "is a folder, not a list file: load a mirror folder with "
            f"`computekyc lists update --from {path}`",
        )
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ListFormatError(path, "no such file") from exc
    except OSError as exc:
        raise ListFormatError(path, f"cannot read the file: {exc.strerror or exc}") from exc


def _content_hash(path: Path) -> str:
    if path.is_dir() or not path.is_file():
        _read_bytes(path)  # raises the clear error for a folder or a missing file
    try:
        return sha256_file(path)
    except OSError as exc:
        raise ListFormatError(path, f"cannot read the file: {exc.strerror or exc}") from exc


def distinct_files(paths: Iterable[str | Path]) -> tuple[list[Path], dict[str, list[str]]]:
    """The files to read, each content once: a file given twice (or a copy of one) would count
    its parties twice. Returns the kept paths and, per kept path, the paths skipped as copies."""
    kept: list[Path] = []
    first: dict[str, Path] = {}
    copies: dict[str, list[str]] = {}
    for item in paths:
        path = Path(item)
        digest = _content_hash(path)
        if digest in first:
            copies.setdefault(str(first[digest]), []).append(str(path))
            continue
        first[digest] = path
        kept.append(path)
    return kept, copies


def copy_notes(copies: dict[str, list[str]]) -> list[str]:
    """One line per file skipped because its content was given already."""
    return [
        f"{copy}: same content as {Path(kept).name}, read once"
        for kept, skipped in copies.items()
        for copy in skipped
    ]


@dataclass(slots=True)
class _Pending:
    """An OFAC file read but not yet finished: companions must be merged first."""

    parsed: ParsedFile
    text: str
    report: Report
    primary: ofac.Primary | None = None


def _finish(parsed: ParsedFile, report: Report, rows: int) -> ParsedFile:
    report.check(rows)
    if not parsed.parties and parsed.format not in COMPANION_FORMATS:
        # A header-only file (or a UN XML without entries) would become a list of no parties.
        raise ListFormatError(
            parsed.path,
            f"no list entries ({rows} rows, 0 parties): a header-only or empty list is refused; "
            "check the download",
        )
    parsed.rows = rows
    parsed.problems = report.problems
    parsed.bad_rows = report.bad_rows
    parsed.truncated_at = report.truncated_at
    name = parsed.name
    for party in parsed.parties:
        party.source_file = name
    if not parsed.source_rows:
        parsed.source_rows = dict(Counter(p.source for p in parsed.parties))
    return parsed


def _read_one(path: Path) -> ParsedFile | _Pending:
    data = _read_bytes(path)
    fmt = detect(path, data)
    parsed = ParsedFile(path=str(path), format=fmt, sha256=hashlib.sha256(data).hexdigest())
    report = Report(path)
    if fmt == "un-xml":
        parsed.feed = "un"
        parsed.parties, rows = un.parse(data, report)
        return _finish(parsed, report, rows)
    text = _decode(data, path, fmt)
    if fmt == "csl":
        parsed.feed = "csl"
        parsed.parties, rows, parsed.source_rows = csl.parse(text, report)
    elif fmt == "bis-dpl":
        parsed.feed = "bis-dpl"
        parsed.parties, rows = dpl.parse(text, report)
    elif fmt == "ftm":
        parsed.feed = f"ftm:{path.name.split('.')[0]}"
        parsed.parties, rows = ftm.parse(text, report)
    elif fmt in ("dod-1260h", "fcc-covered", "cn-countersanctions", "opensanctions-table"):
        parsed.parties, rows = tables.parse(fmt, text, report)
        sources = sorted({p.programs[0] for p in parsed.parties if p.programs})
        parsed.feed = fmt if fmt != "opensanctions-table" else "os:" + ",".join(sources).lower()
    elif fmt == "ofac-prim":
        primary = ofac.parse_primary(text, report)
        parsed.format = "ofac-cons" if primary.cons else "ofac-sdn"
        parsed.feed = parsed.format
        return _Pending(parsed, text, report, primary)
    else:
        return _Pending(parsed, text, report)
    return _finish(parsed, report, rows)


def _attach(comp: _Pending, primary: _Pending) -> ParsedFile:
    assert primary.primary is not None
    rows = ofac.attach(
        comp.parsed.format, comp.text, comp.report, primary.primary, primary.parsed.name
    )
    comp.parsed.feed = primary.parsed.feed
    return _finish(comp.parsed, comp.report, rows)


def _ents(text: str) -> set[str]:
    return {line.split(",", 1)[0] for line in text.splitlines() if "," in line}


# Given an OFAC feed and the companion formats read with its primary: companion files to add.
CompanionSource = Callable[[str, set[str]], list[Path]]


def _reading_known(
    kept: Sequence[Path], known: Mapping[str, ParsedFile]
) -> list[ParsedFile | _Pending] | None:
    """Each file read, or taken from ``known`` (by content hash) without reading; None when a
    file read joins the feed of a file taken (or any OFAC file is read while an OFAC file is
    taken: a companion goes to the primary it shares most entities with), so that the files
    must all be read for the same outcome."""
    items: list[ParsedFile | _Pending] = []
    taken: list[ParsedFile] = []
    for path in kept:
        hit = known.get(sha256_file(path))
        if hit is None:
            items.append(_read_one(path))
            continue
        problems = [replace(p, file=str(path)) if p.file == hit.path else p for p in hit.problems]
        item = replace(hit, path=str(path), parties=[], problems=problems)
        taken.append(item)
        items.append(item)
    feeds = {item.feed for item in taken}
    ofac_taken = any(item.format in OFAC_FORMATS for item in taken)
    for read in items:
        if isinstance(read, _Pending):
            if ofac_taken or read.parsed.feed in feeds:
                return None
        elif not any(read is t for t in taken) and read.feed in feeds:
            return None
    return items


def read_files(
    paths: Iterable[str | Path],
    more_companions: CompanionSource | None = None,
    known: Mapping[str, ParsedFile] | None = None,
) -> list[ParsedFile]:
    """Read several files; OFAC ALT/ADD/COMMENTS are merged into the primary they belong to.

    A companion belongs to the primary (SDN or CONS_PRIM) read in the same call whose entity
    numbers it shares most; one with no primary is refused (it has no parties of its own).
    ``more_companions`` is asked, per primary, for the companions the call lacks (the store
    answers with the active feed's files); they are read and merged into that primary.
    ``known`` maps content hashes to files read before (their feed, format, rows, problems):
    a file with such content is not read again and comes back with no parties, unless the
    outcome could then differ from reading every file (see :func:`_reading_known`).
    """
    kept, copies = distinct_files(paths)
    ordered = [str(p) for p in kept]
    items = _reading_known(kept, known) if known else None
    if items is None:
        items = [_read_one(path) for path in kept]
    done = [item for item in items if not isinstance(item, _Pending)]
    pending = [item for item in items if isinstance(item, _Pending)]
    primaries = [p for p in pending if p.primary is not None]
    companions = [p for p in pending if p.primary is None]
    # Companion order does not matter: remarks are read only once all are merged.
    for comp in companions:
        ents = _ents(comp.text)
        best = max(
            primaries,
            key=lambda p: len(ents & p.primary.parties.keys()) if p.primary else 0,
            default=None,
        )
        if best is None or best.primary is None:
            raise ListFormatError(
                comp.parsed.path,
                f"OFAC {comp.parsed.format} file needs its primary SDN.CSV or CONS_PRIM.CSV "
                "in the same load",
            )
        done.append(_attach(comp, best))
    for prim in primaries if more_companions is not None else []:
        given = {c.parsed.format for c in companions if c.parsed.feed == prim.parsed.feed}
        for extra in more_companions(prim.parsed.feed, given) if more_companions else []:
            item = _read_one(extra)
            if not isinstance(item, _Pending) or item.primary is not None:
                raise ListFormatError(extra, "is not an OFAC ALT, ADD or COMMENTS file")
            done.append(_attach(item, prim))
    for prim in primaries:
        assert prim.primary is not None
        for party in prim.primary.parties.values():
            ofac.apply_remarks(party)
        prim.parsed.parties = list(prim.primary.parties.values())
        prim.parsed.source_rows = dict(prim.primary.per_source)
        done.append(_finish(prim.parsed, prim.report, prim.primary.rows))
    for item in done:
        for copy in copies.get(item.path, []):
            item.problems.append(Problem(item.name, None, None, f"{copy} {COPY_NOTE}", "note"))
    # Hand files back in the order they were given, whatever the merge order was.
    order = {path: i for i, path in enumerate(ordered)}
    return sorted(done, key=lambda item: order.get(item.path, len(order)))


def read_file(path: str | Path) -> ParsedFile:
    """Read one file alone (an OFAC companion alone yields rows but no parties)."""
    item = _read_one(Path(path))
    if isinstance(item, ParsedFile):
        return item
    if item.primary is not None:
        return read_files([path])[0]
    rows = sum(1 for _ in ofac.rows_of(item.text, item.report))
    return _finish(item.parsed, item.report, rows)


def mirror_files(directory: str | Path) -> list[Path]:
    """The list files of a mirror folder (licences and notes skipped), in a stable order."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError("not a folder (a mirror laid out like csl/, ofac/, un/)", file=root)
    found = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and not p.name.upper().startswith(_NOT_LISTS)
        and p.suffix.lower() != ".md"
    )
    if not found:
        raise InputError("no list files in this folder", file=root)
    return found


def read_mirror(directory: str | Path) -> list[ParsedFile]:
    """Every list file of a folder laid out like ``shared/data/lists`` (OFAC files per feed)."""
    return read_files(mirror_files(directory))


def parties_from(parsed: Iterable[ParsedFile]) -> list[Party]:
    """All parties of several parsed files; a party id seen twice keeps its first reading."""
    seen: set[str] = set()
    out: list[Party] = []
    for item in parsed:
        for party in item.parties:
            if party.party_id not in seen:
                seen.add(party.party_id)
                out.append(party)
    return out


def feeds_of(parsed: Sequence[ParsedFile]) -> dict[str, list[ParsedFile]]:
    feeds: dict[str, list[ParsedFile]] = {}
    for item in parsed:
        feeds.setdefault(item.feed, []).append(item)
    return feeds
