"""A re-scan after a list update answers exactly as a scan that remembers nothing.

The book is scanned on an older list snapshot (today's mirror with OFAC's SDN list of 2021),
again unchanged (a replay), then on today's. The re-scan keeps every stored name's analysis
and carries forward the determinations of customers whose inputs did not change (no list fact
reaches them, same record, chips, date and rules); a copy of the same home without those memos
and without any stored screening result scans in full. Both must leave the same determinations
and the same alert queue — including for a customer and an owner that only a party added since
2021 hits.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import select

from computekyc.alerts import AlertStore
from computekyc.book.schema import scan_determinations, scans
from computekyc.lists.store import ListStore
from computekyc.services import run_scan
from computekyc.services.customers import customer_detail, read_determinations
from computekyc.settings import Settings
from computekyc.workflow import open_database
from computekyc.workflow.db import engine_for

from .conftest import AS_OF, copy_index_cache
from .test_delta import _old_mirror

NEWCOMER = "LIMITED LIABILITY COMPANY ZALA AERO"  # on the SDN list since 2024


def _add_customers(provider: Path) -> None:
    rows = [
        {"id": "c-900", "name": NEWCOMER, "type": "organization", "country": "RU",
         "headquarters_country": "RU", "owners": []},
        {"id": "c-901", "name": "Baltic Drone Services OU", "type": "organization",
         "country": "EE", "headquarters_country": "EE",
         "owners": [{"name": "Zala Aero LLC", "type": "company", "country": "RU", "share": 60}]},
    ]  # fmt: skip
    with (provider / "customers.jsonl").open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in rows)


def _copy_home(source: Settings, target: Path) -> Settings:
    """The database and the screening indexes of ``source`` — none of its scan memos."""
    target.mkdir(parents=True)
    old = sqlite3.connect(source.home / "computekyc.db")
    new = sqlite3.connect(target / "computekyc.db")
    with new:
        old.backup(new)
    old.close()
    new.close()
    settings = Settings(home=target, geoip_dir=source.geoip_dir)
    copy_index_cache(source, settings)
    audit = source.home / "audit"
    if audit.is_dir():  # the same signing key
        (target / "audit").mkdir()
        for path in audit.iterdir():
            (target / "audit" / path.name).write_bytes(path.read_bytes())
            (target / "audit" / path.name).chmod(path.stat().st_mode)
    return settings


def _determinations(settings: Settings) -> dict[str, Any]:
    """Every provider's stored determinations as their readers see them."""
    with open_database(settings).connect() as connection:
        found: dict[str, str] = {}
        for provider in connection.execute(select(scans.c.provider).distinct()).scalars():
            found.update(read_determinations(connection, provider) or {})
        return {c: json.loads(d) for c, d in found.items()}


def _made_by(settings: Settings) -> dict[str, int]:
    """The scan that wrote each stored determination row."""
    with open_database(settings).connect() as connection:
        rows = connection.execute(
            select(scan_determinations.c.customer_id, scan_determinations.c.scan_id)
        )
        return {str(c): int(s) for c, s in rows}


def _queue(settings: Settings) -> list[dict[str, Any]]:
    """The alert queue without the times the re-scan stamps (the two ran a moment apart)."""
    rows = []
    for alert in AlertStore(open_database(settings)).list(status=None):
        row = alert.to_dict()
        for stamp in ("first_seen", "last_seen", "resolved_at"):
            row.pop(stamp, None)
        row["changes"] = [
            {k: v for k, v in change.items() if k != "at"} for change in row.get("changes", [])
        ]
        rows.append(row)
    return sorted(rows, key=lambda r: r["id"])


def test_memoised_rescan_after_a_list_update_equals_a_full_rescan(
    scan_settings: Settings,
    provider: Path,
    lists_dir: Path,
    archive_dir: Path,
    tmp_path: Path,
) -> None:
    from datetime import date

    on = date.fromisoformat(AS_OF)
    _add_customers(provider)
    older = _old_mirror(lists_dir, archive_dir, tmp_path / "old")
    ListStore(engine_for(scan_settings)).load_mirror(older, force=True)  # 2021: fewer parties
    first = run_scan(scan_settings, provider, lists=older, as_of=on)
    assert not first.counts.carried
    replay = run_scan(scan_settings, provider, lists=older, as_of=on)  # unchanged: replayed
    assert "determinations" not in replay.timings
    before = _determinations(scan_settings)
    # The replay's customer page shows the rows the first scan wrote, as the replay's.
    assert set(_made_by(scan_settings).values()) == {first.scan_id}
    shown = customer_detail(scan_settings, "c-900").scan
    assert shown is not None and shown.scan_id == replay.scan_id
    assert [d.to_dict() for d in shown.determinations] == [
        {"chip": str(d["item"].get("chip_id") or d["item"]["chip"]), **d} for d in before["c-900"]
    ]
    full_home = _copy_home(scan_settings, tmp_path / "full")
    with sqlite3.connect(full_home.home / "computekyc.db") as db:
        db.execute("DELETE FROM screen_results")  # every name screened in full again

    memoised = run_scan(scan_settings, provider, lists=lists_dir, as_of=on)
    full = run_scan(full_home, provider, lists=lists_dir, as_of=on)

    assert not full.counts.carried
    carried = memoised.counts.carried
    # Clean customers were carried forward; those the lists reach, and the two that only the
    # new snapshot's party hits, were determined again.
    assert len(carried) >= 5 and {"c-900", "c-901"}.isdisjoint(carried)
    assert memoised.counts.determinations == full.counts.determinations
    after = _determinations(scan_settings)
    assert after == _determinations(full_home)
    assert after["c-900"] != before["c-900"] and after["c-901"] != before["c-901"]
    assert "SDN-45934" in json.dumps(after["c-900"]) and "SDN-45934" in json.dumps(after["c-901"])
    snapshot = memoised.snapshot
    assert all(d["snapshot_id"] == snapshot for rows in after.values() for d in rows)
    # Carried rows stand as the first scan wrote them (citing its snapshot); every reader sees
    # them citing the re-scan's, as the full re-scan wrote its own.
    made_by = _made_by(scan_settings)
    assert {made_by[c] for c in carried} == {first.scan_id}
    assert {made_by[c] for c in after.keys() - carried} == {memoised.scan_id}
    assert set(_made_by(full_home).values()) == {full.scan_id}
    for customer_id in sorted(after):
        shown = customer_detail(scan_settings, customer_id).to_dict()["scan"]
        same = customer_detail(full_home, customer_id).to_dict()["scan"]
        for differs in ("scan_id", "finished"):  # the two homes' own scans
            shown.pop(differs), same.pop(differs)
        assert shown == same and shown["snapshot"] == snapshot
    queue, full_queue = _queue(scan_settings), _queue(full_home)
    assert [a["id"] for a in queue] == [a["id"] for a in full_queue]
    for alert, same in zip(queue, full_queue, strict=True):
        assert alert == same
    assert (memoised.sync.new, memoised.sync.updated, memoised.sync.resolved) == (
        full.sync.new,
        full.sync.updated,
        full.sync.resolved,
    )
    assert memoised.sync.new > 0  # the new party raised alerts
