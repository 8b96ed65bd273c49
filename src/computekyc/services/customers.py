"""One customer as the book and the latest scan know it: the record, its determinations per
chip, its accounts, the entities they are linked into (with the evidence), its alerts.

The record is the version live in the provider's latest book revision (content stored by the
book import); determinations are those the provider's latest scan made or carried and stored
(:func:`save_determinations`, called in the scan's transaction; :func:`read_determinations`
reads them as that scan cites them). Nothing is recomputed here:
what is shown is what the scan decided, with its list snapshot and rule versions. Where a piece
is missing (a scan made before determinations were stored), the detail says so instead of
showing an empty list that could read as clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.engine import Connection

from computekyc.alerts.schema import alerts
from computekyc.book.schema import (
    book_entities,
    book_linking,
    book_records,
    book_revisions,
    scan_determinations,
    scans,
)
from computekyc.book.store import latest_revision
from computekyc.bulk import lines_beside
from computekyc.casework import SubjectStatus, subject_statuses
from computekyc.exc import ConflictError, NotFoundError
from computekyc.ownership.model import Status
from computekyc.services.determination import CustomerDetermination
from computekyc.settings import Settings
from computekyc.workflow import open_database

NO_CONTENT = (
    "the record was imported before record content was stored; the next scan of the "
    "provider folder stores it"
)
NO_DETERMINATIONS = (
    "the latest scan made before determinations were stored: run the scan again to see them "
    "(the alerts below are current)"
)


@dataclass(frozen=True, slots=True)
class ChipDetermination:
    """The customer's determination for one chip it rented (H100 when it rented none)."""

    chip: str
    status: Status
    determination: dict[str, Any]  # rules, evidence, list entries, snapshot, rule versions

    def to_dict(self) -> dict[str, Any]:
        return {"chip": self.chip, "status": str(self.status), **self.determination}


@dataclass(frozen=True, slots=True)
class ScanDeterminations:
    scan_id: int
    finished: str
    as_of: str
    snapshot: str
    book_revision: int
    determinations: list[ChipDetermination]

    @property
    def status(self) -> Status | None:
        """The most severe status over the chips (None when the scan stored none)."""
        order = list(Status)
        found = [d.status for d in self.determinations]
        return max(found, key=order.index) if found else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "finished": self.finished,
            "as_of": self.as_of,
            "snapshot": self.snapshot,
            "book_revision": self.book_revision,
            "status": None if self.status is None else str(self.status),
            "determinations": [d.to_dict() for d in self.determinations],
        }


@dataclass(frozen=True, slots=True)
class AccountView:
    account_id: str
    revision: int  # the book revision that added this version
    entity_id: str | None
    record: dict[str, Any] | None  # None: imported before content was stored

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LinkedEntity:
    """An entity the customer's accounts belong to, with every link and its evidence."""

    entity_id: str
    accounts: list[str]
    links: list[dict[str, Any]]  # a, b, probability, evidence
    signals: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AlertRef:
    id: int
    type: str
    severity: str
    status: str
    subject_kind: str
    subject_id: str
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class CustomerDetail:
    provider: str
    customer_id: str
    revision: int  # the provider's latest book revision
    revision_created_at: str
    record_revision: int  # the revision that added the version shown
    removed_revision: int | None  # set when the customer is no longer in the book
    record: dict[str, Any] | None
    scan: ScanDeterminations | None
    accounts: list[AccountView]
    entities: list[LinkedEntity]
    alerts: list[AlertRef]
    subject_status: list[SubjectStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return None if self.record is None else str(self.record.get("name") or "") or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "customer_id": self.customer_id,
            "name": self.name,
            "revision": self.revision,
            "revision_created_at": self.revision_created_at,
            "record_revision": self.record_revision,
            "removed_revision": self.removed_revision,
            "record": self.record,
            "scan": None if self.scan is None else self.scan.to_dict(),
            "accounts": [a.to_dict() for a in self.accounts],
            "entities": [e.to_dict() for e in self.entities],
            "alerts": [a.to_dict() for a in self.alerts],
            "subject_status": [s.to_dict() for s in self.subject_status],
            "notes": self.notes,
        }


