"""``computekyc screen`` and ``computekyc eval pairs`` end to end, on a real slice of the lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.lists.store import ListStore
from computekyc.settings import Settings

runner = CliRunner()


@pytest.fixture()
def loaded_home(ck_home: Path, lists_dir: Path) -> Path:
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    try:
        store.load_files(
            [
                lists_dir / "opensanctions-sources" / "us_dod_1260h.csv",
                lists_dir / "opensanctions-sources" / "us_fcc_covered_list.csv",
            ]
        )
    finally:
        store.close()
    return ck_home


def test_screen_one_name_json(loaded_home: Path) -> None:
    result = runner.invoke(app, ["screen", "海康威视", "--country", "CN", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == "海康威视"
    sources = {h["source"] for h in data["hits"]}
    assert {"1260H", "FCC"} <= sources
    hit = data["hits"][0]
    assert "hikvision" in hit["name"].lower() and hit["explanation"]["matches"]
    assert hit["score"] == max(h["score"] for h in data["hits"])
    # The index was cached on disk for the next run.
    assert list((loaded_home / "screening").glob("index-*.pickle"))


def test_screen_table_output(loaded_home: Path) -> None:
    result = runner.invoke(app, ["screen", "Huawei Technologies", "--type", "entity"])
    assert result.exit_code == 0, result.output
    assert "Huawei" in result.stdout and "1260H" in result.stdout


def test_screen_batch_in_input_order_with_bad_rows(loaded_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "customers.csv"
    src.write_text(
        "id,name,country,type,date_of_birth\n"
        "c1,Hikvision,CN,entity,\n"
        "c2,,CN,entity,\n"
        "c3,Nobody Special Bakery LLC,US,entity,\n"
        "c4,中芯国际,CN,spaceship,\n"
        "c5,江西洪都航空工业股份有限公司,CN,entity,\n",
        encoding="utf-8",
    )
    out = tmp_path / "hits.jsonl"
    result = runner.invoke(app, ["screen", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["c1", "c2", "c3", "c4", "c5"]
    assert rows[0]["hits"] and rows[2]["hits"] == [] and rows[4]["hits"]
    assert rows[1]["error"] == f"{src}:3: name: empty"
    assert "type: unknown party type 'spaceship'" in rows[3]["error"]
    assert "customers.csv:3: name: empty" in result.output
    for hit in rows[0]["hits"]:
        # The hits are grouped per listed entity (screening.grouping): each keeps the hit keys
        # and adds its entity key and member rows.
        assert set(hit) == {
            "party_id", "name", "matched_name", "source", "programs", "score", "explanation",
            "entity_key", "members",
        }  # fmt: skip


def test_screen_threshold_filters_hits(loaded_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name\nHikvision Digital\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    low = runner.invoke(
        app, ["screen", "--input", str(src), "--output", str(out), "--threshold", "0.5"]
    )
    assert low.exit_code == 0, low.output
    scores = [h["score"] for h in json.loads(out.read_text()).get("hits")]
    assert scores and min(scores) >= 0.5 and scores == sorted(scores, reverse=True)


def test_screen_without_snapshot_is_a_clear_error(ck_home: Path) -> None:
    result = runner.invoke(app, ["screen", "Hikvision"])
    assert result.exit_code == 3  # state: the store has no snapshot yet
    assert "lists update" in result.output


def test_eval_pairs_json(shared: Path) -> None:
    path = shared / "data" / "eval" / "names" / "nomenklatura_name_bench.csv"
    result = runner.invoke(app, ["eval", "pairs", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"n", "precision", "recall", "f1", "threshold"}
    assert data["n"] == 826 and data["f1"] >= 0.90
    table = runner.invoke(app, ["eval", "pairs", str(path), "--threshold", "0.9"])
    assert table.exit_code == 0 and "0.9" in table.stdout and "FP" in table.stdout


def test_eval_pairs_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\nx,y\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "pairs", str(path)])
    assert result.exit_code == 2
    assert "bad.csv:1: header lacks column(s) is_match, name1, name2" in result.output
