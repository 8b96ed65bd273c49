"""What a list snapshot holds (feeds, files, party counts per list), read with plain SQL.

The queries that describe a snapshot are written once, here, in SQL that SQLite and PostgreSQL
both run, over a :data:`Rows` function: :class:`~computekyc.lists.store.ListStore` runs them on
its SQLAlchemy connection, and :func:`read_status` (``computekyc lists status``) runs them on the
default SQLite store through the standard library's ``sqlite3``, read-only, so the quickest
command neither imports SQLAlchemy nor creates or changes the database. The tables themselves
(their DDL) are defined in :mod:`computekyc.lists.store`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from computekyc.settings import database_state_error

# One SQL statement with ``:name`` parameters → its rows (sqlite3 and SQLAlchemy's text() both
# take this parameter style).
Rows = Callable[[str, Mapping[str, Any]], Iterable[Sequence[Any]]]

BUSY_TIMEOUT = 600  # seconds a SQLite reader or load waits for another load to commit


@dataclass(slots=True)
class FileInfo:
    name: str
    format: str
    sha256: str
    rows: int
    parties: int
    problems: int
    bad_rows: int
    path: str = ""


@dataclass(slots=True)
class FeedInfo:
    feed: str
    version_id: int
    loaded_at: str
    rows: int
    parties: int
    source_rows: dict[str, int]
    files: list[FileInfo] = field(default_factory=list)


@dataclass(slots=True)
class SnapshotInfo:
    id: int
    created_at: str
    forced: bool
    parties: int
    feeds: dict[str, FeedInfo] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# "rows" is quoted: a keyword in both dialects (allowed as a name, but not everywhere).
_ACTIVE = "SELECT MAX(id) FROM lists_snapshots"
_ALL = "SELECT id FROM lists_snapshots ORDER BY id"
_BEFORE = "SELECT MAX(id) FROM lists_snapshots WHERE id < :snapshot"
# created_at is an ISO timestamp (UTC): "2026-12-01" sorts after every "2026-11-30T…".
_MADE_BEFORE = "SELECT MAX(id) FROM lists_snapshots WHERE created_at < :end"
_OLDEST = "SELECT MIN(id) FROM lists_snapshots"
_SNAPSHOT = "SELECT created_at, forced FROM lists_snapshots WHERE id = :snapshot"
_FEEDS = (
    'SELECT v.id, v.feed, v.loaded_at, v."rows", v.parties, v.source_rows '
    "FROM lists_snapshot_feeds s JOIN lists_feed_versions v ON v.id = s.feed_version_id "
    "WHERE s.snapshot_id = :snapshot ORDER BY v.feed"
)
_FILES = (
    'SELECT f.feed_version_id, f.name, f.format, f.sha256, f."rows", f.parties, f.problems, '
    "f.bad_rows, f.path "
    "FROM lists_snapshot_feeds s JOIN lists_feed_files f ON f.feed_version_id = s.feed_version_id "
    "WHERE s.snapshot_id = :snapshot ORDER BY f.id"
)
_COUNTS = (
    "SELECT p.source, COUNT(*) FROM lists_snapshot_feeds s "
    "JOIN lists_feed_parties p ON p.feed_version_id = s.feed_version_id "
    "WHERE s.snapshot_id = :snapshot GROUP BY p.source"
)


def _one_id(rows: Rows, sql: str, params: Mapping[str, Any]) -> int | None:
    for (value,) in rows(sql, params):
        return int(value) if value is not None else None
    return None


def active_id(rows: Rows) -> int | None:
    """The active snapshot: the newest one (None before the first load)."""
    return _one_id(rows, _ACTIVE, {})


def snapshot_ids(rows: Rows) -> list[int]:
    """Every snapshot, oldest first."""
    return [int(value) for (value,) in rows(_ALL, {})]


def previous_id(rows: Rows, snapshot_id: int) -> int | None:
    """The snapshot made just before ``snapshot_id`` (None for the first)."""
    return _one_id(rows, _BEFORE, {"snapshot": snapshot_id})


def snapshot_on(rows: Rows, day: date) -> tuple[SnapshotInfo, bool] | None:
    """The snapshot in force at the end of ``day`` (UTC): the newest made on or before it, and
    True. When every snapshot is younger than ``day``: the oldest, and False (the caller says
    so). None when no snapshot exists. Later loads never change the answer for a past day, so
    a determination as of that day can be repeated."""
    end = (day + timedelta(days=1)).isoformat()
    found = _one_id(rows, _MADE_BEFORE, {"end": end})
    if found is not None:
        return snapshot_info(rows, found), True
    oldest = _one_id(rows, _OLDEST, {})
    return (snapshot_info(rows, oldest), False) if oldest is not None else None


def snapshot_info(rows: Rows, snapshot_id: int) -> SnapshotInfo:
    """A snapshot's feeds (by name) and their files (in load order); LookupError if none."""
    found = list(rows(_SNAPSHOT, {"snapshot": snapshot_id}))
    if not found:
        raise LookupError(f"no snapshot {snapshot_id}")
    created_at, forced = found[0]
    info = SnapshotInfo(snapshot_id, str(created_at), bool(forced), 0)
    by_version: dict[int, FeedInfo] = {}
    for version, feed, loaded_at, n_rows, parties, source_rows in rows(
        _FEEDS, {"snapshot": snapshot_id}
    ):
        item = FeedInfo(
            str(feed),
            int(version),
            str(loaded_at),
            int(n_rows),
            int(parties),
            json.loads(source_rows),
        )
        info.feeds[item.feed] = by_version[item.version_id] = item
        info.parties += item.parties
    for version, *values in rows(_FILES, {"snapshot": snapshot_id}):
        name, fmt, sha256, n_rows, parties, problems, bad_rows, path = values
        by_version[int(version)].files.append(
            FileInfo(name, fmt, sha256, n_rows, parties, problems, bad_rows, path)
        )
    return info


