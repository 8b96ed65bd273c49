"""A small book (14 accounts) linked as an analyst would link it by hand, and books too small to
train on (0, 1, 3 accounts): the model falls back to the shipped prior u probabilities.

The book, and the entities an analyst writes down for it:

- A  s-lanhai + s-merlion: a Shenzhen company and a Singapore "front" that share the exact mobile
     number (+86 138 0013 8000, written two ways), administer from the same mainland IP (public,
     not a cloud range) and name one beneficial owner as "Zhang Wei" and "W. Zhang". One operator.
- B  s-cedar-ml + s-cedar-infra: one US company's two team accounts, same payment token.
- C  s-orchid + s-kira: a verified mailbox shared by a company and a person (its founder).
- alone s-wang-1, s-wang-2: two individuals called Wang Wei on free-mail, different phones:
     a very common name is not an identity.
- alone s-cloud-1, s-cloud-2: two unrelated start-ups administering from the same AWS address
     (cloud egress: says nothing about who is behind it).
- alone s-owner-1, s-owner-2: two companies whose owners share only a surname and an initial
     ("Zhang Min" and "Zhang Mei": "M. Zhang" would be ambiguous, and neither is initialed).
- alone s-solo-1, s-solo-2: ordinary customers with nothing in common with anyone.
"""

from __future__ import annotations

from typing import Any

import pytest

from computekyc.linking import LinkResult, link_accounts
from computekyc.linking.model import MIN_TRAIN_ACCOUNTS
from computekyc.linking.records import parse_record

CN_ADMIN_IP = "1.0.1.1"  # a CN range of the IPFire database, not a cloud network
AWS_IP = "52.94.10.10"


def _acct(account_id: str, name: str, country: str, **extra: Any) -> dict[str, Any]:
    return {"account_id": account_id, "name": name, "country": country,
            "created_at": "2026-03-01T00:00:00", **extra}  # fmt: skip


def _admin(*ips: str) -> list[dict[str, str]]:
    return [{"ip": ip, "ts": f"2026-03-{10 + i:02d}T09:00:00", "action": "admin"}
            for i, ip in enumerate(ips)]  # fmt: skip


BOOK = [
    _acct("s-lanhai", "Shenzhen Lanhai Zhineng Co., Ltd.", "CN", type="company",
          phones=["138 0013 8000"], beneficial_owners=["Zhang Wei"], ip_log=_admin(CN_ADMIN_IP),
          emails=["ops@lanhai-ai.cn"]),
    _acct("s-merlion", "Merlion Deep Compute Pte. Ltd.", "SG", type="Company",
          phones=["+86 13800138000"], beneficial_owners=["W. Zhang"],
          ip_log=_admin(CN_ADMIN_IP, "8.8.4.4"), emails=["merlion.compute@outlook.com"]),
    _acct("s-cedar-ml", "Cedar Vector Analytics Inc.", "US", payment_fingerprints=["tok_cedar"],
          emails=["ml@cedarvector.com"], phones=["+1 415 555 0101"]),
    _acct("s-cedar-infra", "Cedar Vector Analytics, Inc.", "US",
          payment_fingerprints=["tok_cedar"], emails=["infra@cedarvector.com"],
          phones=["+1 415 555 0102"]),
    _acct("s-orchid", "Orchid Vector Research GmbH", "DE", type="legal_entity",
          emails=[{"value": "k.mueller.ml@proton.me", "verified": True}]),
    _acct("s-kira", "Kira Mueller", "DE", type="person",
          emails=[{"value": "k.mueller.ml@proton.me", "verified": True}]),
    _acct("s-wang-1", "Wang Wei", "CN", type="individual", emails=["wangwei1988@gmail.com"],
          phones=["+86 139 1111 2222"]),
    _acct("s-wang-2", "Wang Wei", "CN", type="individual", emails=["wei.wang.sh@gmail.com"],
          phones=["+86 137 3333 4444"]),
    _acct("s-cloud-1", "Kestrel Robotics Ltd", "GB", ip_log=_admin(AWS_IP),
          emails=["team@kestrel-robotics.co.uk"], phones=["+44 20 7946 0011"]),
    _acct("s-cloud-2", "Fennec Vision Ltd", "GB", ip_log=_admin(AWS_IP),
          emails=["hello@fennecvision.co.uk"], phones=["+44 20 7946 0022"]),
    _acct("s-owner-1", "Jade River Semiconductor Ltd", "HK", beneficial_owners=["Zhang Min"],
          emails=["info@jaderiver.hk"]),
    _acct("s-owner-2", "Golden Peak Bio Limited", "HK", beneficial_owners=["Zhang Mei"],
          emails=["info@goldenpeak.hk"]),
    _acct("s-solo-1", "Atlas Tensor Labs", "FR", type="organisation",
          emails=["contact@atlastensor.fr"], phones=["01 42 68 53 00"]),
    _acct("s-solo-2", "Priya Sharma", "IN", type="individual", emails=["priya.s@yahoo.com"],
          phones=["+91 98765 43210"]),
]  # fmt: skip
EXPECTED = [
    ["s-cedar-infra", "s-cedar-ml"],
    ["s-cloud-1"],
    ["s-cloud-2"],
    ["s-kira", "s-orchid"],
    ["s-lanhai", "s-merlion"],
    ["s-owner-1"],
    ["s-owner-2"],
    ["s-solo-1"],
    ["s-solo-2"],
    ["s-wang-1"],
    ["s-wang-2"],
]


