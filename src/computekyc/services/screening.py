"""Batch screening: a CSV of names (with its checks), and the scan's cached delta screening.

Delta screening: every distinct query (name, country, type) is screened once and its hits are
stored with the list snapshot they were computed on. On a new snapshot a stored query is not
screened against the whole lists again but only against a small index of the parties the
snapshot added or changed (plus those whose words now weigh differently); only when that small
index, a removed/changed party among its old hits, or a re-weighed word of its own says the
answer may differ, is it screened against the whole snapshot again. The result equals a full
re-screen (tests/scan/test_delta.py proves it on two real list snapshots).

No stored name is analysed again for this: each name's lookup terms are kept between scans
(:mod:`computekyc.services.namekeys`), and a name none of whose terms' posting keys the small
index holds cannot meet it (the same blocking keys the index's candidate search reads) and
keeps its hits; the others are screened against the small index in one batch (forked workers
on the command line). Kept results only have the snapshot they cite moved forward.

A whole book's stored results are nearly all rows without hits citing one snapshot: those
are read as their keys alone (one string per snapshot and threshold), and whether such a
result may differ depends on its name alone, so it is decided once per name.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import multiprocessing as mp
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring as _encode_text
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from computekyc.alerts import canonical_json
from computekyc.book.schema import screen_results, screen_snapshots
from computekyc.bulk import check_columns
from computekyc.exc import InputError
from computekyc.lists import holder_type
from computekyc.lists.model import Party
from computekyc.lists.store import ListStore
from computekyc.screening import (
    HitGroup,
    Query,
    ScreeningIndex,
    group_hits,
    word_rarity,
)
from computekyc.services.indexes import LoadedIndex
from computekyc.services.namekeys import NameKeys, NameKeysCache, screen_full

HitRecord = dict[str, Any]  # Hit.to_dict(): party, score and the token-by-token explanation
# The columns a screening CSV may have; each at most once (a CSV reader keeps only the last).
SCREEN_COLUMNS = ("id", "name", "type", "country", "date_of_birth")
_CHUNK = 500
_READ_ALL = 20_000  # stored results wanted above which the whole table is read
# Snapshot and threshold pairs cited by rows without hits above which those rows are read
# one by one rather than as one string of keys per pair.
_EMPTY_GROUPS_MAX = 8


# ----------------------------------------------------------------------- CSV batch screening


@dataclass(frozen=True, slots=True)
class ScreenRow:
    """One CSV row: its query, or why it cannot be screened."""

    line: int
    id: str | None
    query: Query | None
    error: str | None


@dataclass(slots=True)
class BatchResult:
    """A screened CSV: every row in input order, and the hits of each good row (by line)
    folded into one group per listed entity."""

    rows: list[ScreenRow]
    groups: dict[int, list[HitGroup]]  # line → hit groups
    snapshot: str | None

    @property
    def bad(self) -> int:
        return sum(r.query is None for r in self.rows)

    @property
    def with_hits(self) -> int:
        return sum(bool(g) for g in self.groups.values())


def parse_screen_row(path: Path, line: int, record: Mapping[str, str | None]) -> ScreenRow:
    """One CSV row: the first problem found (name, type, country, date of birth) or its query;
    ``type`` takes any word of the product's party-type vocabulary."""
    ident = (record.get("id") or "").strip() or None
    name = (record.get("name") or "").strip()
    kind = (record.get("type") or "").strip() or None
    dob = (record.get("date_of_birth") or "").strip() or None
    country = (record.get("country") or "").strip().upper() or None
    problem: str | None = None
    if not name:
        problem = "name: empty"
    elif kind is not None:
        try:
            kind = str(holder_type(kind))
        except InputError as error:
            problem = f"type: {error.message}"
    if problem is None and country is not None and (len(country) != 2 or not country.isalpha()):
        problem = f"country: {country!r} is not an ISO 3166 alpha-2 code"
    if problem is None and dob is not None:
        try:
            date.fromisoformat(dob) if len(dob) > 4 else int(dob)
        except ValueError:
            problem = f"date_of_birth: {dob!r} is not YYYY-MM-DD or YYYY"
    if problem:
        return ScreenRow(line, ident, None, f"{path}:{line}: {problem}")
    return ScreenRow(line, ident, Query(name, country, kind, dob), None)


