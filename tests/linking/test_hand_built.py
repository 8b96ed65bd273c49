"""Hand-built scenarios linked inside a generated background population: each evidence kind,
the NAT trap, common names, signals with their evidence."""

from __future__ import annotations

from typing import Any

import pytest

from computekyc.linking import Entity, GeoIP, LinkResult, link_accounts
from computekyc.linking.records import AccountRecord

from .scenarios import CN_ADMIN_IP, NAT_IP, USAGE, scenario_records


@pytest.fixture(scope="module")
def result(background: list[AccountRecord], geoip: GeoIP) -> LinkResult:
    return link_accounts(background + scenario_records(), usage=USAGE, geoip=geoip)


def entity_of(result: LinkResult, account: str) -> Entity:
    return next(e for e in result.entities if account in e.accounts)


def link_between(result: LinkResult, a: str, b: str) -> dict[str, Any]:
    entity = entity_of(result, a)
    return next(k.to_json() for k in entity.links if {k.a, k.b} == {a, b})


def kinds(link: dict[str, Any]) -> set[str]:
    return {item["kind"] for item in link["evidence"]}


def signal(entity: Entity, kind: str) -> dict[str, Any]:
    return next(s for s in entity.signals if s["kind"] == kind)


@pytest.mark.parametrize(
    ("a", "b", "kind"),
    [
        ("h-pay-1", "h-pay-2", "same_payment_fingerprint"),
        ("h-ver-1", "h-ver-2", "same_verified_email"),
        ("h-cus-1", "h-cus-2", "same_verified_customer_id"),
    ],
)
def test_deterministic_evidence(result: LinkResult, a: str, b: str, kind: str) -> None:
    assert sorted(entity_of(result, a).accounts) == [a, b]
    link = link_between(result, a, b)
    assert link["probability"] == 1.0
    assert kind in kinds(link)


def test_probabilistic_link_names_its_evidence(result: LinkResult) -> None:
    entity = entity_of(result, "h-prob-1")
    assert sorted(entity.accounts) == ["h-prob-1", "h-prob-2"]
    link = link_between(result, "h-prob-1", "h-prob-2")
    by_kind = {item["kind"]: item for item in link["evidence"]}
    # Both administer from one public mainland IP (no cloud or NAT range): a strong key.
    assert link["probability"] == 1.0
    assert by_kind["same_admin_ip"] == {"kind": "same_admin_ip", "value": CN_ADMIN_IP,
                                        "deterministic": True}  # fmt: skip
    # Splink weighs the rest, each feature with its Bayes factor.
    assert by_kind["shared_phone"]["values"] == ["+8613800138000"]
    assert by_kind["shared_ip"]["values"] == [CN_ADMIN_IP]
    assert by_kind["shared_beneficial_owner"]["values"] == ["lei zhao"]
    assert by_kind["splink_match_weight"]["value"] > 4
    scored = [item for item in link["evidence"] if "match_weight_bits" in item]
    assert scored and all(item["match_weight_bits"] > 0 for item in scored)


def test_nat_trap_keeps_strangers_apart(result: LinkResult) -> None:
    for i in range(1, 13):
        assert entity_of(result, f"h-nat-{i:02d}").accounts == [f"h-nat-{i:02d}"]
    assert result.shared_infrastructure["ips"][NAT_IP] == 12
    assert "1 canada square london e14 5ab" in result.shared_infrastructure["addresses"]


def test_common_name_on_free_mail_is_not_a_link(result: LinkResult) -> None:
    assert entity_of(result, "h-common-1").accounts == ["h-common-1"]
    assert entity_of(result, "h-common-2").accounts == ["h-common-2"]


def test_reseller_sub_accounts_stay_apart_and_signal(result: LinkResult) -> None:
    for i in range(1, 5):
        assert entity_of(result, f"h-sub-{i}").accounts == [f"h-sub-{i}"]
    found = signal(entity_of(result, "h-res"), "reseller")
    assert found["evidence"]["sub_accounts"] == [f"h-sub-{i}" for i in range(1, 5)]
    assert found["evidence"]["countries"] == {"RU": 1, "VN": 1, "IR": 1, "CN": 1}
    assert found["evidence"]["distinct_entities"] == 4


def test_structuring_signal(result: LinkResult) -> None:
    found = signal(entity_of(result, "h-prob-1"), "structuring")
    assert found["evidence"]["threshold"] == 1e25
    assert found["evidence"]["total_operations"] == pytest.approx(1.1e25)
    assert found["evidence"]["largest_account_operations"] == 6e24
    assert not [s for s in entity_of(result, "h-pay-1").signals if s["kind"] == "structuring"]


def test_access_geography_states_database_and_date(result: LinkResult) -> None:
    found = signal(entity_of(result, "h-prob-2"), "access_geography")
    [flagged] = found["evidence"]["accounts"]
    assert flagged["account_id"] == "h-prob-2"
    assert flagged["declared_country"] == "SG"
    assert flagged["admin_countries"] == {"CN": 2}
    assert flagged["sample_ips"] == {"CN": CN_ADMIN_IP}
    assert found["evidence"]["ip_database"]["generated"] == "2026-06-25"
    assert found["severity"] == "high"


def test_identity_churn(result: LinkResult) -> None:
    found = signal(entity_of(result, "h-prob-1"), "identity_churn")
    [change] = found["evidence"]["changes"]
    assert change["account_id"] == "h-prob-1" and change["days_after_creation"] == 3.0
    assert change["old"] == "Lanhai Trading"
