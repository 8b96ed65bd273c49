"""GET /customers/{id} over real HTTP after a real scan of the example provider folder: the
book record, determinations per chip with rules and evidence, accounts, linked entities with
their evidence, alerts; 404 problems for unknown ids; the CLI shows the same document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Server, run_cli, running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "provider"


@pytest.fixture(scope="module")
def scanned(
    template_home: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(template_home, tmp_path_factory.mktemp("customers") / "home") as server:
        run_cli(server.env, "scan", str(EXAMPLE), "--as-of", "2026-11-30", "--json")
        yield server


def test_a_restricted_customer_with_its_determinations_and_alerts(scanned: Server) -> None:
    with scanned.client("viewer") as client:
        response = client.get("/customers/c-106")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["customer_id"] == "c-106" and detail["provider"] == "provider"
    assert detail["name"] == "Harbourfront Compute Pte Ltd"
    assert detail["revision"] == detail["record_revision"] == 1
    assert detail["removed_revision"] is None and detail["notes"] == []
    owners = {o["name"]: o["share"] for o in detail["record"]["owners"]}
    assert owners["LIMITED LIABILITY COMPANY ZALA AERO"] == 30.0
    scan = detail["scan"]
    assert scan["as_of"] == "2026-11-30" and scan["snapshot"] == "snapshot-1"
    assert scan["book_revision"] == 1
    # One determination per chip the customer's accounts rented, with every rule and evidence.
    chips = [d["chip"] for d in scan["determinations"]]
    assert chips and len(chips) == len(set(chips))
    worst = scan["determinations"][0]
    assert worst["status"] == scan["status"] == "license_required"
    assert worst["snapshot_id"] == "snapshot-1" and worst["rules_version"]
    affiliates = next(r for r in worst["rules"] if r["rule"] == "bis_affiliates")
    assert affiliates["applied"] is True and affiliates["list_entries"]
    assert [a["account_id"] for a in detail["accounts"]] == ["a-106"]
    assert detail["accounts"][0]["record"]["name"]
    assert detail["entities"][0]["accounts"] == ["a-106"]
    types = {a["type"] for a in detail["alerts"]}
    assert {"affiliates_rule", "restricted_party_match", "controlled_rental"} <= types
    assert all(a["subject_id"] == "c-106" for a in detail["alerts"])
    assert all(set(a) >= {"id", "type", "status", "severity"} for a in detail["alerts"])


def test_linked_accounts_bring_the_entity_its_evidence_and_its_alerts(scanned: Server) -> None:
    with scanned.client("auditor") as client:
        detail = client.get("/customers/c-110").json()
    (entity,) = detail["entities"]
    assert entity["accounts"] == ["a-105", "a-110"]  # linked with c-105's account
    (link,) = entity["links"]
    assert link["evidence"] and 0 < link["probability"] <= 1
    assert detail["accounts"][0]["entity_id"] == entity["entity_id"]
    # The customer itself is clear, but its account is linked to a restricted customer.
    assert detail["scan"]["status"] == "clear"
    assert any(
        a["type"] == "linked_to_restricted" and a["subject_kind"] == "account"
        for a in detail["alerts"]
    )


def test_unknown_customers_are_404_problems(scanned: Server) -> None:
    with scanned.client("viewer") as client:
        for path in ("/customers/no-such-customer", "/customers/c-106?provider=elsewhere"):
            response = client.get(path)
            assert response.status_code == 404, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["status"] == 404
            assert "x-request-id" in response.headers


def test_the_cli_shows_the_same_customer(scanned: Server) -> None:
    shown = json.loads(run_cli(scanned.env, "customers", "show", "c-106", "--json"))
    with scanned.client("viewer") as client:
        served = client.get("/customers/c-106").json()
    assert shown == served
    text = run_cli(scanned.env, "customers", "show", "c-106")
    assert "Harbourfront Compute Pte Ltd" in text and "license_required" in text
