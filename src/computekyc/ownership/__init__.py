"""Ownership and control: the ownership graph, the rule timeline, and determinations.

Public API (pure functions; IO only in the readers):
- ``read_customers(path)`` → Customer | InputError per JSONL line
- ``load_rules()`` → RuleSet (rule timeline + country groups from data files)
- ``load_gleif(dir)``, ``load_ftm(paths)``, ``load_list_parents(parties)`` → OwnershipGraph
- ``determine(customer, item, as_of, screener, rules, graph)`` → Determination
"""

from computekyc.ownership.customers import holder_kind, parse_customer, read_customers
from computekyc.ownership.determine import (
    CachedScreener,
    assess,
    build_tree,
    determine,
    determine_items,
)
from computekyc.ownership.ftm import load_ftm, read_ftm
from computekyc.ownership.gleif import load_gleif, read_gleif_api, read_lei_cdf, read_rr_cdf
from computekyc.ownership.graph import OwnershipGraph, identifier_key
from computekyc.ownership.items import DEFAULT_ITEM, Item, UnknownItem, resolve_item
from computekyc.ownership.listgraph import load_list_parents, parents_in_text
from computekyc.ownership.model import (
    Customer,
    Determination,
    Edge,
    Holder,
    InputError,
    ListEntry,
    Node,
    RuleResult,
)
from computekyc.ownership.rules import RuleSet, load_country_groups, load_rules
from computekyc.ownership.screener import EngineScreener, ExactScreener, PartyIndex, Screener

__all__ = [
    "DEFAULT_ITEM",
    "CachedScreener",
    "Customer",
    "Determination",
    "Edge",
    "EngineScreener",
    "ExactScreener",
    "Holder",
    "InputError",
    "Item",
    "ListEntry",
    "Node",
    "OwnershipGraph",
    "PartyIndex",
    "RuleResult",
    "RuleSet",
    "Screener",
    "UnknownItem",
    "assess",
    "build_tree",
    "determine",
    "determine_items",
    "holder_kind",
    "identifier_key",
    "load_country_groups",
    "load_ftm",
    "load_gleif",
    "load_list_parents",
    "load_rules",
    "parents_in_text",
    "parse_customer",
    "read_customers",
    "read_ftm",
    "read_gleif_api",
    "read_lei_cdf",
    "read_rr_cdf",
    "resolve_item",
]
