"""What the last scan of a provider found, kept to answer an unchanged re-scan at once.

A scan's alert drafts are a pure function of its inputs: the bytes of the provider folder
(customers, accounts, usage files), the usage already ingested, the list snapshot, the rules,
the date, the code and data of this package, the IP database and the analyst's own tables.
:func:`scan_inputs` hashes all of them into one fingerprint; after each scan the drafts are
kept under ``$COMPUTEKYC_HOME/scan/`` with that fingerprint and the ids of the scan and book
revision it wrote. A re-scan with the same fingerprint, whose database still has that scan as
the provider's latest, synchronises the alert queue with the kept drafts instead of computing
them again: the same drafts a full scan would raise, found in the time it takes to hash the
inputs. Anything else — one byte of one file, a new snapshot, another day — scans in full.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, cast

from sqlalchemy import select
from sqlalchemy.engine import Connection

import computekyc
from computekyc.alerts import AlertDraft, SubjectKind
from computekyc.book import Book, BookAccount, BookCustomer, provider_name, read_book
from computekyc.book.schema import scans
from computekyc.book.store import latest_revision
from computekyc.brands import FootprintHit
from computekyc.bulk import (
    Prepickled,
    StagedFile,
    read_cache,
    save_pickle,
    stage_pickle,
)
from computekyc.ownership import Customer, Determination, Holder
from computekyc.ownership.model import Status
from computekyc.screening.vocab import extra_alias_path
from computekyc.services.determination import CustomerDetermination, TreeReach
from computekyc.settings import Settings
from computekyc.usage.store import content_hash  # SHA-256 of a file's bytes

MEMO_FORMAT = 1
# Files of the analyst's own that change what a scan finds (aliases, listed firms' footprint).
_HOME_TABLES = ("brand_aliases.csv", "listed_footprint.csv")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 over every source and data file of the installed package: other code or other
    reviewed data may find other things."""
    root = Path(computekyc.__file__).resolve().parent
    digest = hashlib.sha256(str(MEMO_FORMAT).encode())
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class FolderDigest:
    """The provider folder's files by content: customers and accounts, and the usage files."""

    book: tuple[tuple[str, str], ...]  # (file name, SHA-256)
    usage: tuple[str, ...]  # SHA-256 of each usage file, in the folder's order


def folder_digest(book_files: list[Path], usage_files: list[Path]) -> FolderDigest:
    return FolderDigest(
        tuple((p.name, content_hash(p)) for p in book_files),
        tuple(content_hash(p) for p in usage_files),
    )


def scan_inputs(
    settings: Settings,
    provider: str,
    folder: FolderDigest,
    usage_state: list[str],
    list_snapshot: tuple[int, str],
    rules_version: str,
    as_of: date,
    geoip: Any,
) -> str:
    """The fingerprint of everything a scan's drafts depend on (see the module docstring);
    ``usage_state`` names every source the usage store holds (the scan reads all of them)."""
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        for part in parts:
            digest.update(str(part).encode("utf-8") + b"\0")

    add("provider", provider, settings.sqlalchemy_url, code_digest(), rules_version, as_of)
    add("snapshot", *list_snapshot)
    for name, sha in folder.book:
        add(name, sha)
    add("usage files", *folder.usage)
    add("usage store", *usage_state)
    add("geoip", geoip)
    home = settings.ensure_home()
    for name in _HOME_TABLES:
        table = home / name
        add(name, content_hash(table) if table.is_file() else "-")
    aliases = extra_alias_path()  # the screening vocabulary reads $COMPUTEKYC_HOME itself
    add("aliases", content_hash(aliases) if aliases is not None else "-")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class RegisterBase:
    """The screening register a scan kept, as the next scan's register may refer to it (see
    ``stage_register_delta``): the scan whose register file holds the rows, what reading it
    reads, the code that made it and the subjects with a hit in it."""

    scan_id: int
    depth: int  # register files read to read it (1: it holds every row)
    code: str  # code_digest()
    hit_subjects: frozenset[str]  # "customer\tID", "account\tID"


