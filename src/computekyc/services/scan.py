"""The daily job: a provider's book against the lists, its usage and its links — as alerts.

:func:`run_scan` reads the provider folder, imports a book revision, ingests new usage files,
links accounts into entities, screens every customer, owner, director and account name (delta
against the last snapshot where possible), determines each customer for the chips it actually
rented, raises alerts, and writes everything in ONE transaction: the book revision, the stored
screening results, the entity assignment, the alert sync and the ``scans`` row.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from computekyc import audit
from computekyc.alerts import (
    AlertDraft,
    AlertStatus,
    AlertStore,
    SubjectKind,
    SyncResult,
    canonical_json,
)
from computekyc.audit import Actor, AuditEntry
from computekyc.book import (
    Book,
    BookImport,
    RecordDelta,
    book_files,
    plan_import,
    provider_name,
    usage_files,
    write_import,
)
from computekyc.book.schema import book_entities, book_linking, scans
from computekyc.bulk import frozen_after_pauses, gc_paused
from computekyc.chips import assumed_chip
from computekyc.linking import GeoIP, link_accounts, open_geoip
from computekyc.linking.geoip import GeoIPNotFound
from computekyc.ownership import load_rules
from computekyc.screening import wait_for_index_saves
from computekyc.services.alerting import (
    ScanFacts,
    build_drafts,
    customer_queries,
    raises_drafts,
)
from computekyc.services.customers import encode_determinations, save_determinations
from computekyc.services.determination import (
    ListReach,
    PrescreenedScreener,
    TreeReach,
    determine_batch,
    identifier_table,
    tree_reach,
)
from computekyc.services.footprint import find_footprint, usage_texts
from computekyc.services.indexes import index_holder, snapshot_name
from computekyc.services.linking import usage_store
from computekyc.services.lists import SnapshotChoice, ensure_snapshot
from computekyc.services.namekeys import NameKeysCache
from computekyc.services.scanmemo import (
    DeterminationResults,
    KeptDetermination,
    ScanMemo,
    UsageFacts,
    book_queries_key,
    determination_context,
    folder_digest,
    keep_determination,
    load_determinations,
    load_memo,
    load_usage_facts,
    read_book_once,
    save_memo,
    save_usage_facts,
    scan_inputs,
    usage_key,
)
from computekyc.services.scantail import ScanTail, TailFacts, scan_tail
from computekyc.services.screening import (
    NameQuery,
    book_queries,
    save_screening,
    screen_queries,
    stored_hits,
)
from computekyc.settings import Settings
from computekyc.usage import Filters, Run, UsageStore, ingest, make_engine, runs, summary
from computekyc.usage import Settings as UsageSettings
from computekyc.users import local_operator
from computekyc.workflow.db import open_database, utc_now

Progress = Callable[[str], None]


@dataclass(slots=True)
class ScanCounts:
    customers: int
    accounts: int
    entities: int
    screened_full: int
    screened_delta: int
    screened_cached: int
    usage_files_ingested: int
    determinations: int
    carried: frozenset[str] = frozenset()  # customers whose determinations stood (same inputs)


@dataclass(slots=True)
class ScanResult:
    scan_id: int
    snapshot: str
    list_snapshot: SnapshotChoice
    book: BookImport
    counts: ScanCounts
    sync: SyncResult
    open_alerts: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``scan --json`` contract: exactly these keys."""
        return {
            "snapshot": self.snapshot,
            "customers": self.counts.customers,
            "accounts": self.counts.accounts,
            "screened": {"full": self.counts.screened_full, "delta": self.counts.screened_delta},
            "alerts": {
                "new": self.sync.new,
                "updated": self.sync.updated + self.sync.reopened,
                "resolved": self.sync.resolved,
                "open": self.open_alerts,
            },
            "seconds": round(self.seconds, 2),
        }


