"""``computekyc determine`` end to end on the real mirror, GLEIF folder and FtM cluster."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from computekyc.cli import app


def test_determine_writes_jsonl_and_reports_bad_lines(
    tmp_path: Path, shared: Path, lists_dir: Path, zala_file: Path
) -> None:
    customers = tmp_path / "customers.jsonl"
    lines = [
        {"id": "sdn", "name": "LIMITED LIABILITY COMPANY ZALA AERO", "country": "RU"},
        {
            "id": "ms-sg",
            "name": "Microsoft Regional Sales Pte Ltd",
            "country": "SG",
            "identifiers": {"lei": "8945006UNIT4VSLO5077"},
        },
        {
            "id": "cst-child",
            "name": "Udmurt Drone Software LLC",
            "country": "AM",
            "owners": [{"name": "LLC CST", "share": 60}],
        },
    ]
    text = "\n".join(json.dumps(x) for x in lines[:2]) + '\n{"id": "bad", "name": 7}\n'
    customers.write_text(text + json.dumps(lines[2]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "determine",
            "--customers",
            str(customers),
            "--as-of",
            "2026-01-15",
            "--output",
            str(out),
            "--lists",
            str(lists_dir),
            "--list-file",
            str(zala_file),
            "--ftm",
            str(zala_file),
            "--ownership",
            str(shared / "data" / "ownership"),
            "--matcher",
            "exact",
        ],
    )
    assert result.exit_code == 2, result.output
    assert f"{customers}:3: field 'name'" in result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["sdn"]["status"] == "blocked"
    assert rows["ms-sg"]["status"] == "clear"
    assert rows["cst-child"]["status"] == "blocked"
    assert rows["bad"]["status"] == "error" and rows["bad"]["error"]["line"] == 3
    sdn = rows["sdn"]
    assert sdn["as_of"] == "2026-01-15" and sdn["item"]["eccn"] == "3A090.a"
    assert sdn["snapshot_id"].startswith("files-") and sdn["rules_version"].startswith("rules ")
    listed = next(r for r in sdn["rules"] if r["rule"] == "listed_customer")
    assert listed["list_entries"][0]["snapshot_id"] == sdn["snapshot_id"]


def test_determine_uses_the_active_stored_snapshot(
    tmp_path: Path, ck_home: Path, archive_dir: Path
) -> None:
    runner = CliRunner()
    sample = archive_dir / "csl_2025-06_sample.csv"
    loaded = runner.invoke(app, ["lists", "load", str(sample)])
    assert loaded.exit_code == 0, loaded.output
    customers = tmp_path / "c.jsonl"
    owner = {"name": "Academy of Aerospace Solid Propulsion Technology (AASPT)", "share": 51}
    record = {"id": "meu-owned", "name": "Sino Orbit Compute Pte Ltd", "country": "SG",
              "headquarters_country": "SG", "owners": [owner]}  # fmt: skip
    customers.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "determine",
            "--customers",
            str(customers),
            "--as-of",
            "2025-10-15",
            "--item",
            "L20",
            "--json",
            "--matcher",
            "exact",
        ],
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.strip().splitlines()[-1])
    assert row["status"] == "license_required" and row["snapshot_id"].startswith("snapshot-")
    affiliates = next(r for r in row["rules"] if r["rule"] == "bis_affiliates")
    assert affiliates["list_entries"][0]["source"] == "MEU"


def test_determine_without_a_snapshot_says_what_to_do(tmp_path: Path, ck_home: Path) -> None:
    customers = tmp_path / "c.jsonl"
    customers.write_text('{"id": "x", "name": "Y"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["determine", "--customers", str(customers)])
    assert result.exit_code == 1
    assert "no list snapshot is loaded" in result.output