@dataclass(slots=True)
class ScanMemo:
    """A scan's drafts with what it was computed from and what it wrote."""

    provider: str
    fingerprint: str
    scan_id: int
    book_revision: int
    book_hash: str
    snapshot: str
    drafts: list[AlertDraft]
    # The subjects a full re-scan of the same inputs evaluates: live records and the entities.
    scope: dict[SubjectKind, set[str]]
    queries: int
    determinations: int
    format: int = MEMO_FORMAT
    computed_by: int = 0  # the scan that computed the drafts (replays keep it)
    register: RegisterBase | None = None  # the register of the scan (a replay: it replays)


def _path(settings: Settings, provider: str, part: str = "") -> Path:
    """The provider's memo file (``part``: another thing kept of its last scan: ``det``
    determinations, ``usage`` facts, ``book`` reading)."""
    key = hashlib.sha256(f"{settings.sqlalchemy_url}\0{provider}".encode()).hexdigest()[:16]
    return settings.ensure_home() / "scan" / f"{part or 'memo'}-{key}.pickle"


def latest_scan(connection: Connection, provider: str) -> tuple[int, int] | None:
    """(scan id, book revision) of the provider's latest scan."""
    row = connection.execute(
        select(scans.c.id, scans.c.book_revision)
        .where(scans.c.provider == provider)
        .order_by(scans.c.id.desc())
        .limit(1)
    ).first()
    return (int(row[0]), int(row[1])) if row is not None else None


def load_memo(settings: Settings, connection: Connection, provider: str) -> ScanMemo | None:
    """The memo of the provider's last scan while the database still holds that scan and its
    book revision as the latest (else None). Its ``fingerprint`` tells whether it was computed
    from exactly this scan's inputs (then it is replayed); its book revision and content hash
    tell what the book import can trust (see ``plan_import``)."""
    memo = read_cache(_path(settings, provider))
    if not isinstance(memo, ScanMemo) or memo.format != MEMO_FORMAT:
        return None
    if latest_scan(connection, provider) != (memo.scan_id, memo.book_revision):
        return None
    revision = latest_revision(connection, provider)
    if revision is None or revision[0] != memo.book_revision:
        return None
    return memo


def save_memo(settings: Settings, provider: str, memo: ScanMemo) -> None:
    """Keep the memo (atomically replaced; a failure only costs the next scan its shortcut)."""
    save_pickle(_path(settings, provider), memo)


def stage_memo(settings: Settings, provider: str, memo: ScanMemo) -> StagedFile:
    """The memo written under a temporary name: kept once its scan has committed."""
    return stage_pickle(_path(settings, provider), memo)


def forget_memo(settings: Settings, provider: str) -> None:
    _path(settings, provider).unlink(missing_ok=True)


# --------------------------------------------------------------- determinations carried forward


def determination_context(as_of: date, rules_version: str) -> str:
    """What every list-untouched customer's determinations rest on besides its own record and
    chips (see ``untouched_by_lists``): the date, the rules and this code."""
    text = f"{code_digest()}\0{as_of.isoformat()}\0{rules_version}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class KeptDetermination(NamedTuple):
    """A list-untouched customer's determinations as the last scan made them, with their inputs
    besides the scan's context (the record's content hash, the chips it rented) and what of its
    tree the lists could reach: whole when they can raise an alert, else (clear) the worst
    one's verdict — the stored row holds the rules. A named tuple: every scan reads all of
    them back, and a tuple is rebuilt from its pickle without a per-field setter."""

    content_hash: str
    chips: tuple[str, ...]
    reach: TreeReach
    made: int  # determinations made (one per item)
    status: Status
    item: dict[str, Any]
    explanation: str
    rules_version: str
    as_of: date
    whole: CustomerDetermination | None

    def stands(self, content_hash: str, chips: tuple[str, ...]) -> bool:
        """Whether the customer's own inputs are those the kept determinations were made of."""
        return self.content_hash == content_hash and self.chips == chips

    def result(self, customer_id: str, snapshot: str) -> CustomerDetermination:
        """The determinations on ``snapshot`` (the same: no list fact reaches the customer)."""
        if self.whole is not None:
            return CustomerDetermination(
                customer_id,
                [replace(d, snapshot_id=snapshot) for d in self.whole.determinations],
            )
        verdict = Determination(
            customer_id,
            self.status,
            [],
            self.explanation,
            self.item,
            self.as_of,
            self.rules_version,
            snapshot,
        )
        return CustomerDetermination(customer_id, [verdict])


