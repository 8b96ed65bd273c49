"""The `computekyc usage` commands, end to end on a throwaway home."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from computekyc.cli import app

runner = CliRunner()


def test_ingest_summary_runs_json(ck_home: Path, usage_data: Path) -> None:
    files = [str(usage_data / "sacct.txt"), str(usage_data / "dcgm.csv")]
    result = runner.invoke(app, ["usage", "ingest", *files, "--json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["format"] for r in reports] == ["sacct", "dcgm"]
    assert (ck_home / "usage" / "usage.duckdb").exists()
    again = json.loads(runner.invoke(app, ["usage", "ingest", *files, "--json"]).stdout)
    assert {r["status"] for r in again} == {"already ingested"}

    result = runner.invoke(app, ["usage", "summary", "--account", "lab-a", "--json"])
    assert result.exit_code == 0, result.output
    (lab_a,) = json.loads(result.stdout)
    for key in (
        "gpu_hours",
        "controlled_gpu_hours",
        "h100_equivalent_hours",
        "estimated_operations",
        "peak_gpus",
        "peak_ops_per_second",
        "by_chip",
    ):
        assert key in lab_a
    assert lab_a["gpu_hours"] == 768.0
    # Cumulative thresholds per account, in the runs' shape, each with what it means.
    assert {(t["threshold"], t["basis"]) for t in lab_a["thresholds"]} >= {
        (1e26, "rolling 90 days"),
        (1e23, "calendar quarter"),
        (1e20, "day: peak theoretical maximum"),
    }
    assert all(
        {"threshold", "basis", "status", "date", "label"} <= set(t) for t in lab_a["thresholds"]
    )
    assert lab_a["flags"] == [] and lab_a["precisions"]["H100-SXM"]["peak"] == "fp8"
    one_day = json.loads(
        runner.invoke(
            app, ["usage", "summary", "--from", "2024-06-02", "--to", "2024-06-02", "--json"]
        ).stdout
    )
    assert {a["account"]: a["gpu_hours"] for a in one_day}["lab-a"] == 384.0

    result = runner.invoke(app, ["usage", "runs", "--account", "lab-a", "--json"])
    (run,) = json.loads(result.stdout)
    assert run["class"] == "training" and run["gpus"] == 16.0 and run["chip"] == "H100-SXM"
    assert {"start", "end", "estimated_operations", "thresholds", "reasons"} <= set(run)
    assert {"peak_training_ops_per_second", "unclassified_gpu_hours", "flags"} <= set(run)
    assert {t["basis"] for t in run["thresholds"]} >= {"run"}
    table = runner.invoke(app, ["usage", "runs"])
    assert table.exit_code == 0 and "lab-a" in table.stdout


def test_ingest_errors_and_bad_dates(ck_home: Path, usage_data: Path, shared: Path) -> None:
    nodes = shared / "data/usage/alibaba/v2023_gpu_nodes.csv"
    result = runner.invoke(app, ["usage", "ingest", str(nodes)])
    # An input error: exit code 2 (computekyc.exc), one line on stderr naming the file.
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {nodes}: a GPU node inventory, not usage records"
    ]
    result = runner.invoke(app, ["usage", "summary", "--from", "June"])
    assert result.exit_code == 2 and "--from 'June' is not a date" in result.output
    result = runner.invoke(app, ["usage", "ingest", str(usage_data / "cur2.csv")])
    assert (
        result.exit_code == 0 and "line 7: line_item_usage_amount is not a number" in result.stdout
    )


def test_generate_command(tmp_path: Path, ck_home: Path) -> None:
    result = runner.invoke(
        app, ["usage", "generate", str(tmp_path / "g"), "--seed", "1", "--scale", "0.2"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        "cur.parquet",
        "dcgm.csv",
        "focus.csv",
        "sacct.txt",
        "truth.json",
    ]