def read_screen_csv(text: str, name: str) -> list[ScreenRow]:
    """The rows of a screening CSV (its text; ``name`` as messages call the file): a ``name``
    column is required, ``id``, ``type``, ``country`` and ``date_of_birth`` are optional, each
    at most once. A bad row is kept with its reason; a bad file is an :class:`InputError`."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader, [])]
        if "name" not in header:
            raise InputError(
                f"the header has no 'name' column (it has: {', '.join(header) or 'nothing'})",
                file=name,
                line=1,
            )
        check_columns(name, header, SCREEN_COLUMNS)
        rows: list[ScreenRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            record = dict(zip(header, cells, strict=False))
            rows.append(parse_screen_row(Path(name), reader.line_num, record))
    except csv.Error as exc:
        raise InputError(f"not readable as CSV: {exc}", file=name, line=reader.line_num) from None
    return rows


def party_map(index: ScreeningIndex) -> dict[str, Party]:
    """Party id → party, so each group member shows its listing and delisting dates."""
    return {party.party_id: party for party in index.parties}


def screen_batch(
    index: ScreeningIndex,
    rows: Sequence[ScreenRow],
    threshold: float | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> BatchResult:
    """Screen the good rows; ``workers > 1`` forks (command line only, never in a server)."""
    good = [r for r in rows if r.query is not None]
    found = index.screen_many([r.query for r in good if r.query], threshold, progress, workers)
    parties = party_map(index)
    groups = {r.line: group_hits(f, parties) for r, f in zip(good, found, strict=True)}
    return BatchResult(list(rows), groups, index.snapshot_id)


def screen_name(
    index: ScreeningIndex,
    name: str,
    country: str | None = None,
    kind: str | None = None,
    threshold: float | None = None,
) -> list[HitGroup]:
    """One name screened, its hits folded into one group per listed entity, best first."""
    hits = index.screen(name, country=country, type=kind, threshold=threshold)
    return group_hits(hits, party_map(index))


# ----------------------------------------------------------------------- the scan's screening


def _json_text(value: str | None) -> str:
    return "null" if value is None else _encode_text(value)


QueryTriple = tuple[str, str | None, str | None]  # a query's name, country and party type
# Keys made or kept in this process: names recur across customers and roles, and the scan's
# kept name analyses bring those of the last scan (see :func:`remember_query_keys`).
_QUERY_KEYS: dict[QueryTriple, str] = {}
_QUERY_KEYS_MAX = 1 << 21


def _make_query_key(name: str, country: str | None, type: str | None) -> str:
    text = f"[{_encode_text(name)}, {_json_text(country)}, {_json_text(type)}]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def query_key(name: str, country: str | None, type: str | None) -> str:
    """The stored key of a query: SHA-256 of ``json.dumps([name, country, type],
    ensure_ascii=False)``, spelled out with the C string encoder (the key of every stored
    result), memoised."""
    found = _QUERY_KEYS.get((name, country, type))
    if found is None:
        found = _make_query_key(name, country, type)
        if len(_QUERY_KEYS) < _QUERY_KEYS_MAX:
            _QUERY_KEYS[name, country, type] = found
    return found


def remember_query_keys(keys: Mapping[QueryTriple, str]) -> None:
    """Take keys made by :func:`query_key` in an earlier process (the same function: the
    stored results are keyed by its values), so that they are not hashed again."""
    room = _QUERY_KEYS_MAX - len(_QUERY_KEYS)
    if len(keys) <= room:
        _QUERY_KEYS.update(keys)


@dataclass(frozen=True, slots=True)
class NameQuery:
    """A distinct thing to screen: a name with its country and party type."""

    name: str
    country: str | None = None
    type: str | None = None

    @property
    def key(self) -> str:
        return query_key(self.name, self.country, self.type)

    def query(self) -> Query:
        return Query(self.name, self.country, self.type)


@dataclass(slots=True)
class ScreenOutcome:
    """Hits per query key, and how each query was answered."""

    hits: dict[str, list[HitRecord]]
    full: int = 0  # screened against the whole snapshot
    delta: int = 0  # checked only against the parties the new snapshot added or changed
    cached: int = 0  # answered from the stored results of the same snapshot
    list_snapshot_id: int = 0
    threshold: float = 0.0
    doc_freq: dict[str, int] = field(default_factory=dict)
    # Stored rows to write: new keys, keys whose hits or snapshot changed.
    to_insert: dict[str, list[HitRecord]] = field(default_factory=dict)
    to_update: dict[str, list[HitRecord]] = field(default_factory=dict)
    # Stored rows whose hits stand on the new snapshot: only the snapshot they cite changes.
    restamp: dict[int, set[str]] = field(default_factory=dict)  # by the snapshot they cite


def _reweighed(keys: NameKeys, words: set[str], has_hits: bool) -> bool:
    """Whether a changed word frequency may change a stored answer: a weighed word of the name
    changes its scores against every listed name; any word of it may change the explanation
    of a hit (the note on words common on the lists)."""
    return not words.isdisjoint(keys.weighed) or (has_hits and not words.isdisjoint(keys.words))


def _driver_rows(connection: Connection, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a statement without parameters, read through the driver's own cursor:
    plain tuples, without a result object per row (a whole book's stored results)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _stored(
    connection: Connection, keys: Sequence[str]
) -> dict[str, tuple[int, float, list[HitRecord]]]:
    out: dict[str, tuple[int, float, list[HitRecord]]] = {}
    columns = (
        screen_results.c.query_key,
        screen_results.c.list_snapshot_id,
        screen_results.c.threshold,
        screen_results.c.hits,
    )
    batches: Iterable[Iterable[Any]]
    if len(keys) > _READ_ALL:
        # A whole book's names: one pass over the table beats a thousand keyed lookups.
        wanted = set(keys)
        names = ", ".join(c.name for c in columns)
        every = _driver_rows(connection, f"SELECT {names} FROM {screen_results.name}")
        batches = [(row for row in every if row[0] in wanted)]
    else:
        batches = (
            connection.execute(
                select(*columns).where(screen_results.c.query_key.in_(keys[i : i + _CHUNK]))
            )
            for i in range(0, len(keys), _CHUNK)
        )
    for rows in batches:
        for key, snap, threshold, hits in rows:
            # Most names have no hit: no need to parse their "[]" (a fresh list each).
            out[str(key)] = (int(snap), float(threshold), [] if hits == "[]" else json.loads(hits))
    return out


def _doc_freq(connection: Connection, list_snapshot_id: int) -> dict[str, int] | None:
    row = connection.execute(
        select(screen_snapshots.c.doc_freq).where(
            screen_snapshots.c.list_snapshot_id == list_snapshot_id
        )
    ).first()
    return json.loads(row[0]) if row is not None else None


@dataclass(slots=True)
class _Diff:
    """What a stored result computed on an older snapshot must be checked against."""

    small: ScreeningIndex
    suspect: set[str]  # party ids whose old hits cannot be kept (removed, changed, re-weighed)
    words: set[str]  # words whose weight changed
    threshold: float
    posted: frozenset[str] = frozenset()  # the small index's posting keys
    # lookup term → the small index's names it meets (ScreeningIndex.term_entries)
    memo: dict[str, tuple[frozenset[int], float]] = field(default_factory=dict)
    cold: set[str] = field(default_factory=set)  # word terms that meet no small-index name
    decided: dict[str, bool] = field(default_factory=dict)  # name → reaches (names recur)

    def reaches(self, keys: NameKeys) -> bool:
        """Whether the small index may give the name a hit: a name it always scores (joined
        name, a name of generic words: terms that are posting keys themselves) is met, or the
        score bound of a name its words meet — through the same blocking keys the candidate
        search reads: words, typo neighbours, skeletons — reaches the threshold
        (:meth:`ScreeningIndex.may_hit`). A name it cannot reach keeps its stored hits (and is
        not analysed again)."""
        if not self.posted.isdisjoint(keys.posting_terms):
            return True  # may_hit's answer for a met term of a name always scored
        cold = self.cold
        if cold.issuperset(keys.word_terms):
            return False  # the common case, tested at C speed: none of its words meets any
        small, memo = self.small, self.memo
        known = memo.get
        met = False
        for term in keys.word_terms:
            if term in cold:
                continue
            if (known(term) or small.term_entries(term, memo))[0]:
                met = True
            else:
                cold.add(term)
        return met and small.may_hit(keys.forms, self.threshold, memo)


def _diff_index(
    store: ListStore, old_id: int, loaded: LoadedIndex, old_df: dict[str, int], threshold: float
) -> _Diff:
    diff = store.diff(old_id, loaded.list_snapshot_id)
    new_df = loaded.index.doc_freq
    # Only a word whose weight changed step re-weighs (not every word whose count moved).
    words = {
        w
        for w in set(old_df) | set(new_df)
        if word_rarity(old_df.get(w)) != word_rarity(new_df.get(w))
    }
    affected = {r.party_id for r in diff.added} | {c.party_id for c in diff.changed}
    if words:
        index = loaded.index
        for p_idx, _, analysis in index.names:
            if any(t.text in words for form in analysis.forms for t in form.tokens):
                affected.add(index.parties[p_idx].party_id)
    parties = [loaded.parties[p] for p in sorted(affected) if p in loaded.parties]
    # The names of the new index are analysed already: the small index takes their analyses.
    small = ScreeningIndex.build(parties, loaded.snapshot, doc_freq=new_df, previous=loaded.index)
    suspect = affected | {r.party_id for r in diff.removed}
    return _Diff(small, suspect, words, threshold, frozenset(small.postings))


def _may_differ(
    delta: _Diff | None, query: NameQuery, old_hits: list[HitRecord], names: NameKeysCache
) -> bool | None:
    """Whether a stored answer may differ on the new snapshot: no diff to check against, a
    hit on a removed or changed party, a re-weighed word (True); a name that cannot reach the
    small index of the parties the snapshot added, changed or re-weighed (False); else None:
    what the small index finds for it decides."""
    if delta is None or any(h["party_id"] in delta.suspect for h in old_hits):
        return True
    return _name_verdict(delta, query.name, names, bool(old_hits))


def _name_verdict(delta: _Diff, name: str, names: NameKeysCache, has_hits: bool) -> bool | None:
    """:func:`_may_differ` of a stored answer whose old hits all stand: it depends on the
    name (and on whether it has hits) alone."""
    keys = names.get(name)
    if delta.words and _reweighed(keys, delta.words, has_hits):
        return True
    reaches = delta.decided.get(name)
    if reaches is None:
        reaches = delta.decided[name] = delta.reaches(keys)
    return None if reaches else False


# The diff, the kept name analyses and the names to decide, handed to forked workers: set
# just before the fork, so that children inherit them and are sent only where a chunk starts.
_DECIDING: tuple[_Diff, NameKeysCache, list[str]] | None = None
_DECIDE_LOCK = threading.Lock()
DECIDE_PARALLEL_MIN = 20_000  # names: below this a fork costs more than it saves
_DECIDE_CHUNK = 10_000


def _decided_chunk(start: int) -> dict[str, bool | None]:
    assert _DECIDING is not None, "worker started without a diff"
    delta, names, pending = _DECIDING
    return _undecided(delta, pending[start : start + _DECIDE_CHUNK], names)


def _undecided(
    delta: _Diff, pending: Iterable[str], names: NameKeysCache
) -> dict[str, bool | None]:
    """The names of answers without hits that may differ (True) or that the small index must
    decide (None); every other name keeps its answer."""
    out: dict[str, bool | None] = {}
    for name in pending:
        verdict = _name_verdict(delta, name, names, False)
        if verdict is not False:
            out[name] = verdict
    return out


def _verdicts(
    delta: _Diff, pending: list[str], names: NameKeysCache, workers: int
) -> dict[str, bool | None]:
    """:func:`_undecided` of ``pending`` (distinct names), in ``workers`` forked processes
    when there are many (command line only): a whole book's names at each list update."""
    global _DECIDING
    if (
        workers < 2
        or len(pending) < DECIDE_PARALLEL_MIN
        or "fork" not in mp.get_all_start_methods()
    ):
        return _undecided(delta, pending, names)
    # A name the kept analyses lack is analysed here, so that they keep it for the next scan.
    known = names.keys
    for name in pending:
        if name not in known:
            names.get(name)
    out: dict[str, bool | None] = {}
    with _DECIDE_LOCK:
        _DECIDING = (delta, names, pending)
        gc.freeze()  # children must not touch (and so copy) every inherited object
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                for part in pool.imap_unordered(
                    _decided_chunk, range(0, len(pending), _DECIDE_CHUNK)
                ):
                    out.update(part)
        finally:
            gc.unfreeze()
            _DECIDING = None
    return out


