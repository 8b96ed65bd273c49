"""The carried path's shortcuts answer exactly as the plain checks.

* whether a list fact reaches a customer's tree, tested from the tree's kept keys against sets
  made once per scan (:class:`ListReach`), is :func:`untouched_by_lists` — customers reached by
  a name hit, a listed identifier, an identifier or node of the ownership graph, and names the
  batch did not screen (screened on demand, exactly as the plain check screens them);
* the screener's identifier table is the party index's.
"""

from __future__ import annotations

from dataclasses import replace

from computekyc.book import read_book
from computekyc.lists import Party, PartyType
from computekyc.ownership import Customer, Holder, Node, OwnershipGraph, load_rules
from computekyc.services import index_holder
from computekyc.services.determination import (
    ListReach,
    PrescreenedScreener,
    holder_queries,
    identifier_table,
    tree_reach,
    untouched_by_lists,
)
from computekyc.services.screening import HitRecord
from computekyc.settings import Settings

from .conftest import EXAMPLE


def _reached_customers(
    parties: list[Party], node_key: str, graph_ident: tuple[str, str]
) -> list[Customer]:
    """Customers the lists reach in each way the plain check looks at, deep in the tree."""
    listed = next(p for p in parties if p.identifiers and p.type == PartyType.ENTITY)
    ident = listed.identifiers[0]
    person = next(p for p in parties if p.type == PartyType.INDIVIDUAL)
    made = []
    for n, owner in enumerate(
        [
            Holder("Quiet Owner Holdings Ltd", identifiers={ident.scheme: ident.value}),
            Holder(listed.name, country=None, type="entity"),
            Holder("Quiet Owner Holdings Ltd", directors=[person.name]),
            Holder("Quiet Owner Holdings Ltd", graph_key=node_key),
            Holder("Quiet Owner Holdings Ltd", identifiers=dict([graph_ident])),
        ]
    ):
        parent = Holder("Plain Intermediate Holdings BV", owners=[owner])
        made.append(
            Customer(f"reached-{n}", Holder(f"Plain Cloud Buyer {n} GmbH", owners=[parent]))
        )
    return made


def test_list_reach_is_untouched_by_lists(scan_settings: Settings) -> None:
    loaded = index_holder(scan_settings).current()
    rules = load_rules()
    # The lists' own graph, and a node holding an identifier (as a GLEIF record does).
    graph = OwnershipGraph()
    graph.extend(loaded.graph.nodes.values(), [])
    hidden = ("lei", "5299000J2N45DDNE4Y28")
    graph.add_node(Node("test:hidden-parent", "Hidden Parent Ltd", identifiers=(hidden,)))
    customers = [c.customer for c in read_book(EXAMPLE).customers]
    customers += _reached_customers(list(loaded.index.parties), min(loaded.graph.nodes), hidden)
    table = identifier_table(loaded.index.parties)
    assert table == dict(loaded.party_index.by_identifier)

    def screener(hits: dict[str, list[HitRecord]]) -> PrescreenedScreener:
        return PrescreenedScreener(loaded, dict(hits), rules.possible_threshold, table)

    # Every name of every tree screened (as the scan's batch does) ...
    full = screener({})
    for customer in customers:
        for query in holder_queries(customer.root):
            full.hits_for(query)
    # ... and only every other one (the rest screened on demand).
    partial = dict(list(full.hits.items())[::2])
    for hits in (full.hits, partial):
        plain, fast = screener(hits), screener(hits)
        reach = ListReach(fast, graph)
        expected = [untouched_by_lists(c, plain, graph) for c in customers]
        assert [reach.untouched(c, tree_reach(c)) for c in customers] == expected
        assert fast.misses == plain.misses and fast.hits == plain.hits
        assert not any(expected[-5:]) and sum(expected) >= 3
    # The kept reach is the tree's: the same record, the same keys.
    first = customers[0]
    assert tree_reach(first) == tree_reach(replace(first, root=replace(first.root)))
