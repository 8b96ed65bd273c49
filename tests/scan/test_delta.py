"""Delta re-screening equals a full re-screen, on two real list snapshots.

The old snapshot is the mirror with OFAC's SDN list of 18 Aug 2021; the new one is today's
mirror, which adds some six thousand SDN parties (and removes and changes others). Names
screened on the old snapshot are re-screened on the new one only against a small index of what
changed — and only those whose kept analysis can reach it, without analysing any stored name
again; the result must equal screening every name against the whole new snapshot, for names of
removed and of changed parties and for names that meet a new party only through a typo
neighbour or a joined name.
"""

from __future__ import annotations

import csv
import random
import re
import shutil
from pathlib import Path

import pytest

from computekyc import screening
from computekyc.book import read_book
from computekyc.lists.store import ListStore
from computekyc.ownership import load_rules
from computekyc.screening import ScreeningIndex
from computekyc.services import NameQuery, index_holder, save_screening, screen_queries
from computekyc.services import screening as screening_service
from computekyc.services.alerting import customer_queries
from computekyc.services.namekeys import NameKeysCache
from computekyc.services.scan import account_queries
from computekyc.services.screening import _Diff, _make_query_key
from computekyc.settings import Settings
from computekyc.workflow import open_database
from computekyc.workflow.db import engine_for

from .conftest import EXAMPLE, clone_home