def _keyed(queries: Iterable[NameQuery], names: NameKeysCache) -> dict[str, NameQuery]:
    """Each distinct query by its stored key, the keys kept from the last scan read back
    instead of hashed again; ``names`` keeps those of these queries, in order, for the next."""
    kept = names.query_keys
    remember_query_keys(kept)  # the determinations and alerts ask them again
    known = kept.get
    wanted: dict[str, NameQuery] = {}
    for query in queries:
        key = known((query.name, query.country, query.type))
        wanted[key if key is not None else query.key] = query
    asked = {(q.name, q.country, q.type): key for key, q in wanted.items()}
    if list(asked.items()) != list(kept.items()):
        names.query_keys = asked
        names.query_keys_changed = True
        names.book = ""  # what book these queries are of: told by the caller
    return wanted


def book_queries(names: NameKeysCache, book: str) -> dict[str, NameQuery] | None:
    """The distinct queries the last scan asked of ``book`` (its files and the code asking:
    ``book_queries_key``), by stored key and in order, as ``names`` keeps them; None when it
    kept those of another book."""
    if not names.holds_queries_of(book):
        return None
    keys = names.query_keys
    remember_query_keys(keys)
    return {key: NameQuery(*triple) for triple, key in keys.items()}


def _aggregate(connection: Connection) -> Any | None:
    """The dialect's string aggregate of the stored keys, or None where it has none we know."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return func.group_concat(screen_results.c.query_key, ",")
    if dialect == "postgresql":
        return func.string_agg(screen_results.c.query_key, ",")
    return None


@dataclass(slots=True)
class _StoredRows:
    """The stored results of the wanted keys: rows read in full (key → snapshot, threshold,
    hits), and the keys of rows without hits read alone, by the snapshot and threshold they
    cite (a whole book's results are nearly all such rows)."""

    rows: dict[str, tuple[int, float, list[HitRecord]]]
    empty: dict[tuple[int, float], set[str]] = field(default_factory=dict)

    def __contains__(self, key: str) -> bool:
        return key in self.rows or any(key in keys for keys in self.empty.values())


def _stored_bulk(connection: Connection, wanted: Mapping[str, object]) -> _StoredRows:
    """The stored results of ``wanted`` (keys). For a whole book the rows without hits are
    read as the keys alone, one string per snapshot and threshold they cite, instead of one
    row each; the few with hits are read in full."""
    aggregate = _aggregate(connection)
    columns = (
        screen_results.c.query_key,
        screen_results.c.list_snapshot_id,
        screen_results.c.threshold,
        screen_results.c.hits,
    )
    no_hits = screen_results.c.hits == "[]"
    pairs: list[tuple[int, float]] = []
    if len(wanted) > _READ_ALL and aggregate is not None:
        cited = select(screen_results.c.list_snapshot_id, screen_results.c.threshold)
        pairs = [(int(s), float(t)) for s, t in connection.execute(cited.distinct().where(no_hits))]
    if aggregate is None or not pairs or len(pairs) > _EMPTY_GROUPS_MAX:
        return _StoredRows(_stored(connection, sorted(wanted)))
    empty: dict[tuple[int, float], set[str]] = {}
    for snap, threshold in pairs:
        text = connection.execute(
            select(aggregate).where(
                no_hits,
                screen_results.c.list_snapshot_id == snap,
                screen_results.c.threshold == threshold,
            )
        ).scalar()
        keys = wanted.keys() & set(str(text).split(",")) if text else set()
        if keys:
            empty[snap, threshold] = keys
    rows = {
        str(key): (int(snap), float(threshold), json.loads(hits))
        for key, snap, threshold, hits in connection.execute(select(*columns).where(~no_hits))
        if key in wanted
    }
    return _StoredRows(rows, empty)


def _names_of(
    wanted: Mapping[str, NameQuery], keys: set[str]
) -> Callable[[], Iterator[tuple[str, str]]]:
    """Each of ``keys`` (some of ``wanted``) with its query's name, read in ``wanted``'s order
    when they are all of them (a whole book's: faster than looking each one up)."""
    if len(keys) == len(wanted):
        return lambda: ((key, query.name) for key, query in wanted.items())
    return lambda: ((key, wanted[key].name) for key in keys)


def _in_order(wanted: Iterable[str], keys: set[str]) -> list[str]:
    """``keys`` in the order of ``wanted``."""
    return [k for k in wanted if k in keys] if keys else []


def screen_queries(
    connection: Connection,
    loaded: LoadedIndex,
    store: ListStore,
    queries: Iterable[NameQuery] | Mapping[str, NameQuery],
    threshold: float,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    names: NameKeysCache | None = None,
) -> ScreenOutcome:
    """Hits for every query: cached, delta or full (see the module docstring). Only reads
    the database; ``names`` (the kept name analyses) gains the names screened in full.
    ``workers > 1`` forks (command line only, never in a server)."""
    names = names if names is not None else NameKeysCache(None)
    # Queries already keyed (``book_queries``) are taken as they are.
    wanted = dict(queries) if isinstance(queries, Mapping) else _keyed(queries, names)
    stored = _stored_bulk(connection, wanted)
    current = loaded.list_snapshot_id
    outcome = ScreenOutcome(
        hits={}, list_snapshot_id=current, threshold=threshold, doc_freq=loaded.index.doc_freq
    )
    diffs: dict[int, _Diff | None] = {}

    def diff_of(old_id: int) -> _Diff | None:
        if old_id not in diffs:
            old_df = _doc_freq(connection, old_id)
            diffs[old_id] = (
                _diff_index(store, old_id, loaded, old_df, threshold)
                if old_df is not None
                else None
            )
        return diffs[old_id]

    full: set[str] = set()  # screened against the whole snapshot
    old_hits_of: dict[str, list[HitRecord]] = {}  # stored hits that stand, unless re-screened
    standing: dict[int, set[str]] = {}  # old snapshot → keys whose stored answer may stand
    to_check: dict[int, set[str]] = {}  # old snapshot → keys its small index decides
    for key, (old_id, stored_threshold, old_hits) in stored.rows.items():
        if stored_threshold != threshold:
            full.add(key)
        elif old_id == current:
            outcome.hits[key] = old_hits
            outcome.cached += 1
        else:
            differs = _may_differ(diff_of(old_id), wanted[key], old_hits, names)
            if differs:
                full.add(key)
                continue
            old_hits_of[key] = old_hits
            standing.setdefault(old_id, set()).add(key)
            if differs is None:
                to_check.setdefault(old_id, set()).add(key)
    for (old_id, stored_threshold), keys in stored.empty.items():
        if stored_threshold != threshold:
            full |= keys
        elif old_id == current:
            outcome.hits.update({key: [] for key in keys})
            outcome.cached += len(keys)
        elif (delta := diff_of(old_id)) is None:
            full |= keys
        else:
            # Without stored hits the answer depends on the name alone: decided once a name.
            names_of = _names_of(wanted, keys)
            verdicts = _verdicts(
                delta, list(dict.fromkeys(n for _, n in names_of())), names, workers
            )
            differ: set[str] = set()
            check: set[str] = set()
            if verdicts:
                for key, name in names_of():
                    if name in verdicts:
                        (differ if verdicts[name] else check).add(key)
            full |= differ
            standing.setdefault(old_id, set()).update(keys - differ)
            if check:
                to_check.setdefault(old_id, set()).update(check)
    full |= wanted.keys() - stored.rows.keys() - set().union(*stored.empty.values())
    order = _in_order(wanted, full)
    if len(to_check) > 1:  # the snapshots in the order their first key was asked
        first = {k: i for i, k in enumerate(wanted)}
        checked = sorted(to_check, key=lambda old: min(first[k] for k in to_check[old]))
    else:
        checked = list(to_check)
    for old_id in checked:
        delta = diffs[old_id]
        assert delta is not None
        asked = _in_order(wanted, to_check[old_id])
        found_small = delta.small.screen_many(
            [wanted[k].query() for k in asked], threshold, workers=workers
        )
        met = [k for k, hits in zip(asked, found_small, strict=True) if hits]
        order.extend(met)
        standing[old_id].difference_update(met)
    for old_id, keys in standing.items():
        outcome.hits.update({key: [] for key in keys})  # nearly all: names without hits
        outcome.hits.update({key: old_hits_of[key] for key in keys & old_hits_of.keys()})
        outcome.restamp.setdefault(old_id, set()).update(keys)
        outcome.delta += len(keys)
    if progress is not None:
        progress(outcome.delta + outcome.cached)
    found_hits, made = screen_full(
        loaded.index, [wanted[k].query() for k in order], threshold, progress, workers
    )
    names.update(made)
    for key, hits in zip(order, found_hits, strict=True):
        records = [h.to_dict() for h in hits]
        outcome.hits[key] = records
        (outcome.to_update if key in stored else outcome.to_insert)[key] = records
    outcome.full = len(order)
    return outcome


def stored_hits(
    connection: Connection, query: NameQuery, list_snapshot_id: int, threshold: float
) -> list[HitRecord] | None:
    """The stored hits of one query if they were computed on this snapshot and threshold."""
    found = _stored(connection, [query.key]).get(query.key)
    if found is None or found[0] != list_snapshot_id or found[1] != threshold:
        return None
    return found[2]


def save_screening(connection: Connection, outcome: ScreenOutcome) -> None:
    """Store the outcome's new and refreshed results (in the caller's transaction)."""
    snap, threshold = outcome.list_snapshot_id, outcome.threshold
    if _doc_freq(connection, snap) is None:
        connection.execute(
            insert(screen_snapshots).values(
                list_snapshot_id=snap, doc_freq=canonical_json(outcome.doc_freq)
            )
        )
    if outcome.to_insert:
        # Names first screened on demand may already be stored from an older snapshot.
        for key in _stored(connection, sorted(outcome.to_insert)):
            outcome.to_update[key] = outcome.to_insert.pop(key)
        rows = [
            {"query_key": k, "list_snapshot_id": snap, "threshold": threshold, "hits": _json(h)}
            for k, h in outcome.to_insert.items()
        ]
        for start in range(0, len(rows), 5000):
            connection.execute(insert(screen_results), rows[start : start + 5000])
    if outcome.to_update:
        statement = (
            update(screen_results)
            .where(screen_results.c.query_key == bindparam("k"))
            .values(list_snapshot_id=snap, threshold=threshold, hits=bindparam("h"))
        )
        rows = [{"k": k, "h": _json(h)} for k, h in outcome.to_update.items()]
        for start in range(0, len(rows), 5000):
            connection.execute(statement, rows[start : start + 5000])
    for old_id, keys in outcome.restamp.items():
        _restamp(connection, old_id, snap, keys)


def _restamp(connection: Connection, old_id: int, new_id: int, keys: set[str]) -> None:
    """Move the stored rows of ``keys`` from snapshot ``old_id`` to ``new_id``. Usually the
    scan's names are nearly all the rows citing the old snapshot: one statement moves them all
    and the few others (names no longer in the book) are put back one by one, instead of
    updating half a million rows one by one."""
    citing = _driver_rows(
        connection,
        f"SELECT {screen_results.c.query_key.name} FROM {screen_results.name} "
        f"WHERE {screen_results.c.list_snapshot_id.name} = {int(old_id)}",
    )
    others = sorted({str(k) for (k,) in citing} - keys)
    by_key = screen_results.c.query_key == bindparam("k")
    if len(others) > len(keys):
        moved, stays = sorted(keys), new_id
    else:
        connection.execute(
            update(screen_results)
            .where(screen_results.c.list_snapshot_id == old_id)
            .values(list_snapshot_id=new_id)
        )
        moved, stays = others, old_id
    statement = update(screen_results).where(by_key).values(list_snapshot_id=stays)
    rows = [{"k": k} for k in moved]
    for start in range(0, len(rows), 20000):
        connection.execute(statement, rows[start : start + 20000])


def _json(hits: list[HitRecord]) -> str:
    return json.dumps(hits, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