# -- written by the scan ---------------------------------------------------------------------
# A provider's stored rows are the determinations of its latest scan, one row per customer of
# its book. A row is written by the scan that made it and stands, untouched, while later scans
# carry it (no list fact reaches the customer and its inputs are the same): its ``scan_id`` names
# the scan that made it, and it is read as citing the snapshot of the provider's latest scan
# (:func:`read_determinations`), exactly as a scan determining the customer again would write it.


def _snapshot_json(snapshot: str) -> str:
    """How a stored determination spells its snapshot (as ``save_determinations`` writes)."""
    return '"snapshot_id":' + json.dumps(snapshot, ensure_ascii=False)


# One encoder for every stored row, writing what ``json.dumps(value, ensure_ascii=False,
# separators=(",", ":"), default=str)`` writes; a determination holds no cycles to look for.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=str, check_circular=False
)


def determinations_json(result: CustomerDetermination) -> str:
    """A customer's determinations as its stored row spells them."""
    return _ENCODER.encode([d.to_dict() for d in result.determinations])


# Below this many customers a forked encoder costs more than it saves.
FORK_MIN = 1000


def encode_determinations(
    determinations: Mapping[str, CustomerDetermination], fork: bool
) -> Callable[[], list[str]]:
    """Start writing the stored text of each customer's determinations, in the mapping's order:
    in a forked process when ``fork`` (the command line) and there are many, while this one
    writes the rest of the scan; the returned call gives the texts."""
    return lines_beside(
        lambda: map(determinations_json, determinations.values()),
        fork and len(determinations) >= FORK_MIN,
    )


def save_determinations(
    connection: Connection,
    scan_id: int,
    provider: str,
    determinations: Mapping[str, CustomerDetermination],
    stale: Iterable[str] | None = None,
    encoded: Callable[[], list[str]] | None = None,
) -> None:
    """Store the scan's determinations (in the scan's transaction); a provider keeps only its
    latest scan's (alerts and the audit log keep the history of what they raised).

    ``stale``: the determinations were made only for customers whose inputs changed, the stored
    rows of the others stand (see above) but those of ``stale`` (customers gone from the book)
    and of ``determinations`` — nothing else is rewritten. None: every row is replaced.

    ``encoded``: the texts of ``determinations`` as :func:`encode_determinations` started them."""
    table = scan_determinations
    if stale is None:
        connection.execute(delete(table).where(table.c.provider == provider))
    else:
        gone = sorted(set(stale) | determinations.keys())
        for start in range(0, len(gone), 500):
            connection.execute(
                delete(table).where(
                    table.c.provider == provider,
                    table.c.customer_id.in_(gone[start : start + 500]),
                )
            )
    texts = encoded() if encoded is not None else []
    if len(texts) != len(determinations):
        texts = [determinations_json(result) for result in determinations.values()]
    rows = [
        {
            "scan_id": scan_id,
            "provider": provider,
            "customer_id": customer_id,
            "determinations": text,
        }
        for customer_id, text in zip(determinations, texts, strict=True)
    ]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(scan_determinations), rows[start : start + 5000])


def _as_of_latest(text: str, snapshot: str, latest: str) -> str:
    """A stored row's text as the provider's latest scan cites it: a row a scan carried names
    the snapshot of the scan that made it (determinations a carrying scan makes are the same but
    for the snapshot they cite: no list fact reaches the customer)."""
    if snapshot == latest:
        return text
    return text.replace(_snapshot_json(snapshot), _snapshot_json(latest))