class DeterminationResults(Mapping[str, CustomerDetermination]):
    """A scan's determinations per customer: those it made, and those it carried forward,
    built from the kept ones only when read (most carried customers are clear, and only the
    screening register reads their verdict)."""

    def __init__(
        self,
        carried: Mapping[str, KeptDetermination],
        made: Mapping[str, CustomerDetermination],
        snapshot: str,
    ) -> None:
        self.carried = carried
        self.made = made
        self.snapshot = snapshot

    def __getitem__(self, customer_id: str) -> CustomerDetermination:
        found = self.made.get(customer_id)
        if found is not None:
            return found
        return self.carried[customer_id].result(customer_id, self.snapshot)

    def __iter__(self) -> Iterator[str]:
        yield from self.carried
        yield from (cid for cid in self.made if cid not in self.carried)

    def __len__(self) -> int:
        return len(self.carried) + sum(cid not in self.carried for cid in self.made)

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self.made or customer_id in self.carried

    def not_clear(self) -> int:
        """How many customers' worst determination is not clear."""
        carried = sum(
            k.status != "clear" for cid, k in self.carried.items() if cid not in self.made
        )
        return carried + sum(r.worst.status != "clear" for r in self.made.values())

    def kept_whole(self) -> dict[str, CustomerDetermination]:
        """The determinations made, and the carried ones kept whole: those that can raise an
        alert (a carried one kept as a verdict only is clear with no alerting rule applied,
        and raises nothing — as a customer without a determination)."""
        out = {
            cid: kept.result(cid, self.snapshot)
            for cid, kept in self.carried.items()
            if kept.whole is not None and cid not in self.made
        }
        out.update(self.made)
        return out


def keep_determination(
    content_hash: str,
    chips: tuple[str, ...],
    reach: TreeReach,
    result: CustomerDetermination,
    whole: bool,
    shared: dict[str, Any] | None = None,
) -> KeptDetermination:
    """``shared``: equal items and texts kept once across the customers (the memo is pickled
    and read whole by every scan; most clear verdicts read alike)."""
    worst = result.worst
    item, explanation, rules_version = worst.item, worst.explanation, worst.rules_version
    if shared is not None:
        item = shared.setdefault(json.dumps(item, sort_keys=True, default=str), item)
        explanation = shared.setdefault(explanation, explanation)
        rules_version = shared.setdefault(rules_version, rules_version)
    return KeptDetermination(
        content_hash=content_hash,
        chips=chips,
        reach=reach,
        made=len(result.determinations),
        status=worst.status,
        item=item,
        explanation=explanation,
        rules_version=rules_version,
        as_of=worst.as_of,
        whole=result if whole else None,
    )


@dataclass(slots=True)
class DeterminationMemo:
    """The kept determinations of a provider's last scan (written with it)."""

    provider: str
    scan_id: int
    snapshot: str
    context: str  # determination_context of the scan
    kept: dict[str, KeptDetermination]
    format: int = MEMO_FORMAT


