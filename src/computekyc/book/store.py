"""Book revisions in the workflow database: each import is a content-hashed revision, and each
record's content hash says whether it is new, changed, unchanged or removed since the last one.

:func:`plan_import` only reads; :func:`write_import` writes inside the caller's transaction (the
scan's one transaction), so a failed scan leaves the book as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from computekyc.book.content import account_content, customer_content, stored_text
from computekyc.book.reader import Book
from computekyc.book.schema import book_records, book_revisions
from computekyc.workflow.db import utc_now

KINDS = ("customer", "account")


@dataclass(slots=True)
class RecordDelta:
    new: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    unchanged: set[str] = field(default_factory=set)

    @property
    def touched(self) -> set[str]:
        """New or changed: screened against the whole list snapshot."""
        return self.new | self.changed


@dataclass(slots=True)
class BookImport:
    """What importing a book reading does (or did): the revision and the per-record delta."""

    provider: str
    content_hash: str
    previous_revision: int | None
    revision: int | None  # None until written; the previous one when nothing changed
    customers: RecordDelta
    accounts: RecordDelta

    @property
    def changed(self) -> bool:
        return (
            any(d.new or d.changed or d.removed for d in (self.customers, self.accounts))
            or self.previous_revision is None
        )

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.customers.new) + len(self.accounts.new),
            "changed": len(self.customers.changed) + len(self.accounts.changed),
            "removed": len(self.customers.removed) + len(self.accounts.removed),
        }


def latest_revision(connection: Connection, provider: str) -> tuple[int, str] | None:
    row = connection.execute(
        select(book_revisions.c.id, book_revisions.c.content_hash)
        .where(book_revisions.c.provider == provider)
        .order_by(book_revisions.c.id.desc())
        .limit(1)
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def live_hashes(connection: Connection, provider: str, kind: str) -> dict[str, str]:
    rows = connection.execute(
        select(book_records.c.record_id, book_records.c.content_hash).where(
            book_records.c.provider == provider,
            book_records.c.kind == kind,
            book_records.c.removed_revision.is_(None),
        )
    )
    return {str(r[0]): str(r[1]) for r in rows}


def _delta(before: dict[str, str], after: dict[str, str]) -> RecordDelta:
    delta = RecordDelta()
    for key, digest in after.items():
        old = before.get(key)
        if old is None:
            delta.new.add(key)
        elif old != digest:
            delta.changed.add(key)
        else:
            delta.unchanged.add(key)
    delta.removed = {k for k in before if k not in after}
    return delta


def plan_import(
    connection: Connection,
    book: Book,
    imported: tuple[int, str] | None = None,
    content_hash: str | None = None,
) -> BookImport:
    """What importing ``book`` does. ``imported``: (revision, content hash) of a revision this
    reading was written as (the last scan's record): while that is still the latest revision
    with this content hash, the live records are this book's, every one unchanged, and they
    are not read again. ``content_hash``: the book's, when known (kept with its reading)."""
    latest = latest_revision(connection, book.provider)
    content = content_hash if content_hash is not None else book.content_hash
    if imported is not None and latest == imported and imported[1] == content:
        return BookImport(
            provider=book.provider,
            content_hash=content,
            previous_revision=latest[0],
            revision=latest[0],
            customers=RecordDelta(unchanged={c.id for c in book.customers}),
            accounts=RecordDelta(unchanged={a.id for a in book.accounts}),
        )
    customers = {c.id: c.content_hash for c in book.customers}
    accounts = {a.id: a.content_hash for a in book.accounts}
    plan = BookImport(
        provider=book.provider,
        content_hash=content,
        previous_revision=latest[0] if latest else None,
        revision=None,
        customers=_delta(live_hashes(connection, book.provider, "customer"), customers),
        accounts=_delta(live_hashes(connection, book.provider, "account"), accounts),
    )
    if latest is not None and latest[1] == plan.content_hash:
        plan.revision = latest[0]
    return plan


def write_import(connection: Connection, book: Book, plan: BookImport) -> int:
    """Store the revision (nothing when the book is byte-for-byte the latest one)."""
    _fill_missing_content(connection, book)
    if plan.revision is not None:
        return plan.revision
    counts = plan.counts()
    key = connection.execute(
        insert(book_revisions).values(
            provider=book.provider,
            content_hash=plan.content_hash,
            created_at=utc_now(),
            customers=len(book.customers),
            accounts=len(book.accounts),
            **counts,
        )
    ).inserted_primary_key
    assert key is not None
    revision = int(key[0])
    hashes = {
        "customer": {c.id: c.content_hash for c in book.customers},
        "account": {a.id: a.content_hash for a in book.accounts},
    }
    contents = _contents(book, plan)
    for kind, delta in (("customer", plan.customers), ("account", plan.accounts)):
        gone = sorted(delta.changed | delta.removed)
        for start in range(0, len(gone), 500):
            connection.execute(
                update(book_records)
                .where(
                    and_(
                        book_records.c.provider == book.provider,
                        book_records.c.kind == kind,
                        book_records.c.removed_revision.is_(None),
                        book_records.c.record_id.in_(gone[start : start + 500]),
                    )
                )
                .values(removed_revision=revision)
            )
        rows = [
            {
                "provider": book.provider,
                "kind": kind,
                "record_id": record_id,
                "content_hash": hashes[kind][record_id],
                "added_revision": revision,
                "removed_revision": None,
                **contents[kind][record_id],
            }
            for record_id in sorted(delta.new | delta.changed)
        ]
        if rows:
            connection.execute(insert(book_records), rows)
    plan.revision = revision
    return revision


def _contents(book: Book, plan: BookImport) -> dict[str, dict[str, dict[str, str | None]]]:
    """The stored content (and an account's customer) of the new and changed records."""
    customers = plan.customers.touched
    accounts = plan.accounts.touched
    return {
        "customer": {
            c.id: {"content": stored_text(customer_content(c)), "owner_id": None}
            for c in book.customers
            if c.id in customers
        },
        "account": {
            a.id: {"content": stored_text(account_content(a)), "owner_id": a.record.customer_id}
            for a in book.accounts
            if a.id in accounts
        },
    }


def _fill_missing_content(connection: Connection, book: Book) -> None:
    """Live rows stored before record content was kept get it from this reading (the rows
    whose content hash still matches: the content is the same record)."""
    missing = connection.execute(
        select(book_records.c.kind, book_records.c.record_id, book_records.c.content_hash).where(
            book_records.c.provider == book.provider,
            book_records.c.removed_revision.is_(None),
            book_records.c.content.is_(None),
        )
    ).all()
    if not missing:
        return
    customers = {c.id: c for c in book.customers}
    accounts = {a.id: a for a in book.accounts}
    for kind, record_id, digest in missing:
        values: dict[str, str | None]
        customer = customers.get(record_id) if kind == "customer" else None
        account = accounts.get(record_id) if kind == "account" else None
        if customer is not None and customer.content_hash == digest:
            values = {"content": stored_text(customer_content(customer)), "owner_id": None}
        elif account is not None and account.content_hash == digest:
            values = {
                "content": stored_text(account_content(account)),
                "owner_id": account.record.customer_id,
            }
        else:
            continue
        connection.execute(
            update(book_records)
            .where(
                book_records.c.provider == book.provider,
                book_records.c.kind == kind,
                book_records.c.record_id == record_id,
                book_records.c.removed_revision.is_(None),
            )
            .values(**values)
        )
