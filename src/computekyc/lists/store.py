"""The versioned list store: snapshots of feeds, party content deduplicated by hash.

SQLAlchemy Core; SQLite by default (``Settings.sqlalchemy_url``), any SQLAlchemy URL
(PostgreSQL) works: only portable SQL is used. Values read from list files (party ids, file
names, field names) are ``Text``: SQLite never enforced a ``VARCHAR(n)``, so on PostgreSQL a
width would turn a file SQLite accepts into a failed load. On PostgreSQL, loads also take a
transaction-level advisory lock: each load reads the active snapshot and writes the next, so two
concurrent loaders must not build on the same base (the later would drop the earlier's feeds).
On SQLite the same holds through ``BEGIN IMMEDIATE``: a load takes the write lock before it reads
the active snapshot (Python's sqlite3 would otherwise read outside any transaction), and waits
up to :data:`BUSY_TIMEOUT` seconds for another load to finish.
Ids come from the database: on PostgreSQL a rolled-back load leaves a gap in the ids
(sequences are not transactional) where SQLite reuses them.

Model. A *feed* is one logical source (``csl``, ``ofac-sdn`` = SDN+ALT+ADD+COMMENTS,
``ofac-cons``, ``un``, ``dod-1260h``…). Each distinct content of a feed is stored once as a
*feed version* (keyed by the hashes of its files). A *snapshot* is a set of feed versions: a
load replaces the feeds it brings and carries the others over. The active snapshot is the
newest. Party JSON is stored once per content hash, so a snapshot that changes one list costs
only that list's changed parties.

Safety. Everything a load writes happens in one transaction, after parsing and checks: a file
refused, a drop refused or an error leaves the active snapshot as it was. Loading content that
is already active creates nothing. A load in which a source list loses more than 20% of its
parties or of its aliases is refused unless ``force=True``. A file given twice is read once. An
OFAC primary (SDN.CSV, CONS_PRIM.CSV) given without companions the active feed has (ALT, ADD,
COMMENTS) is merged with those files when they are still at their recorded path with the same
content, and refused otherwise: the feed would silently lose its aliases and addresses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.dml import Insert

from computekyc.exc import StateError
from computekyc.lists.diff import ListDiff, PartyRef, compare
from computekyc.lists.model import Address, Alias, Identifier, ParentRef, Party
from computekyc.lists.parsing import TRUNCATED, ListFormatError, ParsedFile, Problem, sha256_file
from computekyc.lists.reader import (
    COMPANION_FORMATS,
    COPY_NOTE,
    OFAC_FORMATS,
    copy_notes,
    distinct_files,
    feeds_of,
    mirror_files,
    parties_from,
    read_files,
)
from computekyc.lists.snapshots import (
    BUSY_TIMEOUT,
    FeedInfo,
    FileInfo,
    Rows,
    SnapshotInfo,
    active_id,
    previous_id,
    snapshot_ids,
    snapshot_info,
    snapshot_on,
    source_counts,
)
from computekyc.settings import database_errors

MAX_DROP = 0.20  # a source list may lose at most this share of its parties without force
_CHUNK = 500
_LOAD_LOCK = 0x636B6C73  # "ckls": the PostgreSQL advisory lock key of list loads
_WRITE = "computekyc_lists_write"  # execution option: this transaction writes (BEGIN IMMEDIATE)

metadata = MetaData()
blobs = Table(
    "lists_party_blobs",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("body", Text, nullable=False),
)
feed_versions = Table(
    "lists_feed_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(100), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("loaded_at", String(40), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("parties", Integer, nullable=False),
    Column("source_rows", Text, nullable=False),  # JSON {code: rows}
    UniqueConstraint("feed", "fingerprint", name="uq_lists_feed_fingerprint"),
)
feed_files = Table(
    "lists_feed_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_version_id", Integer, ForeignKey("lists_feed_versions.id"), index=True),
    Column("path", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("parties", Integer, nullable=False),
    Column("problems", Integer, nullable=False),
    Column("bad_rows", Integer, nullable=False),
)
feed_problems = Table(
    "lists_feed_problems",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_version_id", Integer, ForeignKey("lists_feed_versions.id"), index=True),
    Column("file", Text, nullable=False),
    Column("line", Integer),
    Column("field", Text),
    Column("message", Text, nullable=False),
    Column("severity", String(10), nullable=False),
)
feed_parties = Table(
    "lists_feed_parties",
    metadata,
    Column("feed_version_id", Integer, ForeignKey("lists_feed_versions.id"), primary_key=True),
    Column("party_id", Text, primary_key=True),
    Column("source", Text, nullable=False),
    Column("content_hash", String(64), ForeignKey("lists_party_blobs.content_hash")),
    Column("source_file", Text),
    Column("source_line", Integer),
)
snapshots = Table(
    "lists_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", String(40), nullable=False),
    Column("forced", Integer, nullable=False, default=0),
    Column("note", Text),
)
snapshot_feeds = Table(
    "lists_snapshot_feeds",
    metadata,
    Column("snapshot_id", Integer, ForeignKey("lists_snapshots.id"), primary_key=True),
    Column("feed", String(100), primary_key=True),
    Column("feed_version_id", Integer, ForeignKey("lists_feed_versions.id"), nullable=False),
)


class StoreError(StateError, RuntimeError):
    """A load the store refused; nothing was changed."""


class DropRefused(StoreError):
    """``drops`` maps a list code (parties) or ``"<code> aliases"`` to (before, after)."""

    def __init__(self, drops: dict[str, tuple[int, int]]) -> None:
        detail = ", ".join(
            f"{code} {old} → {new} (-{(old - new) / old:.0%})" for code, (old, new) in drops.items()
        )
        super().__init__(
            f"refused: the new files drop more than {MAX_DROP:.0%} of a list's parties or "
            f"aliases: {detail}. Check the files; use --force (force=True) if the drop is real."
        )
        self.drops = drops


class PartialFeedRefused(StoreError):
    """An OFAC primary given without companion files its active feed has."""


@dataclass(slots=True)
class LoadResult:
    snapshot: SnapshotInfo
    created: bool  # False: the content was already active, nothing was written
    feeds_changed: list[str]
    feeds_unchanged: list[str]
    files: list[ParsedFile]
    # What the load did beyond the files given: copies read once, companions merged.
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def fingerprint(files: Sequence[ParsedFile]) -> str:
    """A feed's content identity: the hashes of its files, whatever they are called."""
    return hashlib.sha256("\n".join(sorted(f.sha256 for f in files)).encode()).hexdigest()


