"""Determinations through the real screening engine over the real mirror (fuzzy matching)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from computekyc.lists.model import Party
from computekyc.ownership import (
    CachedScreener,
    Item,
    OwnershipGraph,
    RuleSet,
    determine,
    parse_customer,
)
from computekyc.ownership.screener import Screener
from computekyc.ownership.sources import ListData, engine_screener, parties_digest

ON = date(2026, 7, 1)


@pytest.fixture(scope="session")
def engine(
    parties: list[Party], rules: RuleSet, tmp_path_factory: pytest.TempPathFactory
) -> Screener:
    data = ListData(parties=parties, snapshot_id=parties_digest(parties))
    home = tmp_path_factory.mktemp("home")
    return CachedScreener(engine_screener(data, home, rules.possible_threshold))


def run(record: dict[str, Any], item: Item, on: date, engine: Screener, rules: RuleSet,
        graph: OwnershipGraph | None = None) -> dict[str, Any]:  # fmt: skip
    return determine(parse_customer(record), item, on, engine, rules, graph).to_dict()


def by_rule(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in result["rules"] if r["rule"] == name)


def test_reordered_name_of_an_sdn_person_is_a_listed_owner(
    engine: Screener, rules: RuleSet, l20: Item
) -> None:
    # "Aleksandr Vyacheslavovich Zakharov" is the SDN's "ZAKHAROV, Aleksandr Vyacheslavovich"
    # written in natural order: exact matching would miss it, the engine must not.
    record = {
        "id": "e1", "name": "Kama Robotics LLC", "country": "KZ", "headquarters_country": "KZ",
        "owners": [{"name": "Aleksandr Vyacheslavovich Zakharov", "type": "individual",
                    "country": "RU", "share": 55}],
    }  # fmt: skip
    result = run(record, l20, ON, engine, rules)
    ofac = by_rule(result, "ofac_50")
    assert result["status"] == "blocked" and ofac["applied"]
    assert "SDN-45937" in {e["party_id"] for e in ofac["list_entries"]}


def test_engine_aggregate_and_affiliates_timeline(
    engine: Screener, rules: RuleSet, l20: Item
) -> None:
    blocked = {
        "id": "e2", "name": "Harbourfront Compute Pte Ltd", "country": "SG",
        "headquarters_country": "SG",
        "owners": [{"name": "ZALA Aero Group", "share": 30},
                   {"name": "Limited Liability Company Aeroscan", "share": 25}],
    }  # fmt: skip
    assert run(blocked, l20, ON, engine, rules)["status"] == "blocked"
    el_owned = {
        "id": "e3", "name": "Afsari Compute Services Pte Ltd", "country": "SG",
        "headquarters_country": "SG",
        "owners": [{"name": "Afsari General Trading L.L.C.", "country": "AE", "share": 60}],
    }  # fmt: skip
    statuses = [
        run(el_owned, l20, on, engine, rules)["status"]
        for on in (date(2025, 9, 1), date(2025, 10, 15), date(2026, 1, 15), date(2026, 11, 20))
    ]
    assert statuses == ["review", "license_required", "review", "license_required"]


def test_engine_zala_cluster_and_gleif(
    engine: Screener, rules: RuleSet, graph: OwnershipGraph, h100: Item
) -> None:
    record = {
        "id": "e4", "name": "Udmurt Drone Software LLC", "country": "AM",
        "headquarters_country": "AM", "owners": [{"name": "LLC CST", "share": 60}],
    }  # fmt: skip
    result = run(record, h100, ON, engine, rules, graph)
    assert result["status"] == "blocked"
    entries = {e["party_id"] for e in by_rule(result, "ofac_50")["list_entries"]}
    assert (
        "SDN-45928" in entries
    )  # A LEVEL AEROSYSTEMS CST LLC, a.k.a. LIMITED LIABILITY COMPANY CST
    clean = {
        "id": "e5", "name": "Microsoft Regional Sales Pte Ltd", "country": "SG",
        "identifiers": {"lei": "8945006UNIT4VSLO5077"},
    }  # fmt: skip
    assert run(clean, h100, ON, engine, rules, graph)["status"] == "clear"


def test_engine_evidence_keeps_the_token_by_token_explanation(
    engine: Screener, rules: RuleSet, l20: Item
) -> None:
    record = {
        "id": "e6", "name": "Harbourfront Compute Pte Ltd", "country": "SG",
        "headquarters_country": "SG", "owners": [{"name": "ZALA Aero Group", "share": 60}],
    }  # fmt: skip
    result = run(record, l20, ON, engine, rules)
    entries = by_rule(result, "ofac_50")["list_entries"]
    assert result["status"] == "blocked" and entries
    for entry in entries:
        tokens = entry["explanation"]["matches"]
        assert tokens and {"query", "candidate", "similarity"} <= set(tokens[0])
        assert any(t["candidate"] == "zala" for t in tokens)
