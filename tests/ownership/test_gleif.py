"""GLEIF Level 2 readers (API JSON:API and RR-CDF XML) and determinations over their chains."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from computekyc.ownership import (
    ExactScreener,
    Item,
    OwnershipGraph,
    RuleSet,
    determine,
    parse_customer,
    read_gleif_api,
    read_lei_cdf,
    read_rr_cdf,
)

ON = date(2026, 7, 1)


def test_api_relationships_give_direct_and_ultimate_parents(shared: Path) -> None:
    nodes, edges = read_gleif_api(shared / "data" / "ownership" / "gleif-api" / "relationships")
    assert nodes == []  # relationship files hold relationship-records only
    bloomberg = {(e.relation, e.parent) for e in edges if e.child == "lei:5493001KJTIIGC8Y1R12"}
    assert ("consolidated-by", "lei:549300B56MD0ZC402L06") in bloomberg
    assert ("ultimately-consolidated-by", "lei:549300RMUDWPHCUQNE66") in bloomberg
    direct = next(
        e
        for e in edges
        if e.child == "lei:5493001KJTIIGC8Y1R12" and e.relation == "consolidated-by"
    )
    assert direct.valid_from == date(2007, 6, 5) and direct.share is None


def test_api_lei_records_carry_headquarters(graph: OwnershipGraph) -> None:
    assert graph.nodes["lei:549300RMUDWPHCUQNE66"].name == "Bloomberg Inc."
    assert graph.nodes["lei:836800FXO82WAQQSJI94"].headquarters_country == "CN"
    assert graph.ultimate_parent("lei:5493001KJTIIGC8Y1R12") == "lei:549300RMUDWPHCUQNE66"


def test_golden_copy_rr_cdf_chain(shared: Path, graph: OwnershipGraph) -> None:
    edges = read_rr_cdf(
        shared / "data" / "ownership" / "gleif-golden-copy" / "rr-updates-data2.xml"
    )
    kinds = {e.relation for e in edges}
    assert kinds == {"consolidated-by", "ultimately-consolidated-by"}  # fund links skipped
    chain = graph.chain("lei:98450051BS9C610A8T78", relation="consolidated-by")
    assert chain == [
        "lei:98450051BS9C610A8T78",
        "lei:2138002YAB7Z9KO21397",
        "lei:984500501A1B1045PB30",
    ]
    assert graph.ultimate_parent("lei:98450051BS9C610A8T78") == "lei:984500501A1B1045PB30"


def test_golden_copy_lei_cdf_nodes(shared: Path) -> None:
    nodes = read_lei_cdf(shared / "data" / "ownership" / "gleif-golden-copy" / "lei-data.xml")
    first = nodes[0]
    assert first.key == "lei:001GPB6A9XPE8XJICC14"
    assert first.name == "Fidelity Advisor Leveraged Company Stock Fund"
    assert first.headquarters_country == "US"


def test_singapore_subsidiary_of_us_parent_from_gleif_is_clear(
    exact: ExactScreener, rules: RuleSet, graph: OwnershipGraph, h100: Item
) -> None:
    record = {
        "id": "ms-sg",
        "name": "Microsoft Regional Sales Pte Ltd",
        "type": "entity",
        "country": "SG",
        "headquarters_country": "SG",
        "identifiers": {"lei": "8945006UNIT4VSLO5077"},
    }
    result = determine(parse_customer(record), h100, ON, exact, rules, graph)
    assert result.status == "clear"
    hq = next(r for r in result.rules if r.rule == "hq_advanced_computing")
    top = hq.paths[0][0]
    assert top["name"] == "MICROSOFT CORPORATION" and top["source"] == "GLEIF-API"


def test_lei_record_headquarters_in_china_needs_a_licence(
    exact: ExactScreener, rules: RuleSet, graph: OwnershipGraph, h100: Item, l20: Item
) -> None:
    record = {
        "id": "ms-cn",
        "name": "Microsoft (China) Co., Ltd.",
        "type": "entity",
        "identifiers": {"lei": "836800FXO82WAQQSJI94"},
    }
    result = determine(parse_customer(record), h100, ON, exact, rules, graph)
    assert result.status == "license_required"
    assert "headquarters CN taken from GLEIF-API" in result.explanation
    assert determine(parse_customer(record), l20, ON, exact, rules, graph).status == "clear"
