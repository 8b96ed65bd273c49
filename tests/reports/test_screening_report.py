"""The screening report of the latest scan in its three formats, each read back by the tool a
reader would use: the csv module (BOM and all), openpyxl, DuckDB."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from computekyc.reports import COLUMNS

Cli = Callable[..., Any]
NAMES = [name for name, _ in COLUMNS]


def _report(cli: Cli, tmp_path: Path, fmt: str) -> Path:
    target = tmp_path / f"screening.{fmt}"
    made = cli("report", "screening", "--format", fmt, "--output", str(target))
    assert made.exit_code == 0, made.output
    assert "screening report of scan 1" in made.output
    return target


def _csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the names right
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == NAMES
        return list(reader)


def test_csv_has_a_row_per_screened_subject_and_hit(home: Path, cli: Cli, tmp_path: Path) -> None:
    rows = _csv_rows(_report(cli, tmp_path, "csv"))
    subjects = {(r["subject_kind"], r["subject_id"]) for r in rows}
    assert subjects == {
        ("customer", "c-1"),
        ("customer", "c-2"),
        ("customer", "c-3"),
        ("account", "a-1"),
        ("account", "a-2"),
    }
    assert {r["scan_id"] for r in rows} == {"1"}
    assert {r["snapshot"] for r in rows} == {"snapshot-1"}
    hikvision = [
        r for r in rows if r["subject_id"] == "c-1" and r["role"] == "customer" and r["party_id"]
    ]
    best = max(hikvision, key=lambda r: float(r["score"]))
    assert best["list"] == "EL"
    assert best["listed_name"] == "Hangzhou Hikvision Digital Technology Co., Ltd."
    assert best["band"] == "match" and float(best["score"]) >= 0.9
    assert best["listed_on"] == "2019-10-09"
    assert best["alert_ids"] == "1 (open)"
    assert best["determination"] in {"blocked", "license_required"}
    assert best["determination_item"].startswith("H100")
    clean = [r for r in rows if r["subject_id"] == "c-2"]
    assert all(r["determination"] == "clear" for r in clean)
    assert [r["band"] for r in clean] == ["no hit"]  # screened, nothing found: still a row
    account = [r for r in rows if r["subject_id"] == "a-1"]
    assert account and all(r["customer_id"] == "c-1" for r in account)
    assert account[0]["determination"] == best["determination"]
    # A name that looks like a spreadsheet formula stays text.
    assert not any(value.startswith("=") for r in rows for value in r.values())


def test_xlsx_and_parquet_hold_the_same_rows(home: Path, cli: Cli, tmp_path: Path) -> None:
    rows = _csv_rows(_report(cli, tmp_path, "csv"))
    book = openpyxl.load_workbook(_report(cli, tmp_path, "xlsx"), read_only=True)
    assert book.sheetnames == ["summary", "screening"]
    sheet = list(book["screening"].iter_rows(values_only=True))
    assert list(sheet[0]) == NAMES
    assert len(sheet) - 1 == len(rows)
    by_position = {(r[3], r[4], r[10] or ""): r for r in sheet[1:]}
    for row in rows:
        cells = by_position[(row["subject_kind"], row["subject_id"], row["party_id"])]
        assert cells[NAMES.index("listed_name")] in (row["listed_name"], None)
    summary = {r[0]: r[1] for r in book["summary"].iter_rows(values_only=True) if len(r) > 1}
    assert summary["subjects screened"] == 5
    assert summary["hits"] == sum(1 for r in rows if r["party_id"])
    assert summary["list snapshot"] == "snapshot-1"
    parquet = _report(cli, tmp_path, "parquet")
    table = duckdb.sql(f"SELECT * FROM read_parquet('{parquet}')")
    assert table.columns == NAMES
    assert dict(zip(table.columns, table.types, strict=True))["score"] == "DOUBLE"
    fetched = table.fetchall()
    assert len(fetched) == len(rows)
    scores = sorted(float(r["score"]) for r in rows if r["score"])
    assert sorted(r[NAMES.index("score")] for r in fetched if r[NAMES.index("score")]) == (
        pytest.approx(scores)
    )


def test_screening_report_refusals(home: Path, cli: Cli, tmp_path: Path) -> None:
    bad = cli("report", "screening", "--format", "pdf", "--output", str(tmp_path / "x.pdf"))
    assert bad.exit_code == 2 and "--format must be csv, xlsx or parquet" in bad.output
    missing = cli("report", "screening", "--scan", "7", "--output", str(tmp_path / "x.csv"))
    assert missing.exit_code == 2 and "no scan 7" in missing.output


def test_no_scan_yet_is_a_state_error(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPUTEKYC_HOME", str(tmp_path / "empty"))
    done = cli("report", "screening", "--output", str(tmp_path / "x.csv"))
    assert done.exit_code == 3 and "no scan yet" in done.output
    assert not (tmp_path / "x.csv").exists()


def test_stdout_is_the_report(home: Path, cli: Cli) -> None:
    done = cli("report", "screening", "--output", "-")
    assert done.exit_code == 0
    text = done.stdout_bytes.decode("utf-8")
    assert text.startswith("\ufeffscan_id,")
    assert len(list(csv.reader(io.StringIO(text)))) > 5


def test_unchanged_rescans_report_the_register_they_replay(
    home: Path, scanned_template: Path, cli: Cli, tmp_path: Path
) -> None:
    # An unchanged re-scan keeps a note naming the register it replays, not a copy, and reports
    # the same rows under its own id; a replay of a replay names the scan that wrote it.
    from datetime import date

    from computekyc.services import run_scan
    from computekyc.settings import Settings

    from .conftest import AS_OF

    first = _csv_rows(_report(cli, tmp_path, "csv"))
    settings = Settings(home=home)
    provider = scanned_template.parent / "provider"
    for expected in (2, 3, 4):
        result = run_scan(settings, provider, as_of=date.fromisoformat(AS_OF))
        assert result.scan_id == expected
    registers = home / "reports" / "screening"
    kept = sorted(p.name for p in registers.iterdir())
    assert "scan-3.replay.json" in kept and "scan-4.replay.json" in kept
    assert "scan-3.json.gz" not in kept and "scan-4.json.gz" not in kept
    notes = [json.loads((registers / f"scan-{n}.replay.json").read_text()) for n in (3, 4)]
    assert notes[0]["replay_of"] == notes[1]["replay_of"] in (1, 2)
    for scan_id in ("2", "3", "4"):
        target = tmp_path / f"screening-{scan_id}.csv"
        made = cli(
            "report", "screening", "--scan", scan_id, "--format", "csv", "--output", str(target)
        )
        assert made.exit_code == 0, made.output
        rows = _csv_rows(target)
        assert {r["scan_id"] for r in rows} == {scan_id}
        assert [{**r, "scan_id": "1"} for r in rows] == first
    # A note whose register is gone says so and names the way out.
    (registers / f"scan-{notes[0]['replay_of']}.json.gz").unlink()
    gone = cli(
        "report", "screening", "--scan", "4", "--format", "csv", "--output", str(tmp_path / "x.csv")
    )
    assert gone.exit_code != 0 and "run the scan again" in gone.output