def source_counts(rows: Rows, snapshot_id: int) -> dict[str, int]:
    """Parties per source list code in a snapshot, by code."""
    found = rows(_COUNTS, {"snapshot": snapshot_id})
    return dict(sorted((str(source), int(count)) for source, count in found))


@dataclass(frozen=True, slots=True)
class ListStatus:
    """The active snapshot (None before the first load) and its parties per source list."""

    snapshot: SnapshotInfo | None
    sources: dict[str, int]


def status_of(rows: Rows) -> ListStatus:
    active = active_id(rows)
    if active is None:
        return ListStatus(None, {})
    return ListStatus(snapshot_info(rows, active), source_counts(rows, active))


# sqlite:///relative/path and sqlite:////absolute/path (SQLAlchemy's grammar), default driver.
_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?]+)")


def read_status(url: str) -> ListStatus:
    """The status of the list store at ``url``, read-only. A SQLite file is read through the
    standard library (a database not made yet has no snapshot); any other URL (PostgreSQL)
    through the store."""
    match = _SQLITE_FILE.fullmatch(url)
    if match is None or match["path"] == ":memory:":
        from computekyc.lists.store import ListStore

        store = ListStore.open(url)
        try:
            with store.engine.connect() as connection:
                return status_of(store.rows(connection))
        finally:
            store.close()
    path = Path(match["path"])
    if not path.exists() and path.parent.is_dir():
        return ListStatus(None, {})
    try:
        database = sqlite3.connect(
            f"file:{quote(str(path))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT
        )
    except sqlite3.Error as exc:
        raise database_state_error(url, str(exc)) from None
    try:
        database.isolation_level = None  # one explicit read transaction: a consistent view
        database.execute("BEGIN")

        def rows(sql: str, params: Mapping[str, Any]) -> list[Any]:
            return database.execute(sql, dict(params)).fetchall()

        return status_of(rows)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # a database with no list loaded into it yet
            return ListStatus(None, {})
        raise database_state_error(url, str(exc)) from None
    finally:
        database.close()