def _geoip(settings: Settings) -> GeoIP | None:
    try:
        return open_geoip(settings.geoip_dir)
    except GeoIPNotFound:
        if settings.geoip_dir is not None:
            raise
        return None


def _previous_entities(connection: Connection, provider: str) -> dict[str, str]:
    rows = connection.execute(
        select(book_entities.c.account_id, book_entities.c.entity_id).where(
            book_entities.c.provider == provider
        )
    )
    return {str(a): str(e) for a, e in rows}


def _stored_linking(connection: Connection, provider: str) -> tuple[str, list[dict[str, Any]]]:
    row = connection.execute(
        select(book_linking.c.input_hash, book_linking.c.entities).where(
            book_linking.c.provider == provider
        )
    ).first()
    return (str(row[0]), json.loads(row[1])) if row is not None else ("", [])


def _link(
    connection: Connection,
    book: Book,
    operations: dict[str, float],
    geoip: GeoIP | None,
) -> tuple[list[dict[str, Any]], str, bool, set[str]]:
    """Entities of the book's accounts: reused while accounts, usage and the IP database are
    unchanged, else linked again against the stored assignment (stable entity ids); with the
    ids of the entities stored before (their alerts resolve when they merged or went)."""
    digest = hashlib.sha256()
    for account in sorted(book.accounts, key=lambda a: a.id):
        digest.update(f"{account.id}\t{account.content_hash}\n".encode())
    digest.update(canonical_json(sorted(operations.items())).encode())
    digest.update(canonical_json(geoip.source.describe() if geoip else None).encode())
    input_hash = digest.hexdigest()
    stored_hash, stored = _stored_linking(connection, book.provider)
    if stored_hash == input_hash:
        # The stored rows per account were written with these entities (by _write_linking,
        # in one transaction): the entities holding an account are the ones stored before.
        return stored, input_hash, False, {str(e["entity_id"]) for e in stored if e["accounts"]}
    previous = _previous_entities(connection, book.provider)
    earlier = set(previous.values())
    if not book.accounts:
        return [], input_hash, True, earlier
    result = link_accounts([a.record for a in book.accounts], "duckdb", operations, geoip, previous)
    return [e.to_json() for e in result.entities], input_hash, True, earlier


def _write_linking(
    connection: Connection, provider: str, entities: list[dict[str, Any]], input_hash: str
) -> None:
    connection.execute(delete(book_entities).where(book_entities.c.provider == provider))
    rows = [
        {"provider": provider, "account_id": a, "entity_id": e["entity_id"]}
        for e in entities
        for a in e["accounts"]
    ]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(book_entities), rows[start : start + 5000])
    connection.execute(delete(book_linking).where(book_linking.c.provider == provider))
    connection.execute(
        insert(book_linking).values(
            provider=provider, input_hash=input_hash, entities=canonical_json(entities)
        )
    )


def _unknown_hardware(
    engine: Any, accounts: set[str], last_day: date
) -> dict[str, list[dict[str, Any]]]:
    rows = engine.query(
        "SELECT account, hardware_name, count(*) AS rows, "
        "sum(coalesce(gpu_seconds, 0)) / 3600.0 AS gpu_hours FROM usage "
        "WHERE chip IS NULL AND hardware_name IS NOT NULL AND account IS NOT NULL "
        f"AND start_s < {((last_day - date(1970, 1, 1)).days + 1) * 86400} "
        "GROUP BY account, hardware_name ORDER BY account, hardware_name"
    )
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["account"] in accounts:
            out[row["account"]].append(
                {
                    "hardware_name": row["hardware_name"],
                    "rows": int(row["rows"]),
                    "gpu_hours": round(float(row["gpu_hours"]), 3),
                }
            )
    return dict(out)


# Above this many candidate accounts, one query over all runs beats one query per account.
_PER_ACCOUNT_RUNS = 20