def load_determinations(
    settings: Settings, connection: Connection, provider: str, context: str
) -> DeterminationMemo | None:
    """The kept determinations if they were made in ``context`` and the database still holds
    their scan as the provider's latest, or a replay of it (its stored rows are then those the
    carried determinations stand for); ``scan_id`` then names the scan whose rows they are."""
    memo = read_cache(_path(settings, provider, "det"))
    if not isinstance(memo, DeterminationMemo) or memo.format != MEMO_FORMAT:
        return None
    if getattr(memo, "context", None) != context:  # a memo of older code may lack it
        return None
    latest = latest_scan(connection, provider)
    if latest is None:
        return None
    if latest[0] != memo.scan_id:
        replays = read_cache(_path(settings, provider))
        if not (
            isinstance(replays, ScanMemo)
            and replays.scan_id == latest[0]
            and getattr(replays, "computed_by", 0) == memo.scan_id
        ):
            return None
        memo.scan_id = latest[0]  # the replays carried the stored rows over
    return memo


def stage_determinations_memo(
    settings: Settings,
    provider: str,
    scan_id: int,
    snapshot: str,
    context: str,
    kept: Prepickled,
) -> StagedFile:
    """The determinations memo written under a temporary name: kept once its scan committed.
    ``kept`` is their dict (customer id → ``KeptDetermination``) pickled ahead, while the
    scan's ids were not known yet: the memo reads it back as that dict."""
    table = cast("dict[str, KeptDetermination]", kept)  # unpickled as that very dict
    return stage_pickle(
        _path(settings, provider, "det"),
        DeterminationMemo(provider, scan_id, snapshot, context, table),
    )


# --------------------------------------------------------------- footprint hits of the last scan


@dataclass(slots=True)
class FootprintHits:
    """The footprint table's hits in the provider's own records, per account and customer."""

    accounts: dict[str, list[FootprintHit]] = field(default_factory=dict)
    customers: dict[str, list[FootprintHit]] = field(default_factory=dict)


@dataclass(slots=True)
class _KeptFootprint:
    key: str
    hits: FootprintHits
    format: int = MEMO_FORMAT


def footprint_key(records: str, table: str) -> str:
    """The records matched (a digest of the book and usage texts), the table and this code."""
    text = f"{code_digest()}\0{records}\0{table}"
    return hashlib.sha256(text.encode()).hexdigest()


def load_footprint_hits(settings: Settings, provider: str, key: str) -> FootprintHits | None:
    found = read_cache(_path(settings, provider, "footprint"))
    if isinstance(found, _KeptFootprint) and found.format == MEMO_FORMAT and found.key == key:
        return found.hits
    return None


def save_footprint_hits(settings: Settings, provider: str, key: str, hits: FootprintHits) -> None:
    """Keep the hits (atomically; a failure only costs the next scan its shortcut)."""
    save_pickle(_path(settings, provider, "footprint"), _KeptFootprint(key, hits))


# ------------------------------------------------------------------ usage facts of the last scan


@dataclass(slots=True)
class UsageFacts:
    """What a scan reads from the usage store for the book's accounts as of a date: the
    summary per account, the runs that can have crossed a threshold, hardware the catalogue
    does not know, the footprint texts (resource names, tags, charge descriptions)."""

    key: str
    per_account: dict[str, dict[str, Any]]
    runs: list[Any]
    unknown_hardware: dict[str, list[dict[str, Any]]]
    texts: dict[str, list[tuple[str, str]]]
    format: int = MEMO_FORMAT


def usage_key(usage_state: Sequence[str], accounts: Iterable[str], as_of: date) -> str:
    """The usage store's files (each named by its content hash), the accounts, the date and
    this code: the same key, the same usage facts."""
    digest = hashlib.sha256(f"{code_digest()}\0{as_of.isoformat()}\0".encode())
    digest.update("\0".join(usage_state).encode())
    digest.update(b"\1" + "\0".join(sorted(accounts)).encode())
    return digest.hexdigest()


