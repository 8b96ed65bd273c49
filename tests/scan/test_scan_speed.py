"""The scan's shortcuts answer exactly as the long way round.

* an unchanged re-scan replays the last scan's findings only when every input is byte-for-byte
  the same and the database still holds that scan as the latest; it leaves the queue exactly as a
  full re-scan does;
* a screening index built with an older index's name analyses equals one built from scratch;
* batch screening (and the scan's, which keeps each name's lookup keys) equals one by one;
* a query's stored key is the SHA-256 of its JSON, however it is spelt out.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computekyc.alerts import AlertStatus, AlertStore
from computekyc.lists.store import ListStore
from computekyc.ownership import load_rules
from computekyc.screening import Query, ScreeningIndex, analyze
from computekyc.screening.index import PARALLEL_MIN
from computekyc.services import NameQuery, index_holder, run_scan
from computekyc.services.namekeys import name_keys, screen_full
from computekyc.services.scanmemo import forget_memo
from computekyc.settings import Settings
from computekyc.workflow import open_database
from computekyc.workflow.db import engine_for

from .conftest import AS_OF
from .test_delta import _queries as _delta_queries

ON = date.fromisoformat(AS_OF)


def _queue(settings: Settings) -> list[dict[str, Any]]:
    """The alert queue without the times a sync stamps (last seen)."""
    found = AlertStore(open_database(settings)).list(status=None)
    rows = []
    for alert in found:
        row = alert.to_dict()
        row.pop("last_seen", None)
        rows.append(row)
    return sorted(rows, key=lambda r: r["id"])


def _replayed(result: Any) -> bool:
    return "determinations" not in result.timings


def test_unchanged_rescan_replays_and_equals_a_full_rescan(
    scan_settings: Settings, provider: Path, lists_dir: Path
) -> None:
    first = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert not _replayed(first) and first.sync.new > 0
    after_first = _queue(scan_settings)

    second = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert _replayed(second)
    assert (second.sync.new, second.sync.updated, second.sync.reopened, second.sync.resolved) == (
        0,
        0,
        0,
        0,
    )
    assert second.counts.customers == first.counts.customers
    assert second.counts.accounts == first.counts.accounts
    assert second.book.revision == first.book.revision
    assert _queue(scan_settings) == after_first

    # Without the memo the same inputs are scanned in full: the same queue, nothing changed.
    forget_memo(scan_settings, provider.resolve().name)
    third = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert not _replayed(third)
    assert (third.sync.new, third.sync.updated, third.sync.resolved) == (0, 0, 0)
    assert _queue(scan_settings) == after_first

    # One byte more in the book (a blank line): scanned in full, and still nothing changes.
    with (provider / "customers.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    fourth = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert not _replayed(fourth) and fourth.sync.new == fourth.sync.resolved == 0


def test_memo_of_an_older_scan_is_not_replayed(
    scan_settings: Settings, provider: Path, lists_dir: Path, tmp_path: Path
) -> None:
    run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    memo = next((scan_settings.home / "scan").glob("memo-*.pickle"))
    kept = tmp_path / "memo.pickle"
    shutil.copyfile(memo, kept)
    other_day = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON + timedelta(days=1))
    assert not _replayed(other_day)
    # The first scan's memo put back: its inputs match, but the database has moved on.
    shutil.copyfile(kept, memo)
    again = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert not _replayed(again)
    replay = run_scan(scan_settings, provider, lists=lists_dir, as_of=ON)
    assert _replayed(replay)
    open_alerts = AlertStore(open_database(scan_settings)).count([AlertStatus.OPEN])
    assert replay.open_alerts == open_alerts > 0


def test_index_built_with_older_analyses_equals_a_fresh_build(template_home: Path) -> None:
    store = ListStore(engine_for(Settings(home=template_home)))
    info = store.active_snapshot()
    assert info is not None
    parties = list(store.parties(info.id))[:4000]
    older = ScreeningIndex.build(parties[1000:], "older")
    fresh = ScreeningIndex.build(parties[:3000], "new")
    reused = ScreeningIndex.build(parties[:3000], "new", previous=older)
    assert reused.names == fresh.names
    assert reused.postings == fresh.postings
    assert reused.doc_freq == fresh.doc_freq
    assert reused.weights == fresh.weights


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)))  # storable as UTF-8


@settings(max_examples=300, deadline=None)
@given(
    _TEXT,
    st.none() | _TEXT,
    st.none() | st.sampled_from(["entity", "individual"]) | _TEXT,
)
def test_query_key_is_the_sha256_of_its_json(
    name: str, country: str | None, kind: str | None
) -> None:
    text = json.dumps([name, country, kind], ensure_ascii=False)
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    assert NameQuery(name, country, kind).key == expected


def _batch_queries(lists_dir: Path, archive_dir: Path) -> list[Query]:
    """Names that hit and names that do not: the delta test's (the example book, the screening
    examples, listed names exact and misspelt), listed names with their words swapped, and a
    generated book's names (persons and companies made of common words), each also in another
    country and as the other type."""
    names = _delta_queries(lists_dir, archive_dir)
    with (lists_dir / "ofac" / "sdn.csv").open(encoding="latin-1", newline="") as handle:
        listed = [row[1] for row in csv.reader(handle) if len(row) > 2]
    rng = random.Random(11)
    for name in rng.sample(listed, 900):
        names.append(NameQuery(" ".join(reversed(name.split())), None, "individual"))
    first = ["Mohammad", "Ali", "Wei", "Olga", "James", "Hassan", "Ivan", "Maria"]
    last = ["Zhang", "Petrov", "Rahimi", "Smith", "Khan", "Kim", "Li", "Novak"]
    core = ["Aviation", "Trading", "Technology", "Shipping", "Electronics", "Holdings"]
    for _ in range(300):
        names.append(NameQuery(f"{rng.choice(first)} {rng.choice(last)}", "IR", "individual"))
        names.append(
            NameQuery(f"{rng.choice(last)} {rng.choice(core)} Co Ltd", rng.choice(["CN", "AE"]))
        )
    out: list[Query] = []
    for q in {q.key: q for q in names}.values():
        out.append(q.query())
        out.append(Query(q.name, "CN" if q.country != "CN" else None, "individual"))
    return out


def test_batch_screening_finds_exactly_what_one_by_one_screening_finds(
    template_home: Path, lists_dir: Path, archive_dir: Path
) -> None:
    """Screening a batch (same names matched once, word postings memoised, forked workers)
    gives every query exactly the hits, scores and explanations of screening it alone."""
    index = index_holder(Settings(home=template_home)).current().index
    threshold = load_rules().possible_threshold
    queries = _batch_queries(lists_dir, archive_dir)
    assert len(queries) >= PARALLEL_MIN  # the forked path too
    alone = [[h.to_dict() for h in index.screen_query(q, threshold)] for q in queries]
    assert sum(bool(h) for h in alone) >= 600  # plenty of hits to compare, not only misses
    batch = index.screen_many(queries, threshold)
    assert [[h.to_dict() for h in hits] for hits in batch] == alone
    forked = index.screen_many(queries, threshold, workers=2)
    assert [[h.to_dict() for h in hits] for hits in forked] == alone
    # The scan's full screening keeps the analyses it makes: the same hits, and each name's
    # lookup keys as analysing it afresh gives them.
    kept, keys = screen_full(index, queries, threshold, workers=2)
    assert [[h.to_dict() for h in hits] for hits in kept] == alone
    assert keys.keys() == {q.name for q in queries}
    assert all(keys[n] == name_keys(analyze(n)) for n in sorted(keys)[::7])


def test_forked_determinations_equal_one_process(
    scan_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Customers determined in forked workers (chunks of four here) come back exactly as when
    determined in one process: the kept (not clear) results, the count, and the names the
    workers screened on demand."""
    from computekyc.book import read_book
    from computekyc.services import determination
    from computekyc.services.alerting import raises_drafts

    from .conftest import EXAMPLE

    holder = index_holder(scan_settings)
    loaded = holder.current()
    rules = load_rules()
    customers = [c.customer for c in read_book(EXAMPLE).customers]
    chips = {c.id: ["H100"] if i % 2 else ["B200", "A100"] for i, c in enumerate(customers)}

    def batch(workers: int) -> tuple[determination.Determined, dict[str, Any]]:
        screener = determination.PrescreenedScreener(
            loaded, {}, rules.possible_threshold, loaded.party_index
        )
        found = determination.determine_batch(
            customers, chips.__getitem__, ON, screener, rules, loaded.graph,
            keep=raises_drafts, workers=workers,
        )  # fmt: skip
        return found, screener.misses

    alone, alone_misses = batch(1)
    monkeypatch.setattr(determination, "PARALLEL_MIN", 1)
    monkeypatch.setattr(determination, "_CHUNK", 4)
    forked, forked_misses = batch(2)
    assert forked.count == alone.count > len(customers)  # two chips for half of them
    assert set(forked.kept) == set(alone.kept) and len(alone.kept) >= 4
    for cid, result in alone.kept.items():
        assert [d.to_dict() for d in forked.kept[cid].determinations] == [
            d.to_dict() for d in result.determinations
        ]
    assert forked_misses == alone_misses