def _old_mirror(lists_dir: Path, archive_dir: Path, target: Path) -> Path:
    """Today's mirror with the 2021 SDN file in place of today's (symlinks, nothing copied
    into the repository)."""
    for path in lists_dir.rglob("*"):
        if path.is_file():
            dest = target / path.relative_to(lists_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(path)
    sdn = target / "ofac" / "sdn.csv"
    sdn.unlink()
    shutil.copyfile(archive_dir / "sdn_2021-08-18.csv", sdn)
    return target


def _sdn_names(path: Path) -> dict[str, str]:
    with path.open(encoding="latin-1", newline="") as handle:
        return {
            row[0]: row[1]
            for row in csv.reader(handle)
            if len(row) > 2 and row[2].strip() in ("-0-", "")
        }


def _typo_only(name: str) -> str:
    """The name with one inner letter dropped from every word of six letters or more: it shares
    no such word with the listed name, only typo neighbours."""
    return re.sub(r"\w{6,}", lambda m: m.group(0)[:2] + m.group(0)[3:], name)


def _queries(lists_dir: Path, archive_dir: Path) -> list[NameQuery]:
    book = read_book(EXAMPLE)
    queries = [q for c in book.customers for q in customer_queries(c)]
    queries += [q for a in book.accounts for q in account_queries(a.record)]
    with (EXAMPLE.parent / "screen_names.csv").open(encoding="utf-8") as handle:
        queries += [
            NameQuery(r["name"], r["country"] or None, r["type"] or None)
            for r in csv.DictReader(handle)
        ]
    new = _sdn_names(lists_dir / "ofac" / "sdn.csv")
    old = _sdn_names(archive_dir / "sdn_2021-08-18.csv")
    rng = random.Random(7)
    added = sorted(set(new) - set(old))
    kept = sorted(set(new) & set(old))
    for key in rng.sample(added, 60):  # parties the new snapshot added, exact and misspelt
        name = new[key]
        queries.append(NameQuery(name, None, "entity"))
        cut = rng.randrange(1, max(2, len(name) - 1))
        queries.append(NameQuery(name[:cut] + name[cut + 1 :], None, None))
    for key in rng.sample(kept, 40):  # parties on both
        queries.append(NameQuery(new[key].title(), None, "entity"))
    for key in rng.sample(added, 40):  # new parties met only through fuzzy keys
        name = new[key]
        if _typo_only(name) != name:
            queries.append(NameQuery(_typo_only(name), None, None))
    # A new party written as one word: met only through the joined name.
    queries.append(NameQuery("ZalaAero", None, "entity"))
    removed = sorted(set(old) - set(new))
    renamed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    for key in rng.sample(removed, 30):  # parties the new snapshot removed: their hits go
        queries.append(NameQuery(old[key], None, None))
    for key in rng.sample(renamed, min(30, len(renamed))):  # changed parties: old and new name
        queries += [NameQuery(old[key], None, None), NameQuery(new[key], None, "entity")]
    queries += [NameQuery(n, None, None) for n in ("Tan Holdings Pte Ltd", "Zhang Wei")]
    return queries


def test_delta_rescreen_equals_full_rescreen_on_real_snapshots(
    template_home: Path,
    tmp_path: Path,
    lists_dir: Path,
    archive_dir: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings: Settings = clone_home(template_home, tmp_path / "home")
    store = ListStore(engine_for(settings))
    store.load_mirror(_old_mirror(lists_dir, archive_dir, tmp_path / "old"), force=True)
    engine = open_database(settings)
    threshold = load_rules().possible_threshold
    queries = _queries(lists_dir, archive_dir)
    holder = index_holder(settings)

    old = holder.current()
    request.addfinalizer(lambda: screening.use_index(None))
    holder.install()  # module-level screening.screen now asks the holder, as a server would
    newcomer = "LIMITED LIABILITY COMPANY ZALA AERO"  # on the SDN list since 2024
    assert not [h for h in screening.screen(newcomer) if h.source == "SDN"]
    names = NameKeysCache.load(settings.home)
    with engine.begin() as connection:
        first = screen_queries(connection, old, store, queries, threshold, names=names)
        save_screening(connection, first)
    assert first.full == len({q.key for q in queries}) and first.delta == 0
    assert names.made == len({q.name for q in queries})  # kept from the screening itself
    names.save(q.name for q in queries)

    store.load_mirror(lists_dir)  # today's lists: a new snapshot
    # The same holder (a long-running process) sees the new snapshot without a restart.
    assert [h.party_id for h in screening.screen(newcomer) if h.source == "SDN"] == ["SDN-45934"]
    new = holder.current()
    assert new.list_snapshot_id != old.list_snapshot_id
    kept = NameKeysCache.load(settings.home)  # a new process: the analyses from disk
    # The kept query keys are those the stored results are keyed by.
    assert kept.query_keys == {
        (q.name, q.country, q.type): _make_query_key(q.name, q.country, q.type) for q in queries
    }
    with engine.connect() as connection:
        delta = screen_queries(connection, new, store, queries, threshold, names=kept)
    full = {
        q.key: [h.to_dict() for h in new.index.screen_query(q.query(), threshold)] for q in queries
    }

    assert delta.hits == full
    # Reading a whole book's stored rows as keys per cited snapshot (the rows without hits)
    # decides exactly as reading them row by row.
    monkeypatch.setattr(screening_service, "_READ_ALL", 0)
    with engine.connect() as connection:
        bulk = screen_queries(connection, new, store, queries, threshold, names=kept)
    assert bulk == delta and list(bulk.to_insert) == list(delta.to_insert)
    # A whole book's names decided by forked workers, a chunk each, decide as this process.
    monkeypatch.setattr(screening_service, "DECIDE_PARALLEL_MIN", 0)
    monkeypatch.setattr(screening_service, "_DECIDE_CHUNK", 7)
    with engine.connect() as connection:
        forked = screen_queries(connection, new, store, queries, threshold, names=kept, workers=2)
    assert forked == delta and list(forked.to_insert) == list(delta.to_insert)
    assert kept.made == 0  # no stored name was analysed again
    diff = store.diff(old.list_snapshot_id, new.list_snapshot_id)
    gone = {r.party_id for r in diff.removed}
    touched = {c.party_id for c in diff.changed}
    fresh = {r.party_id for r in diff.added}
    old_hit = {h["party_id"] for hits in first.hits.values() for h in hits}
    new_hit = {h["party_id"] for hits in full.values() for h in hits}
    # The diff's three kinds are exercised: hits on removed parties dropped, on changed
    # parties re-made, and new parties found by names that share no whole word with them.
    assert old_hit & gone and not new_hit & gone
    assert old_hit & touched and new_hit & touched
    by_key = {q.key: q for q in queries}

    def long_words(name: str) -> set[str]:
        return {w.lower() for w in re.findall(r"\w{6,}", name)}

    assert any(
        h["party_id"] in fresh and not long_words(by_key[k].name) & long_words(h["matched_name"])
        for k, hits in full.items()
        for h in hits
    )
    joined = by_key[NameQuery("ZalaAero", None, "entity").key]
    assert "SDN-45934" in {h["party_id"] for h in delta.hits[joined.key]}

    # The candidate filter reads the blocking keys the index reads and bounds the score as it
    # does: whatever the index of the added and changed parties finds for a name, the filter
    # says that name may get a hit from it (and it does not say so of every name).
    small = ScreeningIndex.build(
        [new.parties[p] for p in sorted(fresh | touched) if p in new.parties],
        new.snapshot,
        doc_freq=new.index.doc_freq,
    )
    reached = 0
    quick = _Diff(small, set(), set(), threshold, frozenset(small.postings))
    for query in by_key.values():
        reaches = small.may_hit(kept.get(query.name).forms, threshold)
        # The filter's set tests of a name's terms answer as the bound itself does.
        assert quick.reaches(kept.get(query.name)) == reaches, query
        reached += reaches
        if small.screen_query(query.query(), threshold):
            assert reaches, query
    assert 0 < reached < len(by_key)
    # Names the diff cannot touch were answered from it alone (a quarter here: five years of
    # SDN changes re-weigh many words); those it may touch were screened in full.
    assert delta.delta >= 40 and delta.full > 0 and delta.full + delta.delta == len(full)
    changed = [k for k in full if full[k] != first.hits[k]]
    assert len(changed) >= 60  # the snapshot's new parties are found