def read_determinations(
    connection: Connection, provider: str, customers: Sequence[str] | None = None
) -> dict[str, str] | None:
    """The stored text of the determinations of the provider's latest scan, per customer (of
    ``customers``, else all), as that scan cites them; None when the provider has no scan."""
    latest = connection.execute(
        select(scans.c.snapshot)
        .where(scans.c.provider == provider)
        .order_by(scans.c.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    table = scan_determinations
    query = (
        select(table.c.customer_id, table.c.determinations, scans.c.snapshot)
        .join(scans, scans.c.id == table.c.scan_id)
        .where(table.c.provider == provider)
    )
    if customers is None:
        parts = [query]
    else:
        wanted = list(customers)
        parts = [
            query.where(table.c.customer_id.in_(wanted[start : start + 500]))
            for start in range(0, len(wanted), 500)
        ]
    found: dict[str, str] = {}
    for part in parts:
        for customer_id, text, snapshot in connection.execute(part):
            found[str(customer_id)] = _as_of_latest(str(text), str(snapshot), str(latest[0]))
    return found


# -- read by the API and the command line ------------------------------------------------------
def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _customer_row(connection: Connection, customer_id: str, provider: str | None) -> Any:
    """The customer's newest version in its provider's book (live first)."""
    query = select(book_records).where(
        book_records.c.kind == "customer", book_records.c.record_id == customer_id
    )
    if provider is not None:
        query = query.where(book_records.c.provider == provider)
    rows = connection.execute(query).all()
    if not rows:
        where = f" in the book of {provider!r}" if provider is not None else ""
        raise NotFoundError(f"no customer {customer_id!r}{where}")
    providers = sorted({r.provider for r in rows})
    if len(providers) > 1:
        raise ConflictError(
            f"customer {customer_id!r} is in the books of {', '.join(providers)}: name the provider"
        )
    return max(rows, key=lambda r: (r.removed_revision is None, r.added_revision))


def _latest_revision(connection: Connection, provider: str) -> tuple[int, str]:
    latest = latest_revision(connection, provider)
    if latest is None:  # a record row always has its revision
        raise NotFoundError(f"no book revision of {provider!r}")
    created = connection.execute(
        select(book_revisions.c.created_at).where(book_revisions.c.id == latest[0])
    ).scalar_one()
    return latest[0], str(created)


def _latest_scan(
    connection: Connection, provider: str, customer_id: str
) -> tuple[ScanDeterminations | None, bool]:
    """The provider's latest scan with the customer's stored determinations, and whether that
    scan stored determinations at all."""
    scan = connection.execute(
        select(scans).where(scans.c.provider == provider).order_by(scans.c.id.desc()).limit(1)
    ).first()
    if scan is None:
        return None, False
    mine = (read_determinations(connection, provider, [customer_id]) or {}).get(customer_id)
    # Any row of the provider's (made or carried by its latest scan) tells a scan that
    # determined others from one that predates storing.
    stored = mine is not None or (
        connection.execute(
            select(scan_determinations.c.scan_id)
            .where(
                scan_determinations.c.provider == provider,
                scan_determinations.c.scan_id <= scan.id,
            )
            .limit(1)
        ).first()
        is not None
    )
    determinations = [
        ChipDetermination(
            str(d["item"].get("chip_id") or d["item"]["chip"]), Status(d["status"]), d
        )
        for d in (_json(mine) or [])
    ]
    result = ScanDeterminations(
        scan_id=int(scan.id),
        finished=str(scan.finished),
        as_of=str(scan.as_of),
        snapshot=str(scan.snapshot),
        book_revision=int(scan.book_revision),
        determinations=determinations,
    )
    return result, stored


def _accounts(
    connection: Connection, provider: str, customer_id: str
) -> tuple[list[tuple[str, int, dict[str, Any] | None]], dict[str, str]]:
    rows = connection.execute(
        select(book_records.c.record_id, book_records.c.added_revision, book_records.c.content)
        .where(
            book_records.c.provider == provider,
            book_records.c.kind == "account",
            book_records.c.owner_id == customer_id,
            book_records.c.removed_revision.is_(None),
        )
        .order_by(book_records.c.record_id)
    ).all()
    accounts = [(str(r.record_id), int(r.added_revision), _json(r.content)) for r in rows]
    ids = [a for a, _, _ in accounts]
    entity_of: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        for account_id, entity_id in connection.execute(
            select(book_entities.c.account_id, book_entities.c.entity_id).where(
                book_entities.c.provider == provider,
                book_entities.c.account_id.in_(ids[start : start + 500]),
            )
        ):
            entity_of[str(account_id)] = str(entity_id)
    return accounts, entity_of


# The last linking result read per provider: (its input hash, entities by id). The stored result
# is one JSON document for the whole book; it is parsed again only when a scan relinked.
_linking: dict[tuple[str, str], tuple[str, dict[str, dict[str, Any]]]] = {}


def _entities(connection: Connection, provider: str, wanted: set[str]) -> list[LinkedEntity]:
    if not wanted:
        return []
    digest = connection.execute(
        select(book_linking.c.input_hash).where(book_linking.c.provider == provider)
    ).scalar()
    key = (str(connection.engine.url), provider)
    cached = _linking.get(key)
    if cached is None or cached[0] != digest:
        stored = connection.execute(
            select(book_linking.c.input_hash, book_linking.c.entities).where(
                book_linking.c.provider == provider
            )
        ).first()
        by_id = {} if stored is None else {str(e["entity_id"]): e for e in json.loads(stored[1])}
        cached = _linking[key] = ("" if stored is None else str(stored[0]), by_id)
    found = [cached[1][e] for e in sorted(wanted) if e in cached[1]]
    return [
        LinkedEntity(str(e["entity_id"]), list(e["accounts"]), list(e["links"]), list(e["signals"]))
        for e in found
    ]


def _alerts(connection: Connection, subjects: list[tuple[str, str]]) -> list[AlertRef]:
    conditions = [
        and_(alerts.c.subject_kind == kind, alerts.c.subject_id == sid) for kind, sid in subjects
    ]
    rows = connection.execute(
        select(
            alerts.c.id,
            alerts.c.type,
            alerts.c.severity,
            alerts.c.status,
            alerts.c.subject_kind,
            alerts.c.subject_id,
            alerts.c.summary,
        )
        .where(or_(*conditions))
        .order_by(alerts.c.id)
    ).all()
    return [
        AlertRef(int(r.id), r.type, r.severity, r.status, r.subject_kind, r.subject_id, r.summary)
        for r in rows
    ]


def customer_detail(
    settings: Settings, customer_id: str, provider: str | None = None
) -> CustomerDetail:
    """The customer (see the module docstring); :class:`NotFoundError` for an unknown id,
    :class:`ConflictError` when several providers' books hold it and none is named."""
    with open_database(settings).connect() as connection:
        row = _customer_row(connection, customer_id, provider)
        provider = str(row.provider)
        revision, created_at = _latest_revision(connection, provider)
        notes: list[str] = []
        record = _json(row.content)
        if record is None:
            notes.append(NO_CONTENT)
        scan, stored = _latest_scan(connection, provider, customer_id)
        if scan is None:
            notes.append("no scan of this provider yet: no determinations")
        elif not stored:
            notes.append(NO_DETERMINATIONS)
            scan = None
        elif not scan.determinations:
            notes.append(f"scan {scan.scan_id} did not determine this customer")
        accounts, entity_of = _accounts(connection, provider, customer_id)
        entity_ids = set(entity_of.values())
        subjects = [("customer", customer_id)]
        subjects += [("account", a) for a, _, _ in accounts]
        subjects += [("entity", e) for e in sorted(entity_ids)]
        return CustomerDetail(
            provider=provider,
            customer_id=customer_id,
            revision=revision,
            revision_created_at=created_at,
            record_revision=int(row.added_revision),
            removed_revision=None if row.removed_revision is None else int(row.removed_revision),
            record=record,
            scan=scan,
            accounts=[
                AccountView(a, rev, entity_of.get(a), content) for a, rev, content in accounts
            ],
            entities=_entities(connection, provider, entity_ids),
            alerts=_alerts(connection, subjects),
            subject_status=subject_statuses(connection, "customer", customer_id),
            notes=notes,
        )
