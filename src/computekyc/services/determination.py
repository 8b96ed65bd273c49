"""Batch determinations: many customers, each for the items it rents, on one date.

The determination engine asks its screener about every node of every ownership tree. Here the
names are screened once per scan (each distinct name once, in a batch, cached across scans, see
:mod:`computekyc.services.screening`), and :class:`PrescreenedScreener` answers the engine from
those results; a name the batch did not know (a parent found in the ownership graph) is screened
on demand and remembered.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from computekyc.bulk import gc_paused
from computekyc.chips import UnknownHardware
from computekyc.lists.model import Party
from computekyc.ownership import (
    DEFAULT_ITEM,
    Customer,
    Determination,
    Holder,
    Item,
    ListEntry,
    OwnershipGraph,
    PartyIndex,
    RuleSet,
    determine_items,
    identifier_key,
    resolve_item,
)
from computekyc.services.indexes import LoadedIndex
from computekyc.services.screening import HitRecord, NameQuery, query_key
from computekyc.settings import Settings

ENGINE_LIMIT = 10  # hits per name the determination engine reads (as the engine screener does)


def holder_queries(holder: Holder) -> Iterable[NameQuery]:
    """Every query the determination engine makes for a declared tree (owners, directors)."""
    yield NameQuery(holder.name, holder.country, holder.type)
    for director in holder.directors:
        yield NameQuery(director, None, "individual")
    for owner in holder.owners:
        yield from holder_queries(owner)


def entry_for(party: Party | None, hit: HitRecord, snapshot: str) -> ListEntry:
    if party is None:
        return ListEntry(
            party_id=hit["party_id"],
            source=hit["source"],
            name=hit["name"],
            score=float(hit["score"]),
            matched_name=hit["matched_name"],
            programs=tuple(hit["programs"]),
            snapshot_id=snapshot,
        )
    return ListEntry(
        party_id=party.party_id,
        source=party.source,
        name=party.name,
        score=float(hit["score"]),
        matched_name=hit["matched_name"],
        programs=tuple(party.programs),
        snapshot_id=snapshot,
        license_requirement=party.license_requirement,
        license_policy=party.license_policy,
        how="name",
        listed_on=party.listed_on,
        delisted_on=party.delisted_on,
    )


@dataclass(slots=True)
class PrescreenedScreener:
    """The ownership ``Screener`` protocol over batch results; misses are screened on demand."""

    loaded: LoadedIndex
    hits: dict[str, list[HitRecord]]
    threshold: float
    # The snapshot's party index, or only its parties by identifier key (the one part of it the
    # engine asks this screener about: :func:`identifier_table`, much quicker to make).
    parties: PartyIndex | Mapping[str, list[Party]]
    # Stored results of this snapshot for names the batch did not hold (None: not stored).
    stored: Callable[[NameQuery], list[HitRecord] | None] = lambda _query: None
    misses: dict[str, list[HitRecord]] = field(default_factory=dict)
    snapshot_id: str | None = None
    listed_identifiers: Mapping[str, list[Party]] = field(default_factory=dict)
    # The engine's answers per (name, country, type): owners and directors recur across
    # customers, and hashing a key or building list entries again costs more than the lookup.
    _entries: dict[tuple[str, str | None, str | None], tuple[ListEntry, ...]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.snapshot_id = self.loaded.snapshot
        parties = self.parties
        self.listed_identifiers = (
            parties.by_identifier if isinstance(parties, PartyIndex) else parties
        )

    def hits_for(self, query: NameQuery) -> list[HitRecord]:
        key = query.key
        found = self.hits.get(key)
        if found is None:
            found = self.stored(query)
            if found is None:
                screened = self.loaded.index.screen_query(query.query(), self.threshold)
                found = self.misses[key] = [h.to_dict() for h in screened]
            self.hits[key] = found
        return found

    def screen(self, name: str, country: str | None, type: str | None) -> list[ListEntry]:
        entries = self._entries.get((name, country, type))
        if entries is None:
            found = self.hits_for(NameQuery(name, country, type))
            by_id = self.loaded.parties
            entries = self._entries[(name, country, type)] = tuple(
                entry_for(by_id.get(h["party_id"]), h, self.loaded.snapshot)
                for h in found[:ENGINE_LIMIT]
            )
        return list(entries)

    def by_identifier(self, scheme: str, value: str) -> list[ListEntry]:
        parties = self.listed_identifiers.get(identifier_key(scheme, value), [])
        return [
            ListEntry(
                party_id=p.party_id,
                source=p.source,
                name=p.name,
                score=1.0,
                matched_name=f"{scheme} {value}",
                programs=tuple(p.programs),
                snapshot_id=self.loaded.snapshot,
                license_requirement=p.license_requirement,
                license_policy=p.license_policy,
                how="identifier",
                listed_on=p.listed_on,
                delisted_on=p.delisted_on,
            )
            for p in parties
        ]


def untouched_by_lists(
    customer: Customer, screener: PrescreenedScreener, graph: OwnershipGraph | None
) -> bool:
    """Whether no list fact reaches the customer's declared tree: no name in it (customer,
    owners, directors) has a hit, no identifier names a listed party or an ownership-graph
    node, no holder is a graph node. The determination then rests on the record, the items,
    the date and the rules alone: a snapshot that adds parties hitting nobody in the tree
    leaves it as it was."""
    nodes = graph.nodes if graph is not None else None
    by_identifier = screener.listed_identifiers
    stack = [customer.root]
    while stack:
        holder = stack.pop()
        if nodes is not None and holder.graph_key is not None and holder.graph_key in nodes:
            return False
        for scheme, value in holder.identifiers.items():
            if _identifier_reached(scheme, value, by_identifier, graph):
                return False
        stack.extend(holder.owners)
    return not _any_hits(customer.root, screener)


def _identifier_reached(
    scheme: str,
    value: str,
    listed: Mapping[str, list[Party]],
    graph: OwnershipGraph | None,
) -> bool:
    """Whether an identifier of a customer's tree names a listed party or an ownership-graph
    node."""
    if listed.get(identifier_key(scheme, value)):
        return True
    return graph is not None and bool(graph.find(scheme, value))


def _any_hits(holder: Holder, screener: PrescreenedScreener) -> bool:
    """Whether any query of :func:`holder_queries` has a hit, asked in the same order (a name
    the batch did not screen is screened on demand, as ``hits_for`` does)."""
    hits = screener.hits
    found = hits.get(query_key(holder.name, holder.country, holder.type))
    if found is None:
        found = screener.hits_for(NameQuery(holder.name, holder.country, holder.type))
    if found:
        return True
    for director in holder.directors:
        found = hits.get(query_key(director, None, "individual"))
        if found is None:
            found = screener.hits_for(NameQuery(director, None, "individual"))
        if found:
            return True
    return any(_any_hits(owner, screener) for owner in holder.owners)


def identifier_table(parties: Iterable[Party]) -> dict[str, list[Party]]:
    """Listed parties by identifier key, as ``PartyIndex.by_identifier`` holds them (same keys,
    same order) without the name tables a party index also builds."""
    table: dict[str, list[Party]] = {}
    for party in parties:
        for ident in party.identifiers:
            table.setdefault(identifier_key(ident.scheme, ident.value), []).append(party)
    return table


class TreeReach(NamedTuple):
    """What of a customer's declared tree a list snapshot can reach: the key of every query of
    :func:`holder_queries` (in its order), the graph nodes holders were read from, the
    identifiers. A pure function of the record (:func:`tree_reach`), kept with a carried
    determination so that the next scan tests it against the new snapshot without walking the
    tree again. A named tuple: the kept determinations are read back by every scan, and a tuple
    is rebuilt from its pickle without a per-field setter."""

    queries: tuple[str, ...]
    graph_keys: tuple[str, ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()


def tree_reach(customer: Customer) -> TreeReach:
    graph_keys: list[str] = []
    identifiers: list[tuple[str, str]] = []
    stack = [customer.root]
    while stack:
        holder = stack.pop()
        if holder.graph_key is not None:
            graph_keys.append(holder.graph_key)
        identifiers.extend(holder.identifiers.items())
        stack.extend(holder.owners)
    queries = [q.key for q in holder_queries(customer.root)]
    return TreeReach(tuple(queries), tuple(graph_keys), tuple(identifiers))


class ListReach:
    """:func:`untouched_by_lists` for many customers of one scan: the names answered without a
    hit are one set, made once; a customer's :class:`TreeReach` is tested against it and the
    snapshot's identifiers and graph nodes. The answer is the plain check's: a customer any of
    whose names the batch did not screen is given to the plain check (which screens it on
    demand, as it would have)."""

    def __init__(self, screener: PrescreenedScreener, graph: OwnershipGraph | None) -> None:
        self.screener = screener
        self.graph = graph
        self.clear = {key for key, found in screener.hits.items() if not found}

    def untouched(self, customer: Customer, reach: TreeReach) -> bool:
        if not self.clear.issuperset(reach.queries):
            hits = self.screener.hits
            if all(key in hits for key in reach.queries):
                return False  # a name of the tree has a hit
            return untouched_by_lists(customer, self.screener, self.graph)
        graph = self.graph
        if graph is not None and reach.graph_keys:
            nodes = graph.nodes
            if any(key in nodes for key in reach.graph_keys):
                return False
        listed = self.screener.listed_identifiers
        return not any(
            _identifier_reached(scheme, value, listed, graph) for scheme, value in reach.identifiers
        )


@dataclass(slots=True)
class CustomerDetermination:
    """A customer's determination for each item it rents (the worst one first)."""

    customer_id: str
    determinations: list[Determination]

    @property
    def worst(self) -> Determination:
        return self.determinations[0]


