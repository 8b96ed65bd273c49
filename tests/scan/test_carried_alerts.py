"""The re-scan's shortcuts for determinations and alerts answer exactly as the plain path.

* Carried determinations are built from the kept ones only when read: the scan's mapping is
  the plain dict of every result, and the drafts raised from the results that can raise one,
  with the name walk of quiet trees (no query of them has a hit) skipped, are the drafts of
  every result with every name asked — in each scan of a book whose carried customer gains a
  match under another name (a new listing) and loses it (the listing gone): its alert is
  raised or updated, then updated or resolved.
* Footprint hits kept for the same records are those matched again; the listed parties found
  with the quick token test are those of the plain folding.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from computekyc.alerts import AlertDraft, AlertStore
from computekyc.book import read_book
from computekyc.brands import FootprintKind, FootprintRow, Strength, load_rows, resolve_listed
from computekyc.brands.match import _folded
from computekyc.lists import Party
from computekyc.lists.store import ListStore
from computekyc.services import alerting, index_holder, run_scan
from computekyc.services import scan as scan_module
from computekyc.services.alerting import ScanFacts
from computekyc.services.footprint import find_footprint
from computekyc.services.scanmemo import DeterminationResults
from computekyc.settings import Settings
from computekyc.workflow import open_database
from computekyc.workflow.db import engine_for

from .conftest import AS_OF
from .test_delta import _old_mirror
from .test_footprint_scan import _book as _footprint_book

NEWCOMER = "LIMITED LIABILITY COMPANY ZALA AERO"  # on the SDN list since 2024, not in 2021's
ADDED = "SDN-45934"  # its SDN entry
QUIET = {
    "id": "c-950",
    "name": "Quiet Harbour Compute Ltd",
    "type": "organization",
    "country": "EE",
    "headquarters_country": "EE",
    "other_names": [NEWCOMER],
    "owners": [],
}


def _checked_scans(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Make every scan check its results and drafts against the plain path; what each found."""
    checked: list[dict[str, Any]] = []
    made: list[DeterminationResults] = []

    class Recorded(DeterminationResults):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            made.append(self)

    def build_drafts(facts: ScanFacts) -> list[AlertDraft]:
        drafts = alerting.build_drafts(facts)
        results = made[-1]
        plain = {
            cid: kept.result(cid, results.snapshot) for cid, kept in results.carried.items()
        } | dict(results.made)
        assert dict(results) == plain and list(results) == list(plain)
        assert len(results) == len(plain) and all(cid in results for cid in plain)
        assert results.not_clear() == sum(r.worst.status != "clear" for r in plain.values())
        assert facts.determinations == {
            cid: r for cid, r in plain.items() if alerting.raises_drafts(r)
        } | dict(results.made)
        full = alerting.build_drafts(replace(facts, determinations=plain, quiet_trees=frozenset()))
        assert drafts == full
        checked.append({"carried": set(results.carried), "quiet": len(facts.quiet_trees)})
        return drafts

    monkeypatch.setattr(scan_module, "DeterminationResults", Recorded)
    monkeypatch.setattr(scan_module, "build_drafts", build_drafts)
    return checked


def _matches(settings: Settings, customer_id: str) -> list[dict[str, Any]]:
    return [
        a.to_dict()
        for a in AlertStore(open_database(settings)).list(status=None)
        if a.type == "restricted_party_match" and a.subject.id == customer_id
    ]


def test_carried_customers_raise_and_resolve_as_the_plain_path(
    scan_settings: Settings,
    provider: Path,
    lists_dir: Path,
    archive_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on = date.fromisoformat(AS_OF)
    with (provider / "customers.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(QUIET) + "\n")
    checked = _checked_scans(monkeypatch)
    older = _old_mirror(lists_dir, archive_dir, tmp_path / "old")
    store = ListStore(engine_for(scan_settings))
    store.load_mirror(older, force=True)
    run_scan(scan_settings, provider, lists=older, as_of=on)
    before = _matches(scan_settings, "c-950")
    assert ADDED not in json.dumps(before)

    updated = run_scan(scan_settings, provider, lists=lists_dir, as_of=on)
    assert "c-950" in updated.counts.carried  # its tree is untouched: only another name hits
    now = _matches(scan_settings, "c-950")
    assert any(a["status"] == "open" and ADDED in json.dumps(a["evidence"]) for a in now)
    assert any(a["evidence"]["name"] == NEWCOMER for a in now)

    store.load_mirror(older, force=True)
    back = run_scan(scan_settings, provider, lists=older, as_of=on)
    assert "c-950" in back.counts.carried
    again = _matches(scan_settings, "c-950")
    assert not any(a["status"] == "open" and ADDED in json.dumps(a["evidence"]) for a in again)
    assert back.sync.updated + back.sync.resolved >= 1

    assert len(checked) == 3 and all(c["quiet"] for c in checked)
    assert not checked[0]["carried"] and checked[1]["carried"] and checked[2]["carried"]


def test_kept_footprint_hits_are_the_matched_ones(scan_settings: Settings, tmp_path: Path) -> None:
    book = read_book(_footprint_book(tmp_path / "book"))
    texts = {
        "fa-2": [("resource_name", "hik-connect-relay-01"), ("tags", '{"product": "HikConnect"}')],
        "fa-3": [("resource_name", "dahua-thesis-gpu")],
    }
    parties = list(index_holder(scan_settings).current().index.parties)
    plain = find_footprint(scan_settings, book.accounts, book.customers, texts, parties)
    assert plain.accounts and plain.customers
    made = find_footprint(
        scan_settings, book.accounts, book.customers, texts, parties, kept_as=("p", "records-1")
    )
    # The same digest: the kept hits, whatever records are given (nothing is matched again).
    kept = find_footprint(scan_settings, [], [], {}, parties, kept_as=("p", "records-1"))
    assert made == plain and kept == plain
    # Other records: matched again.
    other = find_footprint(scan_settings, [], [], {}, parties, kept_as=("p", "records-2"))
    assert not other.accounts and not other.customers and other.listed == plain.listed


def _plain_listed(rows: list[FootprintRow], parties: list[Party]) -> dict[str, list[Party]]:
    wanted = {_folded(row.listed_name): row.listed_name for row in rows}
    found: dict[str, list[Party]] = {name: [] for name in wanted.values()}
    for party in parties:
        for name in party.all_names():
            if _folded(name) in wanted:
                found[wanted[_folded(name)]].append(party)
                break
    return found


def test_listed_parties_of_the_quick_test_are_the_plain_ones(scan_settings: Settings) -> None:
    parties = list(index_holder(scan_settings).current().index.parties)
    rows = load_rows()
    # Rows naming listed parties as written on the lists (punctuation, case, "+", aliases).
    named = parties[::97] + [p for p in parties if "+" in p.name][:5]
    names = [p.all_names()[-1] for p in named]  # an alias where there is one
    rows += [
        FootprintRow(
            FootprintKind.DOMAIN,
            f"x{n}.example",
            name.upper(),
            "",
            Strength.STRONG,
            "test",
            f"test:{n}",
        )
        for n, name in enumerate(names)
    ]
    found = resolve_listed(rows, parties)
    assert found == _plain_listed(rows, parties)
    assert sum(bool(v) for v in found.values()) > len(named) // 2