def load_usage_facts(settings: Settings, provider: str, key: str) -> UsageFacts | None:
    found = read_cache(_path(settings, provider, "usage"))
    if isinstance(found, UsageFacts) and found.format == MEMO_FORMAT and found.key == key:
        return found
    return None


def save_usage_facts(settings: Settings, provider: str, facts: UsageFacts) -> None:
    """Keep the facts, each account's days kept once among equal days: most days of most
    accounts read alike (the same chips, the same hours), and the facts are loaded by every
    scan (their readers only read them)."""
    equal: dict[tuple[Any, ...], Any] = {}
    per_account = {
        account: {**row, "days": [_one_of_equals(day, equal) for day in row["days"]]}
        for account, row in facts.per_account.items()
    }
    save_pickle(_path(settings, provider, "usage"), replace(facts, per_account=per_account))


def _one_of_equals(value: Any, equal: dict[tuple[Any, ...], Any]) -> Any:
    """``value`` (JSON-like: dicts, lists, texts, numbers), or an equal one met before. Equal
    means the same types and the same texts of every number (0.0 and -0.0, 1 and 1.0, True
    and 1 stay apart)."""
    if isinstance(value, dict):
        items = [(key, _one_of_equals(item, equal)) for key, item in value.items()]
        key = ("dict", *((k, _identity(v)) for k, v in items))
        return equal.setdefault(key, dict(items))
    if isinstance(value, list):
        items = [_one_of_equals(item, equal) for item in value]
        return equal.setdefault(("list", *map(_identity, items)), items)
    return value


def _identity(value: Any) -> Any:
    """What tells ``value`` apart from every other: a container shared by
    :func:`_one_of_equals` by its identity, a plain value by its type and text."""
    if isinstance(value, (dict, list)):
        return id(value)
    return (type(value), repr(value))


# ------------------------------------------------------------------- the book as last read


@dataclass(slots=True)
class BookReading:
    """A provider folder's book as read (and checked) by the last scan, with the content
    hashes of the files it was read from."""

    key: str
    book: Book
    content_hash: str  # the book's (Book.content_hash, made once)
    format: int = MEMO_FORMAT


def book_key(folder: FolderDigest, provider: str, path: Path) -> str:
    """The book's files and usage files by content, the folder, and this code."""
    prefix = f"{code_digest()}\0{provider}\0{path.resolve()}\0"
    return _book_files_digest(folder, prefix, "\0".join(folder.usage))


def book_queries_key(folder: FolderDigest, provider: str) -> str:
    """The book's files by content and this code: what the distinct queries a scan asks of
    its book (in order) depend on — not its usage files, which change every day."""
    return _book_files_digest(folder, f"{code_digest()}\0{provider}\0")


def _book_files_digest(folder: FolderDigest, prefix: str, suffix: str = "") -> str:
    """SHA-256 of ``prefix``, the book's files by name and content, then ``suffix``."""
    digest = hashlib.sha256(prefix.encode())
    for name, sha in folder.book:
        digest.update(f"{name}\0{sha}\0".encode())
    digest.update(suffix.encode())
    return digest.hexdigest()


def read_book_once(settings: Settings, provider_dir: Path, folder: FolderDigest) -> BookReading:
    """The provider folder's book: as the last scan read it while its files are byte-for-byte
    the same (the reading is kept under the state folder), else read and checked again."""
    provider = provider_name(provider_dir)
    key = book_key(folder, provider, provider_dir)
    found = read_cache(_path(settings, provider, "book"))
    if isinstance(found, BookReading) and found.format == MEMO_FORMAT and found.key == key:
        return found
    book = read_book(provider_dir)
    reading = BookReading(key, book, book.content_hash)
    save_pickle(_path(settings, provider, "book"), reading, _BOOK_RECORDS)
    return reading


# The book's many small records, pickled as their constructors' arguments: the generic state of
# a slotted dataclass names every field of every record, which made the reading twice as slow
# to load.
_BOOK_RECORDS = (BookCustomer, BookAccount, Customer, Holder)