_ORDER = ("clear", "review", "license_required", "blocked")


def items_for(chips: Sequence[str], as_of: date, cache: dict[str, Item]) -> list[Item]:
    """The items a customer rented (catalogue chip names), or the default when none."""
    out: list[Item] = []
    for name in sorted(set(chips)):
        item = cache.get(name)
        if item is None:
            try:
                item = cache[name] = resolve_item(name, as_of)
            except UnknownHardware:
                continue  # raised as unclassified_hardware; never guessed into an item
        out.append(item)
    if not out:
        item = cache.get(DEFAULT_ITEM)
        if item is None:
            item = cache[DEFAULT_ITEM] = resolve_item(DEFAULT_ITEM, as_of)
        out.append(item)
    return out


def determine_many(
    customers: Iterable[Customer],
    chips_of: Callable[[str], Sequence[str]],
    as_of: date,
    screener: PrescreenedScreener,
    rules: RuleSet,
    graph: OwnershipGraph | None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, CustomerDetermination]:
    """Determine every customer for each chip it rented (``chips_of(customer_id)``)."""
    items: dict[str, Item] = {}
    out: dict[str, CustomerDetermination] = {}
    for customer in customers:
        results = determine_items(
            customer, items_for(chips_of(customer.id), as_of, items), as_of, screener, rules, graph
        )
        results.sort(key=lambda d: -_ORDER.index(d.status))
        out[customer.id] = CustomerDetermination(customer.id, results)
        if progress is not None:
            progress(1)
    return out


