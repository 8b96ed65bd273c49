"""Appending to the audit log inside the caller's transaction, and reading it back.

Appenders take the one ``audit_head`` row with ``UPDATE … RETURNING`` as their first step: on
PostgreSQL that row lock makes concurrent transactions wait for each other (the chain can never
fork), on SQLite the same statement takes the database's single write lock. The entry is
committed or rolled back with the change it records.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection

from computekyc.audit.model import (
    GENESIS,
    AuditEntry,
    LoggedEntry,
    chain_hash,
    leaf_hash,
    stored_fields,
)
from computekyc.audit.schema import audit_head, audit_log
from computekyc.exc import StateError
from computekyc.workflow.db import utc_now

SUBJECT_KINDS = ("customer", "account", "entity")


def append(connection: Connection, entry: AuditEntry) -> int:
    """Append one entry in the caller's transaction; its sequence number."""
    return append_many(connection, [entry])[-1]


def append_many(connection: Connection, entries: Sequence[AuditEntry]) -> list[int]:
    """Append entries in order in the caller's transaction; their sequence numbers."""
    if not entries:
        return []
    reserved = connection.execute(
        update(audit_head)
        .where(audit_head.c.id == 1)
        .values(seq=audit_head.c.seq + len(entries))
        .returning(audit_head.c.seq, audit_head.c.chain)
    ).first()
    if reserved is None:
        raise StateError("the audit log has no head row: the workflow database is damaged")
    last_seq, previous = int(reserved.seq), str(reserved.chain)
    seq = last_seq - len(entries)
    now = utc_now()
    rows = []
    for entry in entries:
        seq += 1
        row = stored_fields(entry, seq, entry.at or now)
        leaf = leaf_hash(row)
        previous = chain_hash(previous, leaf)
        row["leaf"] = leaf
        row["chain"] = previous
        rows.append(row)
    connection.execute(insert(audit_log), rows)
    connection.execute(update(audit_head).where(audit_head.c.id == 1).values(chain=previous))
    return [int(row["seq"]) for row in rows]


def read_entries(
    connection: Connection,
    *,
    subject: str | None = None,
    object_kind: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    after_seq: int = 0,
    before_seq: int | None = None,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[LoggedEntry]:
    """Entries after ``after_seq`` (and before ``before_seq``), oldest first or newest first;
    ``subject`` finds the entries about a customer, account or entity (as the subject of a
    change, or as the changed object, e.g. its status override)."""
    query = select(audit_log).where(audit_log.c.seq > after_seq)
    if before_seq is not None:
        query = query.where(audit_log.c.seq < before_seq)
    if subject is not None:
        query = query.where(
            or_(
                audit_log.c.subject_id == subject,
                (audit_log.c.object_kind.in_(SUBJECT_KINDS)) & (audit_log.c.object_id == subject),
            )
        )
    if object_kind is not None:
        query = query.where(audit_log.c.object_kind == object_kind)
    if object_id is not None:
        query = query.where(audit_log.c.object_id == object_id)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    query = query.order_by(audit_log.c.seq.desc() if newest_first else audit_log.c.seq)
    if limit is not None:
        query = query.limit(limit)
    return [LoggedEntry.from_row(row._mapping) for row in connection.execute(query)]


def iter_rows(connection: Connection, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every stored row in sequence order, in batches (keyset paging: constant memory)."""
    last = None
    while True:
        query = select(audit_log).order_by(audit_log.c.seq).limit(batch)
        if last is not None:
            query = query.where(audit_log.c.seq > last)
        rows = [dict(row) for row in connection.execute(query).mappings()]
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]


def rows_about(connection: Connection, objects: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every stored row (all columns, hashes too) about any of the ``(object_kind, object_id)``
    pairs, in sequence order: what an evidence pack carries and a verifier recomputes."""
    if not objects:
        return []
    about = or_(
        *(
            (audit_log.c.object_kind == kind) & (audit_log.c.object_id == oid)
            for kind, oid in objects
        )
    )
    query = select(audit_log).where(about).order_by(audit_log.c.seq)
    return [dict(row) for row in connection.execute(query).mappings()]


def chain_before(connection: Connection, seq: int) -> str:
    """The stored chain value of entry ``seq - 1`` (the genesis value before the first)."""
    if seq <= 1:
        return GENESIS
    value = connection.execute(select(audit_log.c.chain).where(audit_log.c.seq == seq - 1)).scalar()
    if value is None:
        raise StateError(f"audit entry {seq - 1} is missing: run `computekyc audit verify`")
    return str(value)


def leaves_between(connection: Connection, first: int, last: int, batch: int = 5000) -> list[str]:
    """Leaf hashes of entries ``first``..``last`` recomputed from their content (not the stored
    hashes): folded from the chain before ``first`` they reach a checkpoint's head only if no
    entry in between was changed."""
    leaves: list[str] = []
    after = first - 1
    while after < last:
        query = (
            select(audit_log)
            .where(audit_log.c.seq > after, audit_log.c.seq <= last)
            .order_by(audit_log.c.seq)
            .limit(batch)
        )
        rows = [dict(row) for row in connection.execute(query).mappings()]
        if not rows:
            break
        for row in rows:
            if int(row["seq"]) != after + 1:
                raise StateError(
                    f"audit entry {after + 1} is missing: run `computekyc audit verify`"
                )
            leaves.append(leaf_hash(row))
            after += 1
    if after != last:
        raise StateError(f"audit entries {after + 1}..{last} are missing")
    return leaves
