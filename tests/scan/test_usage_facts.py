"""The usage facts a scan keeps: what the scan reads of each account's summary, unchanged."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from computekyc.services import alerting, scan
from computekyc.settings import Settings
from computekyc.usage import Filters, UsageStore, ingest, make_engine, summary


def test_kept_usage_reads_as_the_whole_summary(provider: Path, tmp_path: Path) -> None:
    store = UsageStore(Settings(home=tmp_path / "home").ensure_home() / "usage")
    ingest(sorted((provider / "usage").iterdir()), store=store)
    rows = summary(make_engine("duckdb", store), filters=Filters(last_day=date(2026, 11, 30)))
    assert rows and any(row["days"] for row in rows)
    strings: dict[Any, Any] = {}
    whole = {row["account"]: row for row in rows}
    kept = {account: scan._scanned_usage(row, strings) for account, row in whole.items()}
    for account, row in whole.items():
        mine = kept[account]
        for name in ("account", "estimated_operations", "peak_ops_per_second"):
            assert mine[name] == row[name]
        assert {c: f["gpu_hours"] for c, f in row["by_chip"].items()} == {
            c: f["gpu_hours"] for c, f in mine["by_chip"].items()
        }
    dates = sorted({d["date"] for row in rows for d in row["days"]})
    for since in (None, dates[0], dates[len(dates) // 2], "9999-12-31"):
        accounts = sorted(whole)
        plain = alerting._controlled_since(SimpleNamespace(usage=whole), accounts, since)  # type: ignore[arg-type]
        assert plain[0] > 0 or since is not None
        assert alerting._controlled_since(SimpleNamespace(usage=kept), accounts, since) == plain  # type: ignore[arg-type]
