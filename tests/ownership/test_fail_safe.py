"""Fail-safe determinations on the real mirror: missing or impossible data is a review, not a clear.

Listed parties are the real SDN and Entity List records (exact names and identifiers from the
mirror); the companies between them and the customer are hand-built, as customers declare them or
as an FtM file states them.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from computekyc.lists.model import Party
from computekyc.ownership import (
    Determination,
    ExactScreener,
    Item,
    RuleSet,
    determine,
    parse_customer,
)
from computekyc.ownership.model import Status
from computekyc.ownership.names import NameFrequencies
from computekyc.ownership.sources import build_graph

ZALA = "LIMITED LIABILITY COMPANY ZALA AERO"  # SDN-45934, Tax ID No. 1841001815 (Russia)
ZALA_INN = "1841001815"
ZHANG_WEI = "SDN-45391"  # "ZHANG, Wei": DOB 16 Jun 1977, nationality China, National ID
ON = date(2026, 7, 1)


def rule(result: Determination, name: str) -> dict[str, Any]:
    return next(r for r in result.to_dict()["rules"] if r["rule"] == name)


def customer(owners: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    record = {
        "id": "c1",
        "name": "Lion City AI Compute Pte Ltd",
        "type": "entity",
        "country": "SG",
        "headquarters_country": "SG",
        "owners": owners,
    }
    record.update(extra)
    return record


def holdcos(levels: int, top: dict[str, Any]) -> dict[str, Any]:
    """``levels`` UK holding companies, each 100% of the next, under ``top``."""
    node = top
    for level in range(levels, 0, -1):
        node = {"name": f"Holdco {level} Ltd", "country": "GB", "headquarters_country": "GB",
                "share": 100, "owners": [node]}  # fmt: skip
    return node


def write_ftm(path: Path, entities: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(e) for e in entities) + "\n", encoding="utf-8")
    return path


def company(eid: str, name: str, country: str, inn: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"name": [name], "country": [country]}
    if inn:
        props["innCode"] = [inn]
    return {"id": eid, "schema": "Company", "properties": props}


def ownership(eid: str, owner: str, asset: str, percent: str) -> dict[str, Any]:
    props = {"owner": [owner], "asset": [asset], "percentage": [percent]}
    return {"id": eid, "schema": "Ownership", "properties": props}


def run(record: dict[str, Any], item: Item, exact: ExactScreener, rules: RuleSet,
        graph: Any = None, on: date = ON) -> Determination:  # fmt: skip
    return determine(parse_customer(record), item, on, exact, rules, graph)


# ----------------------------------------------------------------- traces followed to the end


def test_thirteen_declared_levels_to_an_sdn_party_block(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    top = {"name": ZALA, "country": "RU", "share": 100}
    result = run(customer([holdcos(12, top)]), h100, exact, rules)
    ofac = rule(result, "ofac_50")
    assert result.status == "blocked" and ofac["applied"]
    (path,) = ofac["paths"]
    assert len(path) == 14 and path[0]["name"] == ZALA
    assert rule(result, "ownership_data")["status"] == "clear"


def ftm_chain(path: Path, levels: int) -> Path:
    """An FtM file: company 1 ← 2 ← … ← ``levels`` ← ZALA AERO, each 100%, UK companies."""
    entities = [company(f"co{i}", f"Chain Company {i} LLC", "gb", f"99{i:08d}")
                for i in range(1, levels + 1)]  # fmt: skip
    entities.append(company("zala", ZALA, "ru", ZALA_INN))
    for i in range(1, levels + 1):
        owner = f"co{i + 1}" if i < levels else "zala"
        entities.append(ownership(f"own{i}", owner, f"co{i}", "100"))
    return write_ftm(path / "chain.ftm.json", entities)


def test_twenty_ftm_levels_to_an_sdn_party_block(
    tmp_path: Path, exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    graph = build_graph([], None, [ftm_chain(tmp_path, 20)])
    owner = {"name": "Chain Company 1 LLC", "share": 100, "identifiers": {"inn": "9900000001"}}
    result = run(customer([owner]), h100, exact, rules, graph)
    ofac = rule(result, "ofac_50")
    assert result.status == "blocked" and ofac["applied"]
    entry = ofac["list_entries"][0]
    assert entry["party_id"] == "SDN-45934" and entry["how"] == "identifier"
    assert len(ofac["paths"][0]) == 22  # ZALA, 20 companies, the customer


def test_a_trace_reaching_the_safety_limit_is_a_review_that_says_so(
    tmp_path: Path, exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    graph = build_graph([], None, [ftm_chain(tmp_path, 20)])
    owner = {"name": "Chain Company 1 LLC", "share": 100, "identifiers": {"inn": "9900000001"}}
    shallow = dataclasses.replace(rules, max_depth=8)
    result = run(customer([owner]), h100, exact, shallow, graph)
    data = rule(result, "ownership_data")
    assert result.status == "review" and data["status"] == "review"
    assert "stopped after 8 levels (safety limit) at 'Chain Company 8 LLC'" in data["reason"]
    assert "ownership_data" in result.explanation


def test_a_cycle_in_graph_data_is_reported_not_followed(
    tmp_path: Path, exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    ftm = write_ftm(
        tmp_path / "cycle.ftm.json",
        [company("a", "Alpha Holdings Ltd", "gb", "7700000001"),
         company("b", "Beta Holdings Ltd", "gb", "7700000002"),
         ownership("o1", "b", "a", "100"), ownership("o2", "a", "b", "100")],
    )  # fmt: skip
    graph = build_graph([], None, [ftm])
    owner = {"name": "Alpha Holdings Ltd", "share": 100, "identifiers": {"inn": "7700000001"}}
    result = run(customer([owner]), h100, exact, rules, graph)
    data = rule(result, "ownership_data")
    assert result.status == "review"
    assert "ownership cycle" in data["reason"] and "'Beta Holdings Ltd'" in data["reason"]


# ----------------------------------------------------------------- impossible graph data


def alpha_owned(tmp_path: Path, stakes: list[tuple[str, str, str]]) -> Any:
    """A graph where Alpha Holdings (INN 7700000001) has the given (statement, owner, percent)
    stakes from Beta and Gamma Holdings (or itself), and the determination of its 100% child."""
    ftm = write_ftm(
        tmp_path / "alpha.ftm.json",
        [company("a", "Alpha Holdings Ltd", "gb", "7700000001"),
         company("b", "Beta Holdings Ltd", "gb"), company("c", "Gamma Holdings Ltd", "gb"),
         *(ownership(eid, owner, "a", percent) for eid, owner, percent in stakes)],
    )  # fmt: skip
    return build_graph([], None, [ftm])


ALPHA = {"name": "Alpha Holdings Ltd", "share": 100, "identifiers": {"inn": "7700000001"},
         "headquarters_country": "GB"}  # fmt: skip


def test_impossible_ftm_shares_and_self_ownership_are_red_flags(
    tmp_path: Path, exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    graph = alpha_owned(tmp_path, [("o1", "b", "-300"), ("o2", "c", "5000"), ("o3", "a", "10")])
    result = run(customer([ALPHA]), h100, exact, rules, graph)
    flags = rule(result, "ownership_data")["red_flags"]
    assert result.status == "review"
    assert any("o1" in f and "'-300' outside 0..100%" in f for f in flags)
    assert any("o2" in f and "'5000' outside 0..100%" in f for f in flags)
    assert any("o3" in f and "owns or directs itself" in f for f in flags)


def test_graph_stakes_adding_up_to_more_than_100_percent_are_a_review(
    tmp_path: Path, exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    graph = alpha_owned(tmp_path, [("o1", "b", "70"), ("o2", "c", "60")])
    result = run(customer([ALPHA]), h100, exact, rules, graph)
    assert result.status == "review"
    assert "add up to 130%" in rule(result, "ownership_data")["reason"]


# ----------------------------------------------------------------- ultimate parent, presumed


def test_parent_named_without_a_share_is_presumed_to_control(
    exact: ExactScreener, rules: RuleSet, h100: Item, l20: Item
) -> None:
    parent = {"name": "Shenzhen Qianhai Cloud Intelligence Technology Co Ltd", "country": "CN",
              "headquarters_country": "CN"}  # fmt: skip
    result = run(customer([parent]), h100, exact, rules)
    hq = rule(result, "hq_advanced_computing")
    assert result.status == "license_required" and hq["applied"]
    assert "named without a share and is presumed to control" in hq["reason"]
    assert run(customer([parent]), l20, exact, rules).status == "clear"


def test_declared_parent_relation_counts_whatever_its_share(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    parent = {"name": "Shenzhen Qianhai Cloud Intelligence Technology Co Ltd", "country": "CN",
              "relation": "ultimate_parent", "share": 30}  # fmt: skip
    result = run(customer([parent]), h100, exact, rules)
    assert result.status == "license_required"
    assert "incorporated in CN (no headquarters given)" in result.explanation


def test_two_possible_parents_one_chinese_is_a_review(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    owners = [
        {"name": "Shenzhen Qianhai Cloud Intelligence Technology Co Ltd", "country": "CN"},
        {"name": "Tan Holdings Pte Ltd", "country": "SG", "headquarters_country": "SG"},
    ]
    result = run(customer(owners), h100, exact, rules)
    hq = rule(result, "hq_advanced_computing")
    assert result.status == "review" and hq["status"] == "review"
    assert "may be the ultimate parent (several owners may control" in hq["reason"]


# ----------------------------------------------------------------- D:5/Macau red flags


def test_combined_d5_ownership_across_owners_is_a_review(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    owners = [{"name": "Shenzhen Alpha Co Ltd", "country": "CN", "share": 30},
              {"name": "Macau Beta Ltd", "country": "MO", "share": 25},
              {"name": "Tan Holdings Pte Ltd", "country": "SG", "share": 45}]  # fmt: skip
    result = run(customer(owners), h100, exact, rules)
    hq = rule(result, "hq_advanced_computing")
    assert result.status == "review"
    assert "D:5/Macau owners hold 55%" in hq["reason"]
    assert "§742.6(a)(6)(iii)(A) requires a licence for H100" in hq["reason"]


def test_fifty_fifty_joint_venture_with_a_chinese_party_is_a_review(
    exact: ExactScreener, rules: RuleSet, h100: Item, l20: Item
) -> None:
    owners = [{"name": "Shenzhen Alpha Co Ltd", "country": "CN", "share": 50},
              {"name": "Tan Holdings Pte Ltd", "country": "SG", "headquarters_country": "SG",
               "share": 50}]  # fmt: skip
    result = run(customer(owners), h100, exact, rules)
    assert result.status == "review"
    assert "50/50 joint venture: Shenzhen Alpha Co Ltd (CN)" in result.explanation
    assert run(customer(owners), l20, exact, rules).status == "clear"  # not an AC item


def test_incorporated_in_china_with_headquarters_declared_elsewhere_is_a_review(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    result = run(customer([], country="CN", headquarters_country="SG"), h100, exact, rules)
    assert result.status == "review"
    assert "incorporated in CN but declares headquarters in SG" in result.explanation


def test_an_individual_owner_is_not_headquartered(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    owner = {"name": "Li Ming", "type": "individual", "country": "CN", "share": 100}
    result = run(customer([owner]), h100, exact, rules)
    hq = rule(result, "hq_advanced_computing")
    assert result.status == "review" and hq["applied"] is False
    assert "individual 'Li Ming' (100%, a national of CN)" in hq["reason"]
    # The ultimate parent is the customer itself: the climb stops below the person.
    assert [s["name"] for s in hq["paths"][0]] == ["Lion City AI Compute Pte Ltd"]


# ----------------------------------------------------------------- corroborating name matches


def test_name_commonness_comes_from_the_lists(party_index: Any) -> None:
    names: NameFrequencies = party_index.names
    parts = dict(names.parts("ZHANG, Wei"))
    assert parts["zhang"] >= 10 and parts["wei"] >= 10
    assert dict(names.parts("ZAKHAROV"))["zakharov"] < 10


@pytest.mark.parametrize(
    ("extra", "status", "why"),
    [
        ({}, "review", "name only: the list gives date of birth, identifier"),
        ({"country": "CN"}, "review", "common name ('zhang' on"),
        ({"date_of_birth": "1985-02-01"}, "review", "probably another person of that name"),
        ({"date_of_birth": "1977-06-16"}, "blocked", None),
        ({"identifiers": {"national-id": "130502197706161537"}}, "blocked", None),
    ],
)
def test_a_common_name_alone_does_not_block(
    exact: ExactScreener,
    rules: RuleSet,
    l20: Item,
    extra: dict[str, Any],
    status: str,
    why: str | None,
) -> None:
    owner = {"name": "Zhang Wei", "type": "individual", "share": 100, **extra}
    result = run(customer([owner]), l20, exact, rules)
    assert result.status == status
    pending = rule(result, "uncorroborated_matches")
    if why is None:
        assert rule(result, "ofac_50")["applied"] and pending["status"] == "clear"
        return
    assert rule(result, "ofac_50")["status"] == "clear"
    assert pending["status"] == "review" and why in pending["reason"]
    assert [e["party_id"] for e in pending["list_entries"]] == [ZHANG_WEI]
    assert "if confirmed: BLOCKED (ofac_50: 100% owned" in pending["reason"]


def test_a_rarer_name_with_agreeing_nationality_still_blocks(
    exact: ExactScreener, rules: RuleSet, l20: Item
) -> None:
    owner = {"name": "ZAKHAROV, Aleksandr Vyacheslavovich", "type": "individual",
             "country": "RU", "share": 55}  # fmt: skip
    result = run(customer([owner]), l20, exact, rules)
    assert result.status == "blocked"
    assert "SDN-45937" in {e["party_id"] for e in rule(result, "ofac_50")["list_entries"]}


def test_a_customer_named_like_a_listed_person_is_reviewed_not_blocked(
    exact: ExactScreener, rules: RuleSet, l20: Item
) -> None:
    record = customer([], name="Zhang Wei", type="individual", country=None)
    result = run(record, l20, exact, rules)
    assert result.status == "review"
    assert rule(result, "listed_customer")["status"] == "clear"
    assert (
        "if confirmed: BLOCKED (listed_customer" in rule(result, "uncorroborated_matches")["reason"]
    )


# ----------------------------------------------------------------- listing dates, evidence, enum


def test_undated_listing_stays_in_force_and_says_so(
    exact: ExactScreener, rules: RuleSet, h100: Item, parties: list[Party]
) -> None:
    zala = next(p for p in parties if p.party_id == "SDN-45934")
    assert zala.listed_on is None  # the SDN files carry no listing date
    result = run(customer([{"name": ZALA, "country": "RU", "share": 60}]), h100, exact, rules)
    assert result.status == "blocked"
    (entry,) = rule(result, "ofac_50")["list_entries"]
    assert entry["listing_date"] == "listing date unknown"
    assert "listing date unknown" in rule(result, "ofac_50")["reason"]
    assert "listing date unknown (listing kept in force): SDN SDN-45934" in result.explanation


def test_unreadable_or_partial_listing_dates_keep_the_listing(exact: ExactScreener) -> None:
    entry = next(e for e in exact.screen(ZALA, None, None) if e.party_id == "SDN-45934")
    unreadable = dataclasses.replace(entry, listed_on="see FR notice")
    assert unreadable.in_force(date(2000, 1, 1))
    assert unreadable.date_note() == "listing date unknown (unreadable 'see FR notice')"
    partial = dataclasses.replace(entry, listed_on="2026-11", delisted_on="2027")
    assert partial.in_force(date(2026, 11, 1)) and not partial.in_force(date(2026, 10, 31))
    assert partial.in_force(date(2027, 12, 30)) and not partial.in_force(date(2027, 12, 31))


def test_evidence_keeps_each_hits_explanation_and_status_is_an_enum(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    result = run(customer([{"name": ZALA, "country": "RU", "share": 60}]), h100, exact, rules)
    assert isinstance(result.status, Status) and result.status is Status.BLOCKED
    data = result.to_dict()
    assert data["status"] == "blocked" and type(data["status"]) is str
    entry = rule(result, "ofac_50")["list_entries"][0]
    assert entry["explanation"]["via"] == "exact normalised name or alias"
    by_id = exact.by_identifier("inn", ZALA_INN)[0].to_dict()
    assert by_id["explanation"]["raised_by"] == [f"identifier inn {ZALA_INN} matches"]
