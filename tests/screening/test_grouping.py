"""Grouping hits per listed entity: one 1260H group per company, every row kept as evidence."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.lists import Party
from computekyc.lists.store import ListStore
from computekyc.screening import (
    ScreeningIndex,
    entity_key,
    evaluate_pairs,
    group_hits,
    index_from_store,
)
from computekyc.settings import Settings

runner = CliRunner()


@pytest.fixture(scope="module")
def by_id(mirror_parties: list[Party]) -> dict[str, Party]:
    return {p.party_id: p for p in mirror_parties}


def _same_name_rows(parties: list[Party], source: str) -> dict[str, list[Party]]:
    """The names that several rows of one list carry, with those rows."""
    rows: defaultdict[str, list[Party]] = defaultdict(list)
    for party in parties:
        if party.source == source:
            rows[party.name.casefold()].append(party)
    return {name: found for name, found in rows.items() if len(found) > 1}


def test_hikvision_is_one_1260h_group_with_its_three_tranches(
    mirror_index: ScreeningIndex, by_id: dict[str, Party]
) -> None:
    hits = mirror_index.screen("Hikvision")
    rows_1260h = sorted(h.party_id for h in hits if h.source == "1260H")
    # The engine still returns every tranche row (ownership reads them one by one).
    assert len(rows_1260h) == 3
    groups = group_hits(hits, by_id)
    (group,) = [g for g in groups if g.source == "1260H"]
    assert group.party_ids == rows_1260h
    assert group.key == "1260H-d5cdfb9947b98118"
    assert all(pid.startswith(group.key + "-") for pid in group.party_ids)
    assert group.tranches == ["2021-06-03", "2025-01-07", "2026-06-08"]
    assert [m.listed_on for m in group.members] == group.tranches  # the tranche is the start
    assert group.best.name == "Hangzhou Hikvision Digital Technology Co., Ltd."
    assert group.score == max(h.score for h in hits if h.source == "1260H")
    assert group.best.explanation.matches


def test_cmic_el_and_fcc_stay_separate_groups(
    mirror_index: ScreeningIndex, by_id: dict[str, Party]
) -> None:
    hits = mirror_index.screen("Hikvision")
    groups = group_hits(hits, by_id)
    assert sorted(g.source for g in groups) == ["1260H", "CMIC", "EL", "FCC"]
    assert len(groups) == len(hits) - 2  # only the two extra 1260H tranche rows folded
    # No evidence lost: every hit is a member of exactly one group.
    members = sorted(pid for g in groups for pid in g.party_ids)
    assert members == sorted(h.party_id for h in hits)
    # Best first, as the engine ordered the hits.
    assert [g.score for g in groups] == sorted((g.score for g in groups), reverse=True)
    for group in groups:
        if group.source != "1260H":
            assert group.party_ids == [group.best.party_id] and group.tranches == []


def test_every_1260h_id_parses_and_its_stem_is_one_company(mirror_parties: list[Party]) -> None:
    """The rule is read from the ids: if the loader's id format changed, folding would
    silently stop; and a stem must never join two differently named companies."""
    names: defaultdict[str, set[str]] = defaultdict(set)
    tranches: defaultdict[str, list[str]] = defaultdict(list)
    for party in mirror_parties:
        if party.source != "1260H":
            continue
        key, tranche = entity_key(party.source, party.party_id)
        assert tranche is not None, party.party_id
        assert tranche == (party.listed_on or "undated")
        names[key].add(party.name.casefold())
        tranches[key].append(tranche)
    assert all(len(found) == 1 for found in names.values())
    assert any(len(found) > 1 for found in tranches.values())  # re-listed companies exist
    assert all(len(found) == len(set(found)) for found in tranches.values())


def test_el_rows_of_one_name_in_two_countries_are_not_folded(
    mirror_parties: list[Party], mirror_index: ScreeningIndex, by_id: dict[str, Party]
) -> None:
    same_name = _same_name_rows(mirror_parties, "EL")
    rows = same_name["gulf gate sea cargo llc"]
    assert sorted(c for p in rows for c in p.all_countries()) == ["AE", "AF"]
    assert len({a.text for p in rows for a in p.addresses}) == 3  # no address shared
    hits = [h for h in mirror_index.screen("Gulf Gate Sea Cargo LLC") if h.source == "EL"]
    assert sorted(h.party_id for h in hits) == sorted(p.party_id for p in rows)
    groups = group_hits(hits, by_id)
    assert sorted(g.party_ids[0] for g in groups) == sorted(p.party_id for p in rows)
    assert all(len(g.members) == 1 for g in groups)


def test_no_list_but_1260h_folds_any_of_its_same_name_rows(mirror_parties: list[Party]) -> None:
    """Across the mirror, rows that share a name on every other list keep their own key: CSL ids
    hash name and countries, and a ``-2`` suffix only marks a hash collision (Zurmat General
    Trading: one EL name, two rows in AE with differently spelt Sharjah addresses)."""
    sources = {p.source for p in mirror_parties} - {"1260H"}
    checked = 0
    for source in sorted(sources):
        for rows in _same_name_rows(mirror_parties, source).values():
            keys = {entity_key(p.source, p.party_id)[0] for p in rows}
            assert len(keys) == len(rows), [p.party_id for p in rows]
            checked += 1
    assert checked > 100
    zurmat = _same_name_rows(mirror_parties, "EL")["zurmat general trading"]
    assert sorted(re.sub(r"[0-9a-f]{16}", "#", p.party_id) for p in zurmat) == [
        "CSL-EL-#",
        "CSL-EL-#-2",
    ]


def test_best_member_and_order_from_real_hits(mirror_index: ScreeningIndex) -> None:
    hits = mirror_index.screen("Hikvision")
    first, second, third = (h for h in hits if h.source == "1260H")
    # The best is the highest score wherever it stands (as when only a later tranche's
    # aliases match), and the group takes the place of its best hit.
    lower = [replace(h, score=h.score - 0.1) for h in (first, second)]
    shuffled = [lower[1], third, *(h for h in hits if h.source != "1260H"), lower[0]]
    before = [h.to_dict() for h in shuffled]
    groups = group_hits(shuffled)
    assert [h.to_dict() for h in shuffled] == before  # pure: the hits are untouched
    assert groups[0].best is third and groups[0].source == "1260H"
    assert [m.score for m in groups[0].members] == [h.score for h in (*lower, third)]
    assert groups[0].party_ids == sorted(h.party_id for h in (first, second, third))
    # Without the parties the dates come from the ids alone.
    assert groups[0].tranches and all(m.listed_on is None for m in groups[0].members)
    assert group_hits([]) == []


@pytest.fixture(scope="module")
def loaded_home(tmp_path_factory: pytest.TempPathFactory, lists_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPUTEKYC_HOME", str(home))
        patch.delenv("COMPUTEKYC_DATABASE_URL", raising=False)
        store = ListStore.open(Settings.from_env().sqlalchemy_url)
        try:
            store.load_files(
                [
                    lists_dir / "opensanctions-sources" / "us_dod_1260h.csv",
                    lists_dir / "opensanctions-sources" / "us_fcc_covered_list.csv",
                    lists_dir / "csl" / "consolidated.csv",
                ]
            )
        finally:
            store.close()
    return home


@pytest.fixture()
def home(loaded_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPUTEKYC_HOME", str(loaded_home))
    monkeypatch.delenv("COMPUTEKYC_DATABASE_URL", raising=False)
    return loaded_home


def test_batch_output_has_one_row_per_group(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,name\nc1,Hikvision\nc2,Gulf Gate Sea Cargo LLC\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["screen", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    hikvision, gulf = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    settings = Settings.from_env()
    # The CLI's own index, cached on disk by the run above.
    engine = index_from_store(settings.sqlalchemy_url, settings.ensure_home())
    for record in (hikvision, gulf):
        keys = [(h["source"], h["entity_key"]) for h in record["hits"]]
        assert len(keys) == len(set(keys))  # one record per listed entity of a list
        rows = sorted(m["party_id"] for h in record["hits"] for m in h["members"])
        assert rows == sorted(h.party_id for h in engine.screen(record["query"]))
    (h1260,) = [h for h in hikvision["hits"] if h["source"] == "1260H"]
    assert [m["tranche"] for m in h1260["members"]] == ["2021-06-03", "2025-01-07", "2026-06-08"]
    assert [m["listed_on"] for m in h1260["members"]] == ["2021-06-03", "2025-01-07", "2026-06-08"]
    assert h1260["party_id"] == h1260["members"][0]["party_id"]  # best: first of equal scores
    assert sorted(h["source"] for h in hikvision["hits"]) == ["1260H", "EL", "FCC"]
    assert [h["source"] for h in gulf["hits"]].count("EL") == 2


def test_single_name_json_and_table_show_groups(home: Path) -> None:
    result = runner.invoke(app, ["screen", "Hikvision", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert [h["source"] for h in hits].count("1260H") == 1
    for hit in hits:  # the keys existing consumers read are all still there
        assert {"party_id", "name", "matched_name", "source", "programs", "score"} <= set(hit)
        assert hit["explanation"]["matches"] and hit["members"]
    table = runner.invoke(app, ["screen", "Hikvision"])
    assert table.exit_code == 0, table.output
    paragraphs = re.findall(r"^#(\d+) ", table.stdout, flags=re.MULTILINE)
    assert paragraphs == [str(n) for n in range(1, len(hits) + 1)]
    assert "3 listed rows" in table.stdout


def test_eval_pairs_figures_do_not_use_grouping(names_dir: Path) -> None:
    """``eval pairs`` scores name pairs with the matcher alone: its figures are the library's."""
    path = names_dir / "nomenklatura_name_bench.csv"
    result = runner.invoke(app, ["eval", "pairs", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == evaluate_pairs(path).to_dict()