_PARTY_FIELDS = [f.name for f in fields(Party) if f.name not in ("source_file", "source_line")]


_NESTED_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in (Alias, Address, Identifier, ParentRef)
}


def _content(party: Party) -> dict[str, Any]:
    """``party.content()`` without empty fields, built directly (``asdict`` deep-copies and
    was three quarters of the load time). Empty fields come back as defaults on read."""
    out: dict[str, Any] = {}
    for name in _PARTY_FIELDS:
        value = getattr(party, name)
        if value is None or value == "" or value == [] or value == {}:
            continue
        if name == "type":
            value = str(value)
        elif isinstance(value, list) and type(value[0]) in _NESTED_FIELDS:
            value = [
                {k: v for k in _NESTED_FIELDS[type(item)] if (v := getattr(item, k)) is not None}
                for item in value
            ]
        out[name] = value
    return out


def _insert_id(conn: Connection, statement: Insert) -> int:
    key = conn.execute(statement).inserted_primary_key
    if key is None:
        raise StoreError("the database returned no id for a new row")
    return int(key[0])


def _serialise(conn: Connection) -> None:
    """On PostgreSQL, wait until no other transaction loads lists (or creates the schema);
    the lock is released at commit or rollback. On SQLite the transaction began with
    ``BEGIN IMMEDIATE`` (:func:`_sqlite_transactions`): it holds the write lock already."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_LOAD_LOCK)))


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not Python's sqlite3, begin SQLite transactions (sqlite3 runs SELECTs
    outside any transaction), and begin writing ones with ``BEGIN IMMEDIATE`` so a load holds
    the write lock from before it reads the active snapshot. Readers use a plain ``BEGIN``."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _begin):
        return
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _begin)
    engine.dispose()  # connections opened before the listeners would keep sqlite3's own mode


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit: SQLAlchemy emits BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT * 1000}")
    cursor.close()


def _begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _lacking(current: FeedInfo | None, given: set[str]) -> list[FileInfo]:
    """The companion files (ALT, ADD, COMMENTS) of an active feed that a load does not bring."""
    if current is None:
        return []
    return [f for f in current.files if f.format in COMPANION_FORMATS and f.format not in given]


def _partial_feeds(
    active: SnapshotInfo, incoming: dict[str, list[ParsedFile]]
) -> dict[str, list[FileInfo]]:
    """Per incoming feed, the companion files its active version has and the load lacks."""
    out: dict[str, list[FileInfo]] = {}
    for feed, files in incoming.items():
        if missing := _lacking(active.feeds.get(feed), {f.format for f in files}):
            out[feed] = missing
    return out


def _active_companions(
    active: SnapshotInfo | None, feed: str, given: set[str], force: bool, notes: list[str]
) -> list[Path]:
    """The companion files of the active ``feed`` that a load lacks, still at their recorded
    path with the same content; a note per file. One that cannot be found refuses the load
    (its aliases, addresses or remarks would be lost) unless forced."""
    current = active.feeds.get(feed) if active is not None else None
    found: list[Path] = []
    lost: list[str] = []
    for item in _lacking(current, given):
        assert current is not None
        path = Path(item.path)
        if path.is_file() and sha256_file(path) == item.sha256:
            found.append(path)
            notes.append(
                f"{feed}: merged {item.name} ({item.format}) from the active feed version "
                f"{current.version_id}: {path}"
            )
        else:
            lost.append(f"{item.name} ({item.format}, was {item.path})")
    if lost and not force:
        raise PartialFeedRefused(
            f"refused: the {feed} files given lack {', '.join(lost)}, which the active {feed} "
            "feed has and which is no longer at that path with the same content; its aliases, "
            "addresses or remarks would be lost. Give the feed's files together (sdn.csv "
            "alt.csv add.csv sdn_comments.csv, or the cons_* files); use --force (force=True) "
            "to load it without them."
        )
    notes += [f"{feed}: loaded without {name} (forced)" for name in lost]
    return found


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class ListStore:
    """Snapshots of restricted-party lists in a SQL database."""

    def __init__(
        self, engine: Engine, on_load: Callable[[Connection, LoadResult], None] | None = None
    ) -> None:
        self.engine = engine
        # Called in the load's own transaction when a snapshot is made (the audit trail).
        self.on_load = on_load
        _sqlite_transactions(engine)
        with self._writing() as conn:  # two processes opening a new database at once
            metadata.create_all(conn)

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One writing transaction, serialised with every other load of the store."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    _serialise(conn)
                    yield conn
        except OperationalError as exc:
            if "locked" in str(exc.orig) or "busy" in str(exc.orig):
                raise StoreError(
                    f"the list store is busy: another load held it for over {BUSY_TIMEOUT} s; "
                    "nothing was changed, try again"
                ) from exc
            raise

    @classmethod
    def open(cls, url: str) -> ListStore:
        """The store in the database at ``url`` (its own engine, disposed by :meth:`close`)."""
        with database_errors(url):  # bad URL, missing driver, unreachable server: exit 3
            return cls(create_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    # ---- loading -------------------------------------------------------------------------

    def load_mirror(
        self, directory: str | Path, force: bool = False, reuse_unchanged: bool = False
    ) -> LoadResult:
        return self.load_files(
            mirror_files(directory), force=force, reuse_unchanged=reuse_unchanged
        )

    def load_files(
        self, paths: Iterable[str | Path], force: bool = False, reuse_unchanged: bool = False
    ) -> LoadResult:
        """Parse files and make them the active content of their feeds (one new snapshot).

        A file given twice is read once; an OFAC primary given without the companions its
        active feed has gets them merged back (see the module notes); ``notes`` says so.
        ``reuse_unchanged``: the files of a feed whose active version has exactly these
        contents are not parsed again (the snapshot made is the same); they come back in
        ``files`` with their stored rows and problems but no parties."""
        files, copies = distinct_files(paths)
        notes = copy_notes(copies)
        unchanged = self._already_active(files)
        if unchanged is not None:
            unchanged.notes = notes
            return unchanged
        active = self.active_snapshot()
        merged: list[str] = []

        def companions(feed: str, given: set[str]) -> list[Path]:
            return _active_companions(active, feed, given, force, merged)

        known = self._unchanged_files(active, files) if reuse_unchanged and active else None
        # raises ListFormatError (or PartialFeedRefused) before anything is written
        parsed = read_files(files, more_companions=companions, known=known)
        result = self.load_parsed(parsed, force=force)
        result.notes = notes + merged + result.notes
        return result

    def _unchanged_files(self, active: SnapshotInfo, paths: list[Path]) -> dict[str, ParsedFile]:
        """By content hash, the files of the active feeds that ``paths`` bring whole, as they
        were read (feed, format, rows, problems; no parties). OFAC feeds only when every
        active OFAC feed is brought whole: a companion read goes to the primary it shares most
        entities with, which may be any OFAC feed's."""
        hashes = {sha256_file(p) for p in paths}
        feeds_of_hash: dict[str, set[str]] = {}
        for feed in active.feeds.values():
            for item in feed.files:
                feeds_of_hash.setdefault(item.sha256, set()).add(feed.feed)

        def whole(feed: FeedInfo) -> bool:
            return all(f.sha256 in hashes and len(feeds_of_hash[f.sha256]) == 1 for f in feed.files)

        kept = {name: feed for name, feed in active.feeds.items() if feed.files and whole(feed)}
        ofac = [
            name
            for name, feed in active.feeds.items()
            if any(item.format in OFAC_FORMATS for item in feed.files)
        ]
        if any(name not in kept for name in ofac):
            for name in ofac:
                kept.pop(name, None)
        if not kept:
            return {}
        problems: dict[tuple[int, str], list[Problem]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(feed_problems)
                .where(feed_problems.c.feed_version_id.in_([f.version_id for f in kept.values()]))
                .order_by(feed_problems.c.id)
            )
            for r in rows:
                if r.severity == "note" and r.message.endswith(COPY_NOTE):
                    continue  # a copy given in that load: read_files notes this load's copies
                problem = Problem(r.file, r.line, r.field, r.message, r.severity)
                problems.setdefault((int(r.feed_version_id), r.file), []).append(problem)
        out: dict[str, ParsedFile] = {}
        for feed in kept.values():
            for item in feed.files:
                out[item.sha256] = ParsedFile(
                    path=item.path,
                    format=item.format,
                    sha256=item.sha256,
                    rows=item.rows,
                    problems=problems.get((feed.version_id, item.path), []),
                    feed=feed.feed,
                    bad_rows=item.bad_rows,
                )
        return out

    def _already_active(self, paths: list[Path]) -> LoadResult | None:
        """Skip parsing when the files are byte for byte whole feeds of the active snapshot."""
        hashes = {sha256_file(p) for p in paths}
        with self.engine.connect() as conn:
            active = self._active_id(conn)
            if active is None:
                return None
            info = self._info(conn, active)
        touched = [
            feed for feed in info.feeds.values() if any(f.sha256 in hashes for f in feed.files)
        ]
        covered = {f.sha256 for feed in touched for f in feed.files}
        if not touched or covered != hashes:
            return None
        return LoadResult(info, False, [], sorted(f.feed for f in touched), [])

    def load_parsed(self, parsed: Sequence[ParsedFile], force: bool = False) -> LoadResult:
        feeds = feeds_of(parsed)
        if not feeds:
            raise StoreError("no list files given")
        with self._writing() as conn:
            active = self._active_id(conn)
            current = self._feed_map(conn, active) if active is not None else {}
            prints = {feed: fingerprint(files) for feed, files in feeds.items()}
            old_prints = self._fingerprints(conn, current)
            changed = sorted(f for f in feeds if old_prints.get(f) != prints[f])
            unchanged = sorted(f for f in feeds if f not in changed)
            if not changed and active is not None:
                return LoadResult(self._info(conn, active), False, [], unchanged, list(parsed))
            if active is not None and not force:
                partial = _partial_feeds(self._info(conn, active), {f: feeds[f] for f in changed})
                if partial:
                    raise PartialFeedRefused(
                        "refused: "
                        + "; ".join(
                            f"the {feed} files lack {', '.join(i.name for i in items)} "
                            "(the active feed has them)"
                            for feed, items in partial.items()
                        )
                        + ". Load the feed's files together, or use --force (force=True)."
                    )
            self._check_drops(conn, current, {f: feeds[f] for f in changed}, force)
            cut = [f for f in parsed if f.truncated_at is not None and f.feed in changed]
            if cut and not force:
                raise ListFormatError(
                    cut[0].path,
                    f"refused: {TRUNCATED}. Use --force (force=True) to load its complete records.",
                    line=cut[0].truncated_at,
                )
            new_map = dict(current)
            for feed in changed:
                new_map[feed] = self._feed_version(conn, feed, prints[feed], feeds[feed])
            snap_id = _insert_id(
                conn, insert(snapshots).values(created_at=_now(), forced=int(force))
            )
            conn.execute(
                insert(snapshot_feeds),
                [
                    {"snapshot_id": snap_id, "feed": feed, "feed_version_id": version}
                    for feed, version in sorted(new_map.items())
                ],
            )
            result = LoadResult(self._info(conn, snap_id), True, changed, unchanged, list(parsed))
            if self.on_load is not None:
                self.on_load(conn, result)
            return result

    def _check_drops(
        self,
        conn: Connection,
        current: dict[str, int],
        incoming: dict[str, list[ParsedFile]],
        force: bool,
    ) -> None:
        drops: dict[str, tuple[int, int]] = {}
        for feed, files in incoming.items():
            if feed not in current:
                continue
            before = self._party_alias_counts(conn, current[feed])
            after: dict[str, int] = {}
            for party in parties_from(files):
                after[party.source] = after.get(party.source, 0) + 1
                if party.aliases:
                    key = f"{party.source} aliases"
                    after[key] = after.get(key, 0) + len(party.aliases)
            for code, old in before.items():
                new = after.get(code, 0)
                if old and new < old * (1 - MAX_DROP):
                    drops[code] = (old, new)
        if drops and not force:
            raise DropRefused(drops)

    def _party_alias_counts(self, conn: Connection, version: int) -> dict[str, int]:
        """Parties per list code and aliases per ``"<code> aliases"`` of a feed version."""
        counts: dict[str, int] = {}
        rows = conn.execute(
            select(feed_parties.c.source, blobs.c.body)
            .join(blobs, blobs.c.content_hash == feed_parties.c.content_hash)
            .where(feed_parties.c.feed_version_id == version)
        )
        for source, body in rows:
            counts[source] = counts.get(source, 0) + 1
            aliases = len(json.loads(body).get("aliases", ()))
            if aliases:
                key = f"{source} aliases"
                counts[key] = counts.get(key, 0) + aliases
        return counts

    def _feed_version(
        self, conn: Connection, feed: str, print_: str, files: list[ParsedFile]
    ) -> int:
        existing = conn.execute(
            select(feed_versions.c.id).where(
                feed_versions.c.feed == feed, feed_versions.c.fingerprint == print_
            )
        ).scalar()
        if existing is not None:
            return int(existing)  # this exact content was loaded before: reuse it
        parties = parties_from(files)
        source_rows: dict[str, int] = {}
        for item in files:
            for code, count in item.source_rows.items():
                source_rows[code] = source_rows.get(code, 0) + count
        version = _insert_id(
            conn,
            insert(feed_versions).values(
                feed=feed,
                fingerprint=print_,
                loaded_at=_now(),
                rows=sum(f.rows for f in files),
                parties=len(parties),
                source_rows=json.dumps(source_rows, sort_keys=True),
            ),
        )
        conn.execute(
            insert(feed_files),
            [
                {
                    "feed_version_id": version,
                    "path": f.path,
                    "name": f.name,
                    "format": f.format,
                    "sha256": f.sha256,
                    "rows": f.rows,
                    "parties": len(f.parties),
                    "problems": len(f.problems),
                    "bad_rows": f.bad_rows,
                }
                for f in files
            ],
        )
        problems = [{"feed_version_id": version, **asdict(p)} for f in files for p in f.problems]
        if problems:
            conn.execute(insert(feed_problems), problems)
        bodies: dict[str, str] = {}
        rows: list[dict[str, Any]] = []
        for party in parties:
            body = json.dumps(_content(party), sort_keys=True, ensure_ascii=False)
            digest = hashlib.sha256(body.encode()).hexdigest()
            bodies[digest] = body
            rows.append(
                {
                    "feed_version_id": version,
                    "party_id": party.party_id,
                    "source": party.source,
                    "content_hash": digest,
                    "source_file": party.source_file,
                    "source_line": party.source_line,
                }
            )
        hashes = list(bodies)
        known: set[str] = set()
        for chunk in _chunks(hashes):
            known.update(
                conn.execute(
                    select(blobs.c.content_hash).where(blobs.c.content_hash.in_(chunk))
                ).scalars()
            )
        new_blobs = [{"content_hash": h, "body": bodies[h]} for h in hashes if h not in known]
        if new_blobs:
            conn.execute(insert(blobs), new_blobs)
        if rows:
            conn.execute(insert(feed_parties), rows)
        return int(version)

    # ---- reading -------------------------------------------------------------------------

    @staticmethod
    def rows(conn: Connection) -> Rows:
        """Plain SQL (the snapshot queries of :mod:`computekyc.lists.snapshots`) on ``conn``."""
        return lambda sql, params: conn.execute(text(sql), dict(params))

    @classmethod
    def _active_id(cls, conn: Connection) -> int | None:
        return active_id(cls.rows(conn))

    @staticmethod
    def _feed_map(conn: Connection, snapshot_id: int) -> dict[str, int]:
        rows = conn.execute(
            select(snapshot_feeds.c.feed, snapshot_feeds.c.feed_version_id).where(
                snapshot_feeds.c.snapshot_id == snapshot_id
            )
        )
        return {feed: int(version) for feed, version in rows}

    @staticmethod
    def _fingerprints(conn: Connection, feed_map: dict[str, int]) -> dict[str, str]:
        if not feed_map:
            return {}
        rows = conn.execute(
            select(feed_versions.c.feed, feed_versions.c.fingerprint).where(
                feed_versions.c.id.in_(list(feed_map.values()))
            )
        )
        return {feed: str(fp) for feed, fp in rows}

    def _info(self, conn: Connection, snapshot_id: int) -> SnapshotInfo:
        return snapshot_info(self.rows(conn), snapshot_id)

    def _resolve(self, conn: Connection, snapshot_id: int | None) -> int | None:
        if snapshot_id is None:
            return self._active_id(conn)
        exists = conn.execute(select(snapshots.c.id).where(snapshots.c.id == snapshot_id)).scalar()
        if exists is None:
            raise StoreError(f"no snapshot {snapshot_id}")
        return snapshot_id

    def active_snapshot(self) -> SnapshotInfo | None:
        with self.engine.connect() as conn:
            active = self._active_id(conn)
            return self._info(conn, active) if active is not None else None

    def snapshot(self, snapshot_id: int) -> SnapshotInfo:
        with self.engine.connect() as conn:
            resolved = self._resolve(conn, snapshot_id)
            assert resolved is not None
            return self._info(conn, resolved)

    def snapshot_on(self, day: date) -> tuple[SnapshotInfo, bool] | None:
        """The snapshot in force at the end of ``day`` (UTC), and whether it was loaded by
        then (:func:`computekyc.lists.snapshots.snapshot_on`)."""
        with self.engine.connect() as conn:
            return snapshot_on(self.rows(conn), day)

    def parties_by_id(self, snapshot_id: int, party_ids: Iterable[str]) -> list[Party]:
        """The given parties as stored in a snapshot (ids it does not hold are left out)."""
        wanted = sorted(set(party_ids))
        with self.engine.connect() as conn:
            resolved = self._resolve(conn, snapshot_id)
            assert resolved is not None
            versions = list(self._feed_map(conn, resolved).values())
            rows: list[tuple[str, str, str | None, int | None]] = []
            for chunk in _chunks(wanted):
                rows.extend(
                    (str(pid), str(digest), sfile, sline)
                    for pid, digest, sfile, sline in conn.execute(
                        select(
                            feed_parties.c.party_id,
                            feed_parties.c.content_hash,
                            feed_parties.c.source_file,
                            feed_parties.c.source_line,
                        ).where(
                            feed_parties.c.feed_version_id.in_(versions),
                            feed_parties.c.party_id.in_(chunk),
                        )
                    )
                )
            bodies = self._bodies(conn, (r[1] for r in rows))
        return [self._party(bodies[d], f, line) for _, d, f, line in sorted(rows)]

    def snapshots(self) -> list[SnapshotInfo]:
        with self.engine.connect() as conn:
            return [self._info(conn, i) for i in snapshot_ids(self.rows(conn))]

    def problems(self, snapshot_id: int | None = None) -> list[Problem]:
        with self.engine.connect() as conn:
            resolved = self._resolve(conn, snapshot_id)
            if resolved is None:
                return []
            versions = list(self._feed_map(conn, resolved).values())
            rows = conn.execute(
                select(feed_problems)
                .where(feed_problems.c.feed_version_id.in_(versions))
                .order_by(feed_problems.c.id)
            )
            return [Problem(r.file, r.line, r.field, r.message, r.severity) for r in rows]

    def source_counts(self, snapshot_id: int | None = None) -> dict[str, int]:
        """Parties per source list code in a snapshot (the active one by default)."""
        with self.engine.connect() as conn:
            resolved = self._resolve(conn, snapshot_id)
            return source_counts(self.rows(conn), resolved) if resolved is not None else {}

    def _party_rows(
        self, conn: Connection, snapshot_id: int, sources: set[str] | None
    ) -> dict[str, tuple[str, str, str | None, int | None]]:
        versions = list(self._feed_map(conn, snapshot_id).values())
        query = select(
            feed_parties.c.party_id,
            feed_parties.c.source,
            feed_parties.c.content_hash,
            feed_parties.c.source_file,
            feed_parties.c.source_line,
        ).where(feed_parties.c.feed_version_id.in_(versions))
        if sources is not None:
            query = query.where(feed_parties.c.source.in_(sorted(sources)))
        # SQLite's order, spelled out for PostgreSQL: NULL lines first, ties by party id.
        query = query.order_by(
            feed_parties.c.feed_version_id,
            feed_parties.c.source_line.nulls_first(),
            feed_parties.c.party_id,
        )
        return {
            str(pid): (str(src), str(digest), sfile, sline)
            for pid, src, digest, sfile, sline in conn.execute(query)
        }

    @staticmethod
    def _bodies(conn: Connection, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(hashes))
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(wanted):
            for digest, body in conn.execute(
                select(blobs.c.content_hash, blobs.c.body).where(blobs.c.content_hash.in_(chunk))
            ):
                out[str(digest)] = json.loads(body)
        return out

    @staticmethod
    def _party(body: dict[str, Any], source_file: str | None, line: int | None) -> Party:
        party = Party.from_dict(body)
        party.source_file, party.source_line = source_file, line
        return party

    def parties(
        self,
        snapshot_id: int | None = None,
        sources: set[str] | None = None,
        earlier: tuple[int, Sequence[Party]] | None = None,
    ) -> list[Party]:
        """The parties of a snapshot (the active one by default), optionally of some lists.

        ``earlier``: another snapshot's id and its parties as this method gave them (all
        lists): a party stored alike in both (same content, file and line) is taken from
        them instead of being read and decoded again."""
        with self.engine.connect() as conn:
            resolved = self._resolve(conn, snapshot_id)
            if resolved is None:
                return []
            rows = self._party_rows(conn, resolved, sources)
            kept = self._kept_parties(conn, earlier, rows) if earlier is not None else {}
            bodies = self._bodies(conn, (r[1] for k, r in rows.items() if k not in kept))
            return [
                kept[pid] if pid in kept else self._party(bodies[digest], sfile, sline)
                for pid, (_, digest, sfile, sline) in rows.items()
            ]

    def _kept_parties(
        self,
        conn: Connection,
        earlier: tuple[int, Sequence[Party]],
        rows: dict[str, tuple[str, str, str | None, int | None]],
    ) -> dict[str, Party]:
        """The parties of ``earlier`` whose content ``rows`` holds unchanged, by id (a copy
        with the new file and line where only those moved); none when ``earlier``'s parties are
        not those of its snapshot, in its order."""
        earlier_id, parties = earlier
        before = self._party_rows(conn, earlier_id, None)
        if len(before) != len(parties) or any(
            p.party_id != pid for p, pid in zip(parties, before, strict=True)
        ):
            return {}
        kept: dict[str, Party] = {}
        for party, (pid, row) in zip(parties, before.items(), strict=True):
            now = rows.get(pid)
            if now is None or now[:2] != row[:2]:
                continue  # gone, or another content
            if now[2:] != row[2:]:
                party = replace(party, source_file=now[2], source_line=now[3])
            kept[pid] = party
        return kept

    def diff(self, old_id: int, new_id: int) -> ListDiff:
        """Parties added, removed and changed from snapshot ``old_id`` to ``new_id``."""
        with self.engine.connect() as conn:
            old_resolved = self._resolve(conn, old_id)
            new_resolved = self._resolve(conn, new_id)
            assert old_resolved is not None and new_resolved is not None
            before = self._party_rows(conn, old_resolved, None)
            after = self._party_rows(conn, new_resolved, None)
            added = [k for k in after if k not in before]
            removed = [k for k in before if k not in after]
            touched = [k for k in after if k in before and after[k][1] != before[k][1]]
            wanted = [after[k][1] for k in added + touched] + [before[k][1] for k in removed]
            wanted += [before[k][1] for k in touched]
            bodies = self._bodies(conn, wanted)
        result = ListDiff(old_resolved, new_resolved)
        result.added = [PartyRef(k, after[k][0], str(bodies[after[k][1]]["name"])) for k in added]
        result.removed = [
            PartyRef(k, before[k][0], str(bodies[before[k][1]]["name"])) for k in removed
        ]
        for key in touched:
            change = compare(
                Party.from_dict(bodies[before[key][1]]), Party.from_dict(bodies[after[key][1]])
            )
            if change:
                result.changed.append(change)
        return result

    def previous_snapshot_id(self, snapshot_id: int | None = None) -> int | None:
        with self.engine.connect() as conn:
            current = self._resolve(conn, snapshot_id)
            if current is None:
                return None
            return previous_id(self.rows(conn), current)