def _threshold_runs(engine: Any, per_account: dict[str, dict[str, Any]], on: date) -> list[Run]:
    """The runs of the accounts that can have crossed a threshold: only an account whose total
    operations or peak rate reaches the lowest threshold can hold a run that crossed one."""
    limits = UsageSettings().thresholds
    lowest = min(limits.operations)
    candidates = sorted(
        account
        for account, row in per_account.items()
        if float(row["estimated_operations"]) >= lowest
        or float(row["peak_ops_per_second"]) >= limits.ops_per_second
    )
    if not candidates:
        return []
    if len(candidates) > _PER_ACCOUNT_RUNS:
        wanted = set(candidates)
        return [r for r in runs(engine, filters=Filters(last_day=on)) if r.account in wanted]
    found: list[Run] = []
    for account in candidates:
        found.extend(runs(engine, filters=Filters(account=account, last_day=on)))
    return found


def _scanned_usage(row: dict[str, Any], strings: dict[Any, Any]) -> dict[str, Any]:
    """Of an account's usage summary, what the scan reads (operations, GPU-hours per chip,
    controlled GPU-hours per chip and day), the figures as they are; dates and chip names
    shared (kept, the memo stays small and quick to load)."""

    def shared(text: Any) -> Any:
        return strings.setdefault(text, text)

    return {
        "account": row["account"],
        "estimated_operations": row["estimated_operations"],
        "peak_ops_per_second": row["peak_ops_per_second"],
        "by_chip": {
            shared(chip): {"gpu_hours": figures["gpu_hours"]}
            for chip, figures in row["by_chip"].items()
        },
        "days": [
            {
                "date": shared(day["date"]),
                "by_chip": {
                    shared(chip): {"controlled_gpu_hours": figures["controlled_gpu_hours"]}
                    for chip, figures in day["by_chip"].items()
                },
            }
            for day in row["days"]
        ],
    }


def _usage_facts(
    settings: Settings, provider: str, store: UsageStore, accounts: set[str], on: date
) -> UsageFacts:
    """The usage facts of the book's accounts as of the date: those of the last scan while the
    usage store holds the same files (by content hash), else read from the store again."""
    key = usage_key(_usage_state(store), accounts, on)
    found = load_usage_facts(settings, provider, key)
    if found is not None:
        return found
    engine = make_engine("duckdb", store)
    per_account = {
        row["account"]: row
        for row in summary(engine, filters=Filters(last_day=on))
        if row["account"] in accounts
    }
    runs_found = _threshold_runs(engine, per_account, on)
    strings: dict[Any, Any] = {}
    facts = UsageFacts(
        key=key,
        per_account={a: _scanned_usage(row, strings) for a, row in per_account.items()},
        runs=runs_found,
        unknown_hardware=_unknown_hardware(engine, accounts, on),
        texts=usage_texts(engine, accounts, on),
    )
    save_usage_facts(settings, provider, facts)
    return facts


def run_scan(
    settings: Settings,
    provider_dir: Path,
    *,
    lists: Path | None = None,
    as_of: date | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    actor: Actor | None = None,
) -> ScanResult:
    """Scan a provider folder (see the module docstring). ``workers > 1`` forks screening
    workers: for the command line only, never inside a server."""
    # What each stage leaves (the index, the book, the hits) stays to the end of the scan: it
    # is set aside from the cyclic collector, which would otherwise walk those millions of
    # objects again on every full collection while the next stage allocates (a process that
    # froze objects itself, such as the API server, keeps its own arrangement).
    freeze = gc.get_freeze_count() == 0
    try:
        with frozen_after_pauses() if freeze else nullcontext():
            return _scan(settings, provider_dir, lists, as_of, progress, workers, actor, freeze)
    finally:
        wait_for_index_saves()  # a new snapshot's index cache, written beside (workers > 1)
        if freeze:
            gc.unfreeze()


