"""``computekyc chips classify|list``: output shape and errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from computekyc.cli import app

RUNNER = CliRunner()
KEYS = {
    *("chip", "count", "tpp", "performance_density", "memory_bandwidth_gbps", "eccn", "flags"),
    *("status", "rule_version"),
}


def test_classify_json_shape() -> None:
    result = RUNNER.invoke(app, ["chips", "classify", "p5.48xlarge", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == KEYS | {"reasons"}
    assert payload["chip"] == "H100-SXM" and payload["count"] == 8
    assert round(payload["tpp"]) == 15831 and payload["eccn"] == "3A090.a"
    assert payload["memory_bandwidth_gbps"] == 3350
    assert payload["performance_density"] == 19.45


def test_classify_not_caught_is_null() -> None:
    result = RUNNER.invoke(
        app, ["chips", "classify", "NVIDIA-H20", "--json", "--as-of", "2026-07-01"]
    )
    payload = json.loads(result.output)
    assert payload["eccn"] is None and "is-informed-bandwidth" in payload["flags"]


def test_classify_text_and_unknown() -> None:
    result = RUNNER.invoke(app, ["chips", "classify", "RTX 4090D"])
    assert result.exit_code == 0 and "not 3A090" in result.output and "Note 2" in result.output
    unknown = RUNNER.invoke(app, ["chips", "classify", "GPU-series-1"])
    assert unknown.exit_code == 2
    assert "unknown hardware 'GPU-series-1'" in unknown.output
    bad_date = RUNNER.invoke(app, ["chips", "classify", "H100", "--as-of", "2026-13-01"])
    assert bad_date.exit_code != 0 and "YYYY-MM-DD" in bad_date.output


def test_list_json_covers_catalogue() -> None:
    result = RUNNER.invoke(app, ["chips", "list", "--json", "--as-of", "2023-06-01"])
    rows = {row["chip"]: row for row in json.loads(result.output)}
    assert set(next(iter(rows.values()))) == (KEYS - {"count"}) | {"reasons"}
    # Under the Oct 2022 text the A800 (400 GB/s NVLink) was not caught, the A100 was.
    assert rows["A800-SXM"]["eccn"] is None and rows["A100-SXM"]["eccn"] == "3A090.a"
    table = RUNNER.invoke(app, ["chips", "list"])
    assert table.exit_code == 0 and "H100-SXM" in table.output
