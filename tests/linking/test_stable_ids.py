"""Stable entity ids across runs, persisted under $COMPUTEKYC_HOME; explain; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.linking import explain, run
from computekyc.linking.cluster import assign_ids, new_entity_id
from computekyc.linking.records import AccountRecord, write_accounts_jsonl

from .scenarios import USAGE, scenario_dicts, scenario_records


def ids(result_entities: list[object]) -> dict[str, str]:
    return {a: e.entity_id for e in result_entities for a in e.accounts}  # type: ignore[attr-defined]


def test_assign_ids_majority_and_splits() -> None:
    previous = {"a": "E-1", "b": "E-1", "c": "E-1", "d": "E-2"}
    # The part holding most of E-1 keeps it; the rest gets a fresh id from its smallest member.
    assert assign_ids([["a"], ["b", "c"], ["d"]], previous) == [
        new_entity_id(["a"]),
        "E-1",
        "E-2",
    ]
    # A tie goes to the part with the smallest account id; unchanged groups keep their ids.
    assert (
        assign_ids([["a", "b"], ["c", "d"]], {"a": "E-1", "c": "E-1", "d": "E-2", "b": "E-3"})[0]
        == "E-1"
    )
    assert assign_ids([["x"]], {}) == [new_entity_id(["x"])]


def test_ids_stable_across_runs_and_growth(
    tmp_path: Path, ck_home: Path, background: list[AccountRecord], geoip_dir: Path
) -> None:
    path = tmp_path / "accounts.jsonl"
    write_accounts_jsonl(background + scenario_records(), path)
    first = ids(run(path, ck_home / "linking", geoip_dir=geoip_dir).entities)
    assert (ck_home / "linking" / "assignments.parquet").is_file()
    assert ids(run(path, ck_home / "linking", geoip_dir=geoip_dir).entities) == first
    # A new account paying with h-pay-1's card joins that entity, which keeps its id; an
    # account of the first run that is gone does not rename anyone.
    extra = {"account_id": "h-pay-0", "name": "Harbor Blue Analytics", "country": "US",
             "payment_fingerprints": ["tok_shared_pay"]}  # fmt: skip
    rows = [r.to_json() for r in background[1:]] + scenario_dicts() + [extra]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    third = ids(run(path, ck_home / "linking", geoip_dir=geoip_dir).entities)
    assert third["h-pay-0"] == third["h-pay-1"] == first["h-pay-1"]
    # h-pay-0 is now the smallest member, yet the entity id did not follow it.
    assert first["h-pay-1"] != new_entity_id(["h-pay-0"])
    assert {a: third[a] for a in first if a in third} == {a: first[a] for a in first if a in third}

    answer = explain("h-prob-2", ck_home / "linking")
    assert answer["entity_id"] == third["h-prob-2"]
    assert {answer["links"][0]["a"], answer["links"][0]["b"]} == {"h-prob-1", "h-prob-2"}
    assert {s["kind"] for s in answer["signals"]} >= {"access_geography", "identity_churn"}


def test_cli_link_and_explain(
    tmp_path: Path, ck_home: Path, background: list[AccountRecord], geoip_dir: Path
) -> None:
    accounts = tmp_path / "accounts.jsonl"
    write_accounts_jsonl(background[:400] + scenario_records(), accounts)
    usage = tmp_path / "usage.json"
    # The shape `computekyc usage summary --json` prints (computekyc.usage.summary).
    rows = [{"account": k, "estimated_operations": v, "gpu_hours": 1.0} for k, v in USAGE.items()]
    usage.write_text(json.dumps(rows))
    out = tmp_path / "entities.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["link", "--accounts", str(accounts), "--usage", str(usage), "--geoip", str(geoip_dir),
         "--output", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert printed == [json.loads(line) for line in out.read_text().splitlines()]
    assert set(printed[0]) == {"entity_id", "accounts", "links", "signals"}
    prob = next(e for e in printed if "h-prob-1" in e["accounts"])
    assert {s["kind"] for s in prob["signals"]} == {
        "structuring",
        "access_geography",
        "identity_churn",
    }
    assert set(prob["links"][0]) == {"a", "b", "probability", "evidence"}

    explained = runner.invoke(app, ["link", "explain", "h-pay-2"])
    assert explained.exit_code == 0, explained.output
    assert "same_payment_fingerprint" in explained.output and "h-pay-1" in explained.output
    missing = runner.invoke(app, ["link", "explain", "nobody"])
    assert missing.exit_code == 2 and "not in the last linking run" in missing.output


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('{"account_id": "x", "name": "X", "payment_fingerprints": ["4111-1111-1111-1111"]}',
         "payment_fingerprints[0]"),
        ('{"account_id": "x"}', "field 'name': is required"),
    ],
)  # fmt: skip
def test_cli_bad_input(tmp_path: Path, ck_home: Path, line: str, words: str) -> None:
    accounts = tmp_path / "bad.jsonl"
    accounts.write_text(line + "\n")
    result = CliRunner().invoke(app, ["link", "--accounts", str(accounts)])
    assert result.exit_code == 2
    assert f"bad.jsonl:1: {words}" in result.output or words in result.output
    assert "4111111111111111" not in result.output and "4111-1111-1111-1111" not in result.output
