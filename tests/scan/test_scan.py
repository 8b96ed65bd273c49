"""The daily scan on the example provider folder and the real list mirror."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from computekyc.alerts import AlertStatus, AlertStore
from computekyc.cli import app
from computekyc.services import run_scan
from computekyc.settings import Settings
from computekyc.workflow import open_database

from .conftest import AS_OF

ON = date.fromisoformat(AS_OF)

# (type, subject) of every alert the example book must raise, and nothing else.
EXPECTED_CUSTOMERS = {
    ("restricted_party_match", "c-105"),  # 杭州海康威视… in Chinese, and its English name
    ("headquarters_d5", "c-105"),
    ("controlled_rental", "c-105"),
    ("restricted_party_match", "c-106"),  # SDN owners ZALA AERO and AEROSCAN
    ("ownership_blocked", "c-106"),  # 30% + 25% SDN owners
    ("affiliates_rule", "c-106"),
    ("controlled_rental", "c-106"),
    ("headquarters_d5", "c-107"),  # ultimate parent in Shenzhen
    ("controlled_rental", "c-107"),
    ("restricted_party_match", "c-108"),  # parent Inspur Group
    ("affiliates_rule", "c-108"),
    ("headquarters_d5", "c-108"),
    ("controlled_rental", "c-108"),
}
EXPECTED_ACCOUNTS = {
    ("restricted_party_match", "a-105"),
    ("linked_to_restricted", "a-110"),  # shares Hikvision's card token and phone
    ("training_threshold", "a-104"),  # 1,024 H100 for four days
    ("unclassified_hardware", "a-114"),
    ("listed_brand_or_domain", "a-105"),  # mails from hikvision.com
    ("listed_brand_or_domain", "a-108"),  # mails from a listed firm's domain
}
# Entity alerts, named by an account of the entity.
EXPECTED_ENTITIES = {
    ("reseller", "a-109"),
    ("access_geography", "a-111"),
    ("identity_churn", "a-112"),
    ("structuring", "a-113a"),
}
QUIET = {"c-100", "c-101", "c-102", "c-103", "a-100", "a-101", "a-102", "a-103"}


def _alerts(settings: Settings, status: str = "open") -> list[dict[str, Any]]:
    store = AlertStore(open_database(settings))
    found = store.list(status=None if status == "all" else [AlertStatus(status)])
    return [a.to_dict() for a in found]


def _kinds(alerts: list[dict[str, Any]]) -> set[tuple[str, str]]:
    out = set()
    for alert in alerts:
        subject = alert["subject"]
        if subject["kind"] == "entity":
            for account in alert["evidence"]["accounts"]:
                out.add((alert["type"], account))
        else:
            out.add((alert["type"], subject["id"]))
    return out


def test_each_alert_type_fires_for_its_subject_and_clean_customers_stay_quiet(
    scan_settings: Settings, provider: Path, lists_dir: Path
) -> None:
    result = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    alerts = _alerts(scan_settings)
    kinds = _kinds(alerts)
    for expected in EXPECTED_CUSTOMERS | EXPECTED_ACCOUNTS | EXPECTED_ENTITIES:
        assert expected in kinds, expected
    customer_or_account = {(t, s) for t, s in kinds if t not in _ENTITY_TYPES}
    assert customer_or_account == EXPECTED_CUSTOMERS | EXPECTED_ACCOUNTS
    assert not {s for _, s in kinds} & QUIET
    assert result.sync.new == len(alerts)
    assert result.counts.customers == 15 and result.counts.accounts == 20

    by_type = {a["type"]: a for a in alerts}
    match = next(
        a for a in alerts if a["type"] == "restricted_party_match" and a["subject"]["id"] == "c-105"
    )
    hit = match["evidence"]["hits"][0]["hit"]
    assert hit["explanation"]["matches"], "every hit keeps its token-by-token explanation"
    assert match["snapshot"] == result.snapshot and match["severity"] == "critical"
    blocked = by_type["ownership_blocked"]
    assert blocked["severity"] == "critical" and "55%" in blocked["summary"]
    assert blocked["rule_versions"]["rules"]
    rental = next(
        a for a in alerts if a["type"] == "controlled_rental" and a["subject"]["id"] == "c-106"
    )
    # Harbourfront rented 8 H100 for two days; SDN.CSV gives no listing dates, so the whole
    # period counts (never a shorter one that could hide hours).
    assert rental["evidence"]["controlled_gpu_hours"] == pytest.approx(384.0)
    assert rental["evidence"]["since"] is None and "whole period" in rental["evidence"]["period"]


_ENTITY_TYPES = {"reseller", "access_geography", "identity_churn", "structuring"}


def test_rescan_changes_nothing_and_changed_book_updates_and_resolves(
    scan_settings: Settings, provider: Path, lists_dir: Path
) -> None:
    first = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    before = {a["id"]: a for a in _alerts(scan_settings, "all")}
    second = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert (second.sync.new, second.sync.updated, second.sync.reopened, second.sync.resolved) == (
        0,
        0,
        0,
        0,
    )
    assert second.counts.screened_full == 0 and second.book.revision == first.book.revision
    assert {a["id"]: a for a in _alerts(scan_settings, "all")} == before

    # Harbourfront's SDN owners sell out to Tan Holdings; a new customer arrives.
    lines = (provider / "customers.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        if record["id"] == "c-106":
            record["owners"] = [
                {"name": "Tan Holdings Pte Ltd", "type": "entity", "country": "SG", "share": 100}
            ]
    records.append(
        {"id": "c-115", "name": "Fjord Render AS", "type": "organization", "country": "NO",
         "headquarters_country": "NO",
         "owners": [{"name": "Ingrid Solberg", "type": "person", "country": "NO", "share": 100}]}
    )  # fmt: skip
    (provider / "customers.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    third = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert third.book.customers.new == {"c-115"} and third.book.customers.changed == {"c-106"}
    assert third.book.revision != first.book.revision
    # Only the new names are screened: the new customer and its owner (Tan Holdings is known).
    assert third.counts.screened_full == 2
    assert third.sync.new == 0 and third.sync.resolved >= 3
    closed = [a for a in _alerts(scan_settings, "closed") if a["subject"]["id"] == "c-106"]
    assert {a["type"] for a in closed} >= {"ownership_blocked", "restricted_party_match"}
    assert all(a["resolution"] == "condition_gone" for a in closed)
    # Harbourfront stays restricted? No: its rental alert goes with the owners.
    assert ("controlled_rental", "c-106") not in _kinds(_alerts(scan_settings))


def test_cli_scan_json_contract_and_alerts_commands(
    scan_settings: Settings, provider: Path, lists_dir: Path, geoip_dir: Path
) -> None:
    env = {
        "COMPUTEKYC_HOME": str(scan_settings.home),
        "COMPUTEKYC_GEOIP_DIR": str(geoip_dir),
        "COMPUTEKYC_DATABASE_URL": "",
    }
    runner = CliRunner()
    args = ["scan", str(provider), "--lists", str(lists_dir), "--as-of", AS_OF, "--json"]
    done = runner.invoke(app, args, env=env)
    assert done.exit_code == 0, done.output
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(last) == {"snapshot", "customers", "accounts", "screened", "alerts", "seconds"}
    assert set(last["screened"]) == {"full", "delta"}
    assert set(last["alerts"]) == {"new", "updated", "resolved", "open"}
    assert last["customers"] == 15 and last["alerts"]["new"] == last["alerts"]["open"] > 0
    assert "scan: screening:" in done.stderr

    listed = runner.invoke(
        app, ["alerts", "list", "--json", "--type", "ownership_blocked"], env=env
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["type"], r["subject"]["id"]) for r in rows] == [("ownership_blocked", "c-106")]
    keys = {"id", "type", "severity", "status", "subject", "summary", "evidence", "snapshot",
            "rule_versions", "first_seen", "last_seen"}  # fmt: skip
    assert keys <= set(rows[0]) and rows[0]["subject"]["kind"] == "customer"

    by_subject = runner.invoke(app, ["alerts", "list", "--json", "--subject", "a-110"], env=env)
    assert [r["type"] for r in json.loads(by_subject.stdout)] == ["linked_to_restricted"]
    shown = runner.invoke(app, ["alerts", "show", str(rows[0]["id"])], env=env)
    assert shown.exit_code == 0 and "OFAC" in shown.stdout
    missing = runner.invoke(app, ["alerts", "show", "99999"], env=env)
    assert missing.exit_code == 2 and "no alert 99999" in missing.stderr
    bad = runner.invoke(app, ["alerts", "list", "--status", "maybe"], env=env)
    assert bad.exit_code == 2 and "--status" in bad.stderr


def test_bad_book_is_refused_with_file_line_field_and_changes_nothing(
    scan_settings: Settings, provider: Path, lists_dir: Path
) -> None:
    from computekyc.exc import InputError

    with (provider / "customers.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "c-999", "name": "Broken Ltd", "type": "spaceship"}) + "\n")
    with pytest.raises(InputError) as caught:
        run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert "customers.jsonl:16: type: unknown party type 'spaceship'" in str(caught.value)
    assert _alerts(scan_settings, "all") == []


def test_determine_customers_service_matches_the_scan(scan_settings: Settings) -> None:
    from computekyc.book import read_book
    from computekyc.services import determine_customers

    from .conftest import EXAMPLE

    customers = [c.customer for c in read_book(EXAMPLE).customers]
    found = determine_customers(scan_settings, customers, ON, item="H100")
    status = {cid: d.worst.status for cid, d in found.items()}
    assert status["c-106"] == "blocked"
    assert status["c-107"] == status["c-108"] == "license_required"
    assert {status[c] for c in ("c-100", "c-101", "c-102", "c-103")} == {"clear"}
    assert found["c-106"].worst.snapshot_id == "snapshot-1"


def test_stored_determinations_are_the_plain_json_of_each_determination(
    scan_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one shared encoder writes exactly what ``json.dumps`` of the determinations writes,
    for the blocked, licensed and clear customers of the example book; a forked encoder gives
    the same texts in the same order."""
    from computekyc.book import read_book
    from computekyc.services import customers as customer_service
    from computekyc.services import determine_customers
    from computekyc.services.customers import determinations_json, encode_determinations

    from .conftest import EXAMPLE

    customers = [c.customer for c in read_book(EXAMPLE).customers]
    found = determine_customers(scan_settings, customers, ON, item="H100")
    assert {str(d.worst.status) for d in found.values()} >= {"blocked", "clear"}
    for result in found.values():
        plain = json.dumps(
            [d.to_dict() for d in result.determinations],
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        assert determinations_json(result) == plain
    monkeypatch.setattr(customer_service, "FORK_MIN", 1)
    texts = [determinations_json(result) for result in found.values()]
    assert encode_determinations(found, fork=True)() == texts
    assert encode_determinations(found, fork=False)() == texts