@dataclass(slots=True)
class Determined:
    """A batch's determinations: those the caller keeps, and how many were made in all."""

    kept: dict[str, CustomerDetermination]
    count: int  # determinations made (one per customer and item), kept or not


_FORKED: tuple[list[Customer], Callable[[str], Sequence[str]], date, PrescreenedScreener,
               RuleSet, OwnershipGraph | None, Callable[[CustomerDetermination], bool]] | None = (
    None
)  # fmt: skip
_FORK_LOCK = threading.Lock()
PARALLEL_MIN = 2000  # customers: below this a fork costs more than it saves
_CHUNK = 500


def _determine_range(
    bounds: tuple[int, int],
) -> tuple[list[tuple[str, int, CustomerDetermination | None]], dict[str, list[HitRecord]]]:
    """In a forked worker: determine customers[start:end]; return the kept results, the count
    for the others, and the names screened on demand (the parent stores them)."""
    assert _FORKED is not None, "worker started without its inputs"
    customers, chips_of, as_of, screener, rules, graph, keep = _FORKED
    screener.misses = {}
    start, end = bounds
    # The results are acyclic trees of small objects: the cyclic collector would only walk them.
    with gc_paused():
        found = determine_many(customers[start:end], chips_of, as_of, screener, rules, graph)
        out = [(cid, len(r.determinations), r if keep(r) else None) for cid, r in found.items()]
    return out, screener.misses


