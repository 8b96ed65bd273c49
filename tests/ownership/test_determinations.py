"""Determinations over the real mirror with hand-built customers (exact name/identifier matching).

Owners are named exactly as the real SDN, Entity List and FtM records name them, so the facts
asserted (programs, party ids, shares, rule periods) come from the data, not from the test.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from computekyc.ownership import (
    Determination,
    ExactScreener,
    Item,
    OwnershipGraph,
    RuleSet,
    determine,
    parse_customer,
)

ZALA = "LIMITED LIABILITY COMPANY ZALA AERO"  # SDN-45934 [RUSSIA-EO14024]
AEROSCAN = "LIMITED LIABILITY COMPANY AEROSCAN"  # SDN-45953 [RUSSIA-EO14024]
AFSARI = "Afsari General Trading LLC"  # Entity List, UAE
ON = date(2026, 7, 1)


def rule(result: Determination, name: str) -> dict[str, Any]:
    return next(r for r in result.to_dict()["rules"] if r["rule"] == name)


def owned(name: str, owners: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": extra.pop("id", "c1"),
        "name": name,
        "type": "entity",
        "country": extra.pop("country", "SG"),
        "headquarters_country": extra.pop("headquarters_country", "SG"),
        "owners": owners,
        **extra,
    }


def test_listed_customer_is_blocked_with_its_entries(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    record = owned(
        "JOINT STOCK COMPANY CONCERN KALASHNIKOV", [], country="RU", headquarters_country="RU"
    )
    result = determine(parse_customer(record), h100, ON, exact, rules)
    assert result.status == "blocked"
    listed = rule(result, "listed_customer")
    assert listed["applied"] is True and listed["status"] == "blocked"
    ids = {e["party_id"] for e in listed["list_entries"]}
    assert "SDN-16911" in ids
    entry = next(e for e in listed["list_entries"] if e["party_id"] == "SDN-16911")
    assert entry["source"] == "SDN" and "RUSSIA-EO14024" in entry["programs"]
    assert entry["snapshot_id"] == exact.snapshot_id
    # Russia-headquartered: the advanced-computing HQ test also applies to an H100.
    assert rule(result, "hq_advanced_computing")["status"] == "license_required"


def test_aggregate_of_two_sdn_owners_30_plus_25_blocks(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    record = owned(
        "Harbourfront Compute Pte Ltd",
        [
            {"name": ZALA, "type": "entity", "country": "RU", "share": 30},
            {"name": AEROSCAN, "type": "entity", "country": "RU", "share": 25},
            {"name": "Tan Holdings Pte Ltd", "type": "entity", "country": "SG", "share": 45},
        ],
    )
    result = determine(parse_customer(record), h100, ON, exact, rules)
    ofac = rule(result, "ofac_50")
    assert result.status == "blocked" and ofac["status"] == "blocked" and ofac["applied"]
    assert "55%" in ofac["reason"]
    assert {e["party_id"] for e in ofac["list_entries"]} == {"SDN-45934", "SDN-45953"}
    shares = sorted(p[0]["share"] for p in ofac["paths"])
    assert shares == [25.0, 30.0]
    assert all(p[-1]["name"] == "Harbourfront Compute Pte Ltd" for p in ofac["paths"])


def test_aggregate_30_plus_15_is_review_not_blocked(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    record = owned(
        "Harbourfront Compute Pte Ltd",
        [
            {"name": ZALA, "type": "entity", "country": "RU", "share": 30},
            {"name": AEROSCAN, "type": "entity", "country": "RU", "share": 15},
        ],
    )
    result = determine(parse_customer(record), h100, ON, exact, rules)
    ofac = rule(result, "ofac_50")
    assert result.status == "review"
    assert ofac["status"] == "review" and ofac["applied"] is False
    assert any("just under 50%" in f for f in ofac["red_flags"])


def test_chain_through_blocked_holding_company(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    holdco = {
        "name": "Izhevsk Holdings Ltd",
        "type": "entity",
        "country": "CY",
        "share": 50,
        "owners": [{"name": ZALA, "type": "entity", "country": "RU", "share": 60}],
    }
    result = determine(
        parse_customer(owned("Gulf GPU Cloud FZE", [holdco])), h100, ON, exact, rules
    )
    ofac = rule(result, "ofac_50")
    assert result.status == "blocked"
    (path,) = ofac["paths"]
    assert [s["name"] for s in path] == [ZALA, "Izhevsk Holdings Ltd", "Gulf GPU Cloud FZE"]
    assert [s["share"] for s in path[:2]] == [60.0, 50.0]


def test_chain_stops_at_an_unblocked_holding_company(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    # 40% of a holding company does not block it, so its 100% stake passes nothing on; the
    # look-through 40% is still a red flag.
    holdco = {
        "name": "Izhevsk Holdings Ltd",
        "share": 100,
        "owners": [{"name": ZALA, "share": 40}],
    }
    result = determine(
        parse_customer(owned("Gulf GPU Cloud FZE", [holdco])), h100, ON, exact, rules
    )
    ofac = rule(result, "ofac_50")
    assert ofac["status"] == "review" and ofac["applied"] is False
    assert "40%" in ofac["reason"]


@pytest.mark.parametrize(
    ("on", "in_force", "period", "status"),
    [
        (date(2025, 9, 1), False, "not_yet", "review"),
        (date(2025, 10, 15), True, "in_force", "license_required"),
        (date(2026, 1, 15), False, "suspended", "review"),
        (date(2026, 11, 20), True, "in_force", "license_required"),
    ],
)
def test_entity_list_owned_subsidiary_across_the_affiliates_rule_timeline(
    exact: ExactScreener,
    rules: RuleSet,
    l20: Item,
    on: date,
    in_force: bool,
    period: str,
    status: str,
) -> None:
    record = owned(
        "Afsari Compute Services Pte Ltd",
        [{"name": AFSARI, "country": "AE", "headquarters_country": "AE", "share": 60}],
    )
    result = determine(parse_customer(record), l20, on, exact, rules)
    affiliates = rule(result, "bis_affiliates")
    assert affiliates["in_force"] is in_force
    assert affiliates["why_in_force"].startswith(period)
    assert affiliates["status"] == status and result.status == status
    assert affiliates["version"] == "2025-19001"
    (entry,) = affiliates["list_entries"]
    assert entry["source"] == "EL" and entry["name"] == AFSARI
    if in_force:
        assert "For all items subject to the EAR" in affiliates["reason"]
    else:
        assert any("majority (60%)" in f for f in affiliates["red_flags"])
    assert result.rules_version.startswith("rules ")


def test_most_restrictive_owner_is_reported(
    exact: ExactScreener, rules: RuleSet, l20: Item
) -> None:
    record = owned(
        "Mixed Owners Pte Ltd",
        [
            {"name": AFSARI, "share": 30},
            {"name": "Academy of Aerospace Solid Propulsion Technology (AASPT)", "share": 25},
        ],
    )
    result = determine(parse_customer(record), l20, date(2025, 10, 15), exact, rules)
    affiliates = rule(result, "bis_affiliates")
    assert affiliates["status"] == "license_required"
    assert {e["source"] for e in affiliates["list_entries"]} == {"EL", "MEU"}
    assert f"most restrictive owner {AFSARI} (EL" in affiliates["reason"]


def singapore_with_chinese_parent() -> dict[str, Any]:
    return owned(
        "Lion City AI Compute Pte Ltd",
        [
            {
                "name": "Pearl Delta Holdings Ltd",
                "country": "VG",
                "headquarters_country": "VG",
                "share": 100,
                "owners": [
                    {
                        "name": "Shenzhen Qianhai Cloud Intelligence Technology Co Ltd",
                        "country": "CN",
                        "headquarters_country": "CN",
                        "share": 70,
                    }
                ],
            }
        ],
    )


def test_singapore_company_with_chinese_ultimate_parent_needs_licence_for_h100(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    result = determine(parse_customer(singapore_with_chinese_parent()), h100, ON, exact, rules)
    hq = rule(result, "hq_advanced_computing")
    assert result.status == "license_required"
    assert hq["applied"] and "ultimate parent Shenzhen Qianhai" in hq["reason"]
    assert h100.eccn == "3A090.a" and "3A090.a" in hq["reason"]
    chain = [s["name"] for s in hq["paths"][0]]
    assert chain[0].startswith("Shenzhen Qianhai") and chain[-1] == "Lion City AI Compute Pte Ltd"


def test_same_company_renting_l20_is_clear(exact: ExactScreener, rules: RuleSet, l20: Item) -> None:
    result = determine(parse_customer(singapore_with_chinese_parent()), l20, ON, exact, rules)
    hq = rule(result, "hq_advanced_computing")
    assert l20.eccn is None
    assert result.status == "clear" and hq["applied"] is False
    assert "not 3A090/4A090" in hq["reason"]


def test_same_company_renting_h20_is_review_under_the_is_informed_letter(
    exact: ExactScreener, rules: RuleSet, h20: Item
) -> None:
    result = determine(parse_customer(singapore_with_chinese_parent()), h20, ON, exact, rules)
    assert result.status == "review"
    assert "is-informed-bandwidth" in rule(result, "hq_advanced_computing")["reason"]


def test_zala_kalashnikov_ftm_cluster_blocks_a_customer_owned_by_llc_cst(
    exact: ExactScreener, rules: RuleSet, graph: OwnershipGraph, l20: Item
) -> None:
    # The customer declares only "LLC CST" (an FtM entity). The FtM Ownership edges valid on the
    # date put ZAKHAROV (51%) and Kalashnikov Concern (49%) above it; their INNs link them to
    # the SDN entries, so LLC CST is blocked by aggregation and passes that on to its 60% child.
    record = owned(
        "Udmurt Drone Software LLC",
        [{"name": "LLC CST", "country": "RU", "share": 60}],
        country="AM",
        headquarters_country="AM",
    )
    result = determine(parse_customer(record), l20, ON, exact, rules, graph)
    ofac = rule(result, "ofac_50")
    assert result.status == "blocked" and ofac["applied"]
    entries = {e["party_id"]: e for e in ofac["list_entries"]}
    assert {"SDN-45937", "SDN-16911"} <= set(entries)
    assert entries["SDN-45937"]["how"] == "identifier"
    tops = {(p[0]["name"], p[0]["share"]) for p in ofac["paths"]}
    assert ("Alexander Vyacheslavovich ZAKHAROV", 51.0) in tops
    assert ("JSC Kalashnikov Concern", 49.0) in tops
    assert all(p[1]["name"] == "LLC CST" and p[1]["share"] == 60.0 for p in ofac["paths"])


def test_ftm_stakes_follow_the_as_of_date(
    exact: ExactScreener, rules: RuleSet, graph: OwnershipGraph, l20: Item
) -> None:
    # Before Kalashnikov's 49% (from 2016-03-29) and ZAKHAROV's stakes (from 2015-11-25) only
    # the undated "subsidiary of" statement links Kalashnikov to LLC CST, without a share: not
    # enough to block, but a red flag to resolve.
    record = owned("Udmurt Drone Software LLC", [{"name": "LLC CST", "share": 60}])
    early = determine(parse_customer(record), l20, date(2015, 1, 1), exact, rules, graph)
    ofac = rule(early, "ofac_50")
    assert early.status == "review" and ofac["status"] == "review"
    (path,) = ofac["paths"]
    assert path[0]["name"] == "JSC Kalashnikov Concern" and path[0]["share"] is None
    assert "subsidiary of" in path[0]["evidence"]
    assert any("undisclosed share" in f for f in ofac["red_flags"])


def test_shared_director_from_ftm_directorship_is_review(
    exact: ExactScreener, rules: RuleSet, graph: OwnershipGraph, l20: Item
) -> None:
    association = 'НЕКОММЕРЧЕСКОЕ ПАРТНЕРСТВО "АССОЦИАЦИЯ БЕСПИЛОТНЫХ СИСТЕМ"'
    record = owned(association, [], country="RU", headquarters_country="RU")
    result = determine(parse_customer(record), l20, ON, exact, rules, graph)
    directors = rule(result, "shared_directors")
    assert directors["status"] == "review"
    assert "ZAKHAROV" in directors["reason"] and "FtM Directorship" in directors["reason"]


def test_declared_director_matching_an_sdn_person_is_review(
    exact: ExactScreener, rules: RuleSet, l20: Item
) -> None:
    record = owned("Clean Name Pte Ltd", [], directors=["ZAKHAROV, Aleksandr Vyacheslavovich"])
    result = determine(parse_customer(record), l20, ON, exact, rules)
    directors = rule(result, "shared_directors")
    assert result.status == "review" and directors["applied"]
    assert directors["list_entries"][0]["party_id"] == "SDN-45937"


def test_clear_customer_explains_itself(exact: ExactScreener, rules: RuleSet, h100: Item) -> None:
    # The 100% parent's headquarters must be known for a clear: an unknown one is a review.
    parent = {"name": "Fjord Capital AB", "share": 100}
    record = owned("Nordic Render Farm AB", [parent], country="SE", headquarters_country="SE")
    unknown = determine(parse_customer(record), h100, ON, exact, rules)
    assert unknown.status == "review"
    assert "headquarters of the ultimate parent 'Fjord Capital AB' unknown" in unknown.explanation
    parent["headquarters_country"] = "SE"
    result = determine(parse_customer(record), h100, ON, exact, rules)
    assert result.status == "clear"
    assert result.explanation.startswith("CLEAR for H100")
    assert {r["rule"] for r in result.to_dict()["rules"]} == {
        "listed_customer",
        "ofac_50",
        "bis_affiliates",
        "hq_advanced_computing",
        "shared_directors",
        "uncorroborated_matches",
        "ownership_data",
        "possible_matches",
        "lapsed_listings",
    }


def test_listing_removed_before_the_date_is_evidence_not_a_restriction(
    exact: ExactScreener, rules: RuleSet, h100: Item
) -> None:
    # CRCC was on the 1260H list from 2021-06-03 until the 2025-01-07 tranche removed it; it stays
    # on OFAC's NS-CMIC list. Whether the 1260H listing counts depends on the date asked about.
    name = "China Railway Construction Corporation Limited"
    record = owned(name, [], country="CN", headquarters_country="CN")
    before = determine(parse_customer(record), h100, date(2024, 6, 1), exact, rules)
    after = determine(parse_customer(record), h100, date(2026, 7, 1), exact, rules)

    def sources(result: Determination, rule_name: str) -> set[str]:
        return {e["source"] for e in rule(result, rule_name)["list_entries"]}

    assert sources(before, "listed_customer") == {"1260H", "CMIC"}
    assert sources(before, "lapsed_listings") == set()
    assert sources(after, "listed_customer") == {"CMIC"}
    lapsed = rule(after, "lapsed_listings")
    assert {e["source"] for e in lapsed["list_entries"]} == {"1260H"}
    assert lapsed["status"] == "clear" and "2025-01-07" in lapsed["reason"]
