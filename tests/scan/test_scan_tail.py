"""The end of a scan made beside its transaction (a forked process, command line) keeps exactly
what the plain sequence keeps: the same screening register and the same memos."""

from __future__ import annotations

import gzip
import json
import pickle
from datetime import date
from pathlib import Path
from typing import Any

from computekyc.services import run_scan
from computekyc.settings import Settings

from .conftest import AS_OF, clone_home


def _register(settings: Settings) -> dict[str, Any]:
    paths = list((settings.home / "reports" / "screening").glob("*.json.gz"))
    assert [p.name for p in paths] == ["scan-1.json.gz"]
    with gzip.open(paths[0], "rb") as handle:
        document: dict[str, Any] = json.loads(handle.read())
    return document


def _memos(settings: Settings) -> dict[str, Any]:
    """The memos by kind (the file names carry a key of the home: left out)."""
    kept: dict[str, Any] = {}
    for path in sorted(
        [*(settings.home / "scan").glob("*.pickle"), *(settings.home / "screening").glob("names-*")]
    ):
        kind = path.name.split("-")[0]
        if kind not in ("memo", "det", "names"):  # kept earlier in the scan, not by its end
            continue
        memo = pickle.loads(path.read_bytes())
        if kind == "memo":
            memo.fingerprint = "of its home"  # the database's URL is one of the inputs
        kept[kind] = memo
    return kept


def test_forked_tail_keeps_what_the_plain_sequence_keeps(
    template_home: Path, provider: Path, lists_dir: Path, geoip_dir: Path, tmp_path: Path
) -> None:
    on = date.fromisoformat(AS_OF)
    plain = clone_home(template_home, tmp_path / "plain", geoip_dir)
    forked = clone_home(template_home, tmp_path / "forked", geoip_dir)
    run_scan(plain, provider, lists=lists_dir, as_of=on, workers=1)
    run_scan(forked, provider, lists=lists_dir, as_of=on, workers=2)

    one, two = _register(plain), _register(forked)
    assert one["scan_id"] == two["scan_id"] == 1
    assert one["rows"] == two["rows"] and len(one["rows"]) > 5
    assert {row["scan_id"] for row in two["rows"]} == {1}
    assert not list((forked.home / "reports" / "screening").glob(".*.tmp"))

    memos, forked_memos = _memos(plain), _memos(forked)
    assert set(memos) == set(forked_memos) == {"memo", "det", "names"}
    for kind, memo in memos.items():
        assert forked_memos[kind] == memo, kind
    assert forked_memos["memo"].scan_id == forked_memos["memo"].computed_by == 1
    assert forked_memos["det"].scan_id == 1
    assert not list((forked.home / "scan").glob(".*.tmp"))

    # The forked tail's memos answer the next scan as the plain one's do: an unchanged re-scan
    # replays (no determinations stage).
    again = run_scan(forked, provider, lists=lists_dir, as_of=on, workers=2)
    assert "determinations" not in again.timings


def test_a_determination_that_raises_nothing_needs_no_draft_pass(scan_settings: Settings) -> None:
    """The alerts stage passes over a customer without hits or footprint whose determinations
    raise nothing (``raises_drafts`` false): for every determination of the example book, on
    each chip, those give no rule draft and do not restrict the customer's accounts."""
    from computekyc.alerts import Subject, SubjectKind
    from computekyc.book import read_book
    from computekyc.ownership import load_rules
    from computekyc.services import determination
    from computekyc.services.alerting import RESTRICTED, _rule_drafts, raises_drafts
    from computekyc.services.indexes import index_holder

    from .conftest import EXAMPLE

    loaded = index_holder(scan_settings).current()
    rules = load_rules()
    customers = [c.customer for c in read_book(EXAMPLE).customers]
    seen = {True: 0, False: 0}
    for chips in (["H100"], ["B200", "A100"], ["MI300X"], []):
        screener = determination.PrescreenedScreener(
            loaded, {}, rules.possible_threshold, loaded.party_index
        )
        found = determination.determine_batch(
            customers, lambda _cid, chips=chips: chips, date.fromisoformat(AS_OF), screener,
            rules, loaded.graph, keep=lambda _result: True, workers=1,
        )  # fmt: skip
        for cid, result in found.kept.items():
            raises = raises_drafts(result)
            seen[raises] += 1
            if not raises:
                assert list(_rule_drafts(Subject(SubjectKind.CUSTOMER, cid), result)) == []
                assert result.worst.status not in RESTRICTED
    assert seen[True] and seen[False]