@pytest.fixture(scope="module")
def result() -> LinkResult:
    return link_accounts([parse_record(row) for row in BOOK])


def evidence(result: LinkResult, a: str, b: str) -> dict[str, dict[str, Any]]:
    entity = next(e for e in result.entities if a in e.accounts)
    link = next(k for k in entity.links if {k.a, k.b} == {a, b})
    return {item["kind"]: item for item in link.evidence}


def test_small_book_links_as_an_analyst_would(result: LinkResult) -> None:
    assert sorted(sorted(e.accounts) for e in result.entities) == EXPECTED
    assert result.model["u_source"] == "priors"
    assert len(BOOK) < MIN_TRAIN_ACCOUNTS


def test_operator_link_names_phone_admin_ip_and_owner(result: LinkResult) -> None:
    found = evidence(result, "s-lanhai", "s-merlion")
    # Deterministic: the administrator IP is public and outside cloud/NAT ranges.
    assert found["same_admin_ip"] == {"kind": "same_admin_ip", "value": CN_ADMIN_IP,
                                      "deterministic": True}  # fmt: skip
    # And Splink, with the prior u, sees the same phone (E.164) and owner (across initials).
    assert found["shared_phone"]["values"] == ["+8613800138000"]
    assert found["shared_beneficial_owner"]["values"] == ["wei zhang"]
    assert found["shared_ip"]["values"] == [CN_ADMIN_IP]


def test_strong_keys_are_deterministic(result: LinkResult) -> None:
    assert "same_payment_fingerprint" in evidence(result, "s-cedar-infra", "s-cedar-ml")
    assert "same_verified_email" in evidence(result, "s-kira", "s-orchid")


def test_cloud_egress_is_shared_infrastructure(result: LinkResult) -> None:
    assert result.shared_infrastructure["ips"] == {AWS_IP: 2}


@pytest.mark.parametrize("size", [0, 1, 3])
def test_books_too_small_to_train_still_link(size: int) -> None:
    records = [parse_record(row) for row in BOOK[:size]]
    linked = link_accounts(records)
    assert linked.model["u_source"] == "priors"
    expected = {0: [], 1: [["s-lanhai"]], 3: [["s-cedar-ml"], ["s-lanhai", "s-merlion"]]}[size]
    assert sorted(sorted(e.accounts) for e in linked.entities) == expected
    assert linked.summary()["accounts"] == size