def determine_batch(
    customers: Sequence[Customer],
    chips_of: Callable[[str], Sequence[str]],
    as_of: date,
    screener: PrescreenedScreener,
    rules: RuleSet,
    graph: OwnershipGraph | None,
    keep: Callable[[CustomerDetermination], bool] = lambda _result: True,
    workers: int = 1,
) -> Determined:
    """Determine every customer (as :func:`determine_many`), keeping the results ``keep``
    accepts. ``workers > 1`` forks that many processes (command line only, never in a server):
    each determines a share of the customers against copy-on-write inputs and sends back only
    the kept results, and the names it screened on demand (added to ``screener.misses``)."""
    if workers <= 1 or len(customers) < PARALLEL_MIN or "fork" not in mp.get_all_start_methods():
        found = determine_many(customers, chips_of, as_of, screener, rules, graph)
        kept = {cid: r for cid, r in found.items() if keep(r)}
        return Determined(kept, sum(len(r.determinations) for r in found.values()))
    global _FORKED
    bounds = [(i, min(i + _CHUNK, len(customers))) for i in range(0, len(customers), _CHUNK)]
    result = Determined({}, 0)
    stored, screener.stored = screener.stored, lambda _query: None  # no shared connection
    with _FORK_LOCK:
        _FORKED = (list(customers), chips_of, as_of, screener, rules, graph, keep)
        gc.freeze()  # children must not touch (and so copy) every inherited object
        try:
            # Unpickling the results builds many small acyclic objects: no collector meanwhile.
            with gc_paused(), mp.get_context("fork").Pool(workers) as pool:
                for rows, misses in pool.imap(_determine_range, bounds):
                    for cid, count, made in rows:
                        result.count += count
                        if made is not None:
                            result.kept[cid] = made
                    for key, hits in misses.items():
                        screener.misses.setdefault(key, hits)
                        screener.hits.setdefault(key, hits)
        finally:
            gc.unfreeze()
            _FORKED = None
            screener.stored = stored
    return result


def determination_dicts(result: CustomerDetermination) -> list[dict[str, Any]]:
    return [d.to_dict() for d in result.determinations]


def determine_customers(
    settings: Settings,
    customers: Sequence[Customer],
    as_of: date,
    item: str | None = None,
    rules: RuleSet | None = None,
) -> dict[str, CustomerDetermination]:
    """Determinations of customers read by the caller (``computekyc determine``, the API) on
    the active snapshot: each distinct name screened once (stored results of this snapshot are
    reused, nothing is written), for ``item`` (else the default item)."""
    from computekyc.ownership import load_rules
    from computekyc.services.indexes import index_holder
    from computekyc.services.screening import screen_queries
    from computekyc.workflow import open_database

    holder = index_holder(settings)
    loaded = holder.current()
    rules = rules or load_rules()
    queries = [q for c in customers for q in holder_queries(c.root)]
    with open_database(settings).connect() as connection:
        outcome = screen_queries(
            connection, loaded, holder.store(), queries, rules.possible_threshold
        )
    screener = PrescreenedScreener(
        loaded, outcome.hits, rules.possible_threshold, loaded.party_index
    )
    chips = [item] if item else []
    return determine_many(customers, lambda _cid: chips, as_of, screener, rules, loaded.graph)