def _scan(
    settings: Settings,
    provider_dir: Path,
    lists: Path | None,
    as_of: date | None,
    progress: Progress | None,
    workers: int,
    actor: Actor | None,
    freeze: bool,
) -> ScanResult:
    started_clock = time.perf_counter()
    started = utc_now()
    on = as_of or date.today()
    say = progress or (lambda _message: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        if freeze:
            gc.freeze()

    say("lists: " + (f"loading the mirror {lists}" if lists else "the active snapshot"))
    choice = ensure_snapshot(settings, lists, reuse_unchanged=True)
    holder = index_holder(settings)
    info = holder.active()
    rules = load_rules()
    rule_versions = {"rules": rules.version_tag(), "as_of": on.isoformat()}
    engine = open_database(settings)
    alert_store = AlertStore(engine)
    lap("lists")

    provider = provider_name(provider_dir)
    store = usage_store(settings)
    folder = folder_digest(book_files(provider_dir), usage_files(provider_dir))
    geoip = _geoip(settings)
    geoip_source = geoip.source.describe() if geoip else None

    def fingerprint() -> str:
        return scan_inputs(
            settings,
            provider,
            folder,
            _usage_state(store),
            (info.id, info.created_at),
            rules.version_tag(),
            on,
            geoip_source,
        )

    with engine.connect() as connection:
        last = load_memo(settings, connection, provider)
    memo = last if last is not None and last.fingerprint == fingerprint() else None
    lap("inputs")
    if memo is not None:
        say(
            f"book, usage, lists, rules and date unchanged since scan {memo.scan_id} "
            "(content hashes): its findings stand"
        )
        return _replay(
            settings, memo, choice, actor, alert_store, rule_versions, on, started,
            started_clock, timings, lap, say,
        )  # fmt: skip

    if workers > 1:
        holder.make_beside()  # a new snapshot's index, made meanwhile on the other core
    say(f"lists: {snapshot_name(info.id)} ({choice.info.parties:,} parties)")

    reading = read_book_once(settings, provider_dir, folder)
    book = reading.book
    with engine.connect() as connection:
        # The book revision the last scan imported (the memo is that of the latest scan).
        imported = (last.book_revision, last.book_hash) if last is not None else None
        plan = plan_import(connection, book, imported, reading.content_hash)
    say(
        f"book: {len(book.customers):,} customers, {len(book.accounts):,} accounts "
        f"({plan.counts()['added']} new, {plan.counts()['changed']} changed, "
        f"{plan.counts()['removed']} removed)"
    )
    lap("book")

    reports = ingest(book.usage_files, store=store) if book.usage_files else []
    fresh = sum(r.status == "ingested" for r in reports)
    say(f"usage: {len(reports)} file(s), {fresh} newly ingested")
    account_ids = {a.id for a in book.accounts}
    usage = _usage_facts(settings, provider, store, account_ids, on)
    per_account, account_runs = usage.per_account, usage.runs
    unknown, texts = usage.unknown_hardware, usage.texts
    lap("usage")

    operations = {a: float(row["estimated_operations"]) for a, row in per_account.items()}
    with engine.connect() as connection:
        entities, link_hash, relinked, earlier_entities = _link(connection, book, operations, geoip)
    say(f"linking: {len(entities):,} entities" + ("" if relinked else " (unchanged)"))
    lap("linking")

    loaded = holder.current(save_beside=workers > 1)
    lap("index")

    # Each distinct (name, country, type) once, in the order first asked. The queries, kept
    # name analyses and a book's worth of answers are acyclic: no collector walking them.
    # The same book files ask the same queries: kept with the name analyses.
    asked_of = book_queries_key(folder, provider)
    with gc_paused():
        names = NameKeysCache.load(settings.ensure_home())
        keyed = book_queries(names, asked_of)
        queries: list[NameQuery] = (
            list(keyed.values())
            if keyed is not None
            else list(
                dict.fromkeys(
                    chain(
                        (q for customer in book.customers for q in customer_queries(customer)),
                        (q for account in book.accounts for q in account_queries(account.record)),
                    )
                )
            )
        )
    with engine.connect() as connection, gc_paused():
        outcome = screen_queries(
            connection,
            loaded,
            holder.store(),
            keyed if keyed is not None else queries,
            rules.possible_threshold,
            workers=workers,
            names=names,
        )
    names.asked_by(asked_of)
    say(
        f"screening: {len(queries):,} distinct names — {outcome.full:,} "
        f"against the whole snapshot, {outcome.delta:,} against its changes only, "
        f"{outcome.cached:,} unchanged"
    )
    lap("screening")

    customer_of = {a.id: a.record.customer_id for a in book.accounts}
    chips_by_customer: dict[str, set[str]] = defaultdict(set)
    for account_id, row in per_account.items():
        owner = customer_of.get(account_id)
        if owner is None:
            continue
        for chip, figures in row["by_chip"].items():
            if chip and float(figures["gpu_hours"]) > 0:
                chips_by_customer[owner].add(_determinable(str(chip)))
    graph = loaded.graph
    # Carried and made determinations are many small acyclic objects: no collector meanwhile.
    with engine.connect() as connection, gc_paused():
        screener = PrescreenedScreener(
            loaded,
            dict(outcome.hits),
            rules.possible_threshold,
            identifier_table(loaded.index.parties),
            lambda query: stored_hits(
                connection, query, loaded.list_snapshot_id, rules.possible_threshold
            ),
        )
        context = determination_context(on, rules.version_tag())
        earlier = load_determinations(settings, connection, book.provider, context)
        # The customers no list fact reaches, with their own inputs; those among them whose
        # inputs the last scan's kept determinations were made of are carried.
        reach = ListReach(screener, graph)
        untouched: dict[str, tuple[str, tuple[str, ...], TreeReach]] = {}
        carried: dict[str, KeptDetermination] = {}
        kept_before = earlier.kept if earlier is not None else {}
        for c in book.customers:
            chips = tuple(sorted(chips_by_customer.get(c.id, ())))
            kept = kept_before.get(c.id)
            if kept is not None and not kept.stands(c.content_hash, chips):
                kept = None
            tree = kept.reach if kept is not None else tree_reach(c.customer)
            if reach.untouched(c.customer, tree):
                untouched[c.id] = (c.content_hash, chips, tree)
                if kept is not None:
                    carried[c.id] = kept
        determined = determine_batch(
            [c.customer for c in book.customers if c.id not in carried],
            lambda cid: sorted(chips_by_customer.get(cid, ())),
            on,
            screener,
            rules,
            graph,
            workers=workers,  # every determination kept: the customer page and reports read them
        )
    for key, hits in screener.misses.items():
        outcome.to_insert.setdefault(key, hits)
        outcome.full += 1
    made = determined.kept
    results = DeterminationResults(carried, made, loaded.snapshot)
    say(
        f"determinations: {len(book.customers):,} customers as of {on} "
        f"({len(made):,} determined, {len(carried):,} carried forward: inputs unchanged), "
        f"{results.not_clear():,} not clear"
    )
    lap("determinations")

    scope = _scope(book, plan, entities)
    scope[SubjectKind.ENTITY] |= earlier_entities  # merged or gone: their alerts resolve
    counts = ScanCounts(
        customers=len(book.customers),
        accounts=len(book.accounts),
        entities=len(entities),
        screened_full=outcome.full,
        screened_delta=outcome.delta,
        screened_cached=outcome.cached,
        usage_files_ingested=fresh,
        determinations=determined.count + sum(k.made for k in carried.values()),
        carried=frozenset(carried),
    )
    # The screening register behind `report screening` and the memos: made by a forked process
    # (command line) while this one raises the alerts and writes, kept once the transaction has
    # committed.
    from computekyc.services.reports import register_entries

    shared: dict[str, Any] = {}  # equal items and texts of the kept determinations pickled once
    tail = scan_tail(
        ScanTail(
            settings,
            provider,
            started,
            loaded.snapshot,
            register=lambda stands: register_entries(
                0,
                book,
                screener.hits,
                results,
                loaded.parties,
                loaded.snapshot,
                on,
                rules,
                stands,
                quiet_trees=untouched,  # no name of their trees has a hit
            ),
            register_base=getattr(last, "register", None),  # a memo of older code may lack it
            record_stands=lambda kind, subject_id, customer_id: (
                subject_id in (plan.customers if kind == "customer" else plan.accounts).unchanged
                and (customer_id is None or customer_id in carried)
            ),
            context=context,
            kept_determinations=lambda: (
                (
                    cid,
                    carried.get(cid)
                    or keep_determination(*inputs, made[cid], raises_drafts(made[cid]), shared),
                )
                for cid, inputs in untouched.items()
            ),
            memo=lambda: ScanMemo(
                provider=provider,
                # after ingesting: the usage store the next scan sees
                fingerprint=fingerprint(),
                scan_id=0,
                book_revision=0,
                book_hash=plan.content_hash,
                snapshot=loaded.snapshot,
                drafts=[],  # the drafts come with the scan's ids
                scope={
                    SubjectKind.CUSTOMER: {c.id for c in book.customers},
                    SubjectKind.ACCOUNT: {a.id for a in book.accounts},
                    SubjectKind.ENTITY: {str(e["entity_id"]) for e in entities},
                },
                queries=len(queries),
                determinations=counts.determinations,
            ),
            save_names=lambda: names.saver(q.name for q in queries),
            folder_unchanged=lambda: (
                folder_digest(book_files(provider_dir), usage_files(provider_dir)) == folder
            ),
        ),
        fork=workers > 1,
    )
    facts = ScanFacts(
        book=book,
        as_of=on,
        rules=rules,
        loaded=loaded,
        hits=screener.hits,
        determinations=results.kept_whole(),
        usage=per_account,
        runs=account_runs,
        unknown_hardware=unknown,
        entities=entities,
        quiet_trees=untouched,  # no list fact reaches their trees: no name of them has a hit
        footprint=find_footprint(
            settings,
            book.accounts,
            book.customers,
            texts,
            loaded.index.parties,
            kept_as=(provider, f"{reading.content_hash}\0{usage.key}"),
        ),
    )
    drafts = build_drafts(facts)
    lap("alerts")
    encoded = encode_determinations(made, fork=workers > 1)  # meanwhile, the book is written
    # The scan's one transaction; the collector paused while it makes its many rows (each full
    # collection would rescan every object the scan holds: the book, the index, the results).
    with tail, gc_paused(), engine.begin() as connection, _page_cache(connection):
        revision = write_import(connection, book, plan)
        save_screening(connection, outcome)
        if relinked:
            _write_linking(connection, book.provider, entities, link_hash)
        scan_id, sync = _record(
            connection,
            settings,
            alert_store,
            drafts,
            scope,
            _Stamp(provider, started, started_clock, on, loaded.snapshot, revision),
            counts,
            rule_versions,
            actor,
        )
        tail.send(TailFacts(scan_id, revision, drafts))  # written meanwhile
        save_determinations(
            connection,
            scan_id,
            book.provider,
            made,
            plan.customers.removed if carried else None,
            encoded,
        )
    lap("write")
    tail.commit()
    lap("memos")  # the register and memos, once the transaction has committed
    return _result(alert_store, say, scan_id, loaded.snapshot, choice, plan, counts, sync,
                   started_clock, timings)  # fmt: skip


# SQLite's page cache during the scan's transaction, in KiB (the default is 2 MiB): the tables
# and indexes it fills stay in memory instead of being spilled to the write-ahead log and read
# back. Taken only as pages are used; durability is the same (the commit syncs the log).
_SCAN_CACHE_KIB = 262144


@contextmanager
def _page_cache(connection: Connection) -> Iterator[None]:
    """A larger SQLite page cache for the block, the connection's own put back after it."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{_SCAN_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


@dataclass(frozen=True, slots=True)
class _Stamp:
    """What the ``scans`` row and the audit entries say about the scan."""

    provider: str
    started: str
    started_clock: float
    as_of: date
    snapshot: str
    book_revision: int


def _record(
    connection: Connection,
    settings: Settings,
    alert_store: AlertStore,
    drafts: list[AlertDraft],
    scope: dict[SubjectKind, set[str]],
    stamp: _Stamp,
    counts: ScanCounts,
    rule_versions: dict[str, Any],
    actor: Actor | None,
) -> tuple[int, SyncResult]:
    """In the scan's transaction: the alert sync, the ``scans`` row, an audit entry per alert
    change and one for the scan, and a signed checkpoint."""
    sync = alert_store.sync(
        connection,
        drafts,
        in_scope=lambda kind, subject: subject in scope.get(kind, set()),
        snapshot=stamp.snapshot,
        rule_versions=rule_versions,
    )
    seconds = time.perf_counter() - stamp.started_clock
    inserted = connection.execute(
        insert(scans).values(
            provider=stamp.provider,
            started=stamp.started,
            finished=utc_now(),
            as_of=stamp.as_of.isoformat(),
            snapshot=stamp.snapshot,
            book_revision=stamp.book_revision,
            counts=canonical_json(
                {
                    "customers": counts.customers,
                    "accounts": counts.accounts,
                    "entities": counts.entities,
                    "screened": {"full": counts.screened_full, "delta": counts.screened_delta},
                    "alerts": {
                        "new": sync.new,
                        "updated": sync.updated,
                        "reopened": sync.reopened,
                        "resolved": sync.resolved,
                    },
                    "seconds": round(seconds, 2),
                }
            ),
        )
    ).inserted_primary_key
    assert inserted is not None
    scan_id = int(inserted[0])
    _audit_scan(
        connection,
        actor or local_operator(),
        scan_id,
        sync,
        snapshot=stamp.snapshot,
        rule_versions=rule_versions,
        book_revision=stamp.book_revision,
    )
    audit.sign_checkpoint(connection, settings, f"scan {scan_id}")
    return scan_id, sync


def _usage_state(store: UsageStore) -> list[str]:
    """Every source file the usage store holds (one manifest per ingested file)."""
    return sorted(p.name for p in (store.root / "manifest").glob("*.json"))


def _replay(
    settings: Settings,
    memo: ScanMemo,
    choice: SnapshotChoice,
    actor: Actor | None,
    alert_store: AlertStore,
    rule_versions: dict[str, Any],
    on: date,
    started: str,
    started_clock: float,
    timings: dict[str, float],
    lap: Callable[[str], None],
    say: Progress,
) -> ScanResult:
    """An unchanged re-scan: the kept drafts synchronised with the queue, in one transaction."""
    customers = memo.scope[SubjectKind.CUSTOMER]
    accounts = memo.scope[SubjectKind.ACCOUNT]
    counts = ScanCounts(
        customers=len(customers),
        accounts=len(accounts),
        entities=len(memo.scope[SubjectKind.ENTITY]),
        screened_full=0,
        screened_delta=0,
        screened_cached=memo.queries,
        usage_files_ingested=0,
        determinations=memo.determinations,
    )
    engine = alert_store.engine
    with gc_paused(), engine.begin() as connection:
        scan_id, sync = _record(
            connection,
            settings,
            alert_store,
            memo.drafts,
            memo.scope,
            _Stamp(
                memo.provider, started, started_clock, on, memo.snapshot,
                memo.book_revision,
            ),
            counts,
            rule_versions,
            actor,
        )  # fmt: skip
    from computekyc.services.reports import carry_register

    carry_register(settings, memo.scan_id, scan_id, started)
    lap("write")
    memo.scan_id = scan_id
    save_memo(settings, memo.provider, memo)
    plan = BookImport(
        provider=memo.provider,
        content_hash=memo.book_hash,
        previous_revision=memo.book_revision,
        revision=memo.book_revision,
        customers=RecordDelta(unchanged=set(customers)),
        accounts=RecordDelta(unchanged=set(accounts)),
    )
    return _result(alert_store, say, scan_id, memo.snapshot, choice, plan, counts, sync,
                   started_clock, timings)  # fmt: skip


def _result(
    alert_store: AlertStore,
    say: Progress,
    scan_id: int,
    snapshot: str,
    choice: SnapshotChoice,
    plan: BookImport,
    counts: ScanCounts,
    sync: SyncResult,
    started_clock: float,
    timings: dict[str, float],
) -> ScanResult:
    open_count = alert_store.count([AlertStatus.OPEN])
    say(
        f"alerts: {sync.new} new, {sync.updated + sync.reopened} updated, "
        f"{sync.resolved} resolved, {open_count} open"
    )
    return ScanResult(
        scan_id=scan_id,
        snapshot=snapshot,
        list_snapshot=choice,
        book=plan,
        counts=counts,
        sync=sync,
        open_alerts=open_count,
        seconds=time.perf_counter() - started_clock,
        timings=timings,
    )


def account_queries(record: Any) -> Iterable[NameQuery]:
    kind = "individual" if record.type == "individual" else "entity"
    yield NameQuery(record.name, record.country, kind)
    for owner in record.beneficial_owners:
        yield NameQuery(owner, None, None)


def _scope(
    book: Book, plan: BookImport, entities: list[dict[str, Any]]
) -> dict[SubjectKind, set[str]]:
    """The subjects this scan evaluated: live and removed records, and today's entities."""
    return {
        SubjectKind.CUSTOMER: {c.id for c in book.customers} | plan.customers.removed,
        SubjectKind.ACCOUNT: {a.id for a in book.accounts} | plan.accounts.removed,
        SubjectKind.ENTITY: {str(e["entity_id"]) for e in entities},
    }


UNCLASSIFIED = "(unclassified) "


def _determinable(chip: str) -> str:
    """The chip to determine a customer for: hardware the catalogue does not know counts as the
    most capable chip of its vendor class (at least H100), never as uncontrolled."""
    if chip.startswith(UNCLASSIFIED):
        return assumed_chip(chip[len(UNCLASSIFIED) :].strip() or None).chip.id
    return chip


def _audit_scan(
    connection: Connection,
    actor: Actor,
    scan_id: int,
    sync: SyncResult,
    *,
    snapshot: str,
    rule_versions: dict[str, Any],
    book_revision: Any,
) -> None:
    """Every alert the scan raised, changed, re-opened or resolved, and the scan itself, in the
    audit log, in the scan's own transaction."""
    context = {"scan": scan_id, "book_revision": book_revision}
    entries = [
        AuditEntry(
            action=f"alert.{change.action}",
            object_kind="alert",
            object_id=str(change.alert_id),
            actor=actor,
            reason="; ".join(change.what) or None,
            before=change.before,
            after=change.after,
            subject_kind=change.after["subject"]["kind"],
            subject_id=change.after["subject"]["id"],
            snapshot=snapshot,
            rule_versions=rule_versions,
            context=context,
        )
        for change in sync.changes
    ]
    entries.append(
        AuditEntry(
            action="scan.completed",
            object_kind="scan",
            object_id=str(scan_id),
            actor=actor,
            after={
                "new": sync.new,
                "updated": sync.updated,
                "reopened": sync.reopened,
                "resolved": sync.resolved,
                "unchanged": sync.unchanged,
            },
            snapshot=snapshot,
            rule_versions=rule_versions,
            context=context,
        )
    )
    audit.append_many(connection, entries)
