"""Bad input and concurrent loads on real list files: clean errors, nothing lost, nothing doubled.

Each test builds its input from the real files in ../shared/data/lists and lists-archive (cut,
copied, re-encoded, concatenated) and checks the reader, the store and the CLI.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.exc import EXIT_INPUT, EXIT_STATE, InputError
from computekyc.lists import ListFormatError, ParsedFile, read_file, read_files
from computekyc.lists.formats.csl import fr_listing_date
from computekyc.lists.store import DropRefused, ListStore, PartialFeedRefused
from computekyc.settings import Settings

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def _feeds(store: ListStore) -> dict[str, int]:
    info = store.active_snapshot()
    return {} if info is None else {k: v.parties for k, v in info.feeds.items()}


def _cli(home: Path, *args: str, database: str | None = None) -> subprocess.Popen[str]:
    """The real command line in its own process, on this checkout's sources (on the home's
    SQLite database, or on ``database``)."""
    env = {**os.environ, "COMPUTEKYC_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
    env.pop("COMPUTEKYC_DATABASE_URL", None)
    if database is not None:
        env["COMPUTEKYC_DATABASE_URL"] = database
    return subprocess.Popen(
        [sys.executable, "-m", "computekyc", "lists", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class _WriteLock:
    """Another connection holding SQLite's write lock, as a long load in another process does."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


@pytest.fixture()
def small_store(ck_home: Path, lists_dir: Path, archive_dir: Path) -> Iterator[ListStore]:
    """A fresh home holding two small real feeds (FCC Covered List, BIS MIEU)."""
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    store.load_files([lists_dir / "opensanctions-sources" / "us_fcc_covered_list.csv"])
    store.load_files([archive_dir / "us_bis_mieu.csv"])
    yield store
    store.close()


# ---- concurrent loads ------------------------------------------------------------------------


def test_concurrent_loads_in_threads_keep_both_feeds(
    ck_home: Path, lists_dir: Path, archive_dir: Path
) -> None:
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    store.load_files([lists_dir / "opensanctions-sources" / "us_fcc_covered_list.csv"])
    dpl = read_files([archive_dir / "dpl_2023-11-30.txt"])
    mieu = read_files([archive_dir / "us_bis_mieu.csv"])
    lock = _WriteLock(ck_home / "computekyc.db")
    results: list[object] = []

    def load(parsed: list[ParsedFile]) -> None:
        own = ListStore.open(Settings.from_env().sqlalchemy_url)
        try:
            results.append(own.load_parsed(parsed).snapshot.id)
        except Exception as exc:  # collected: the assertion below names it
            results.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=load, args=(p,)) for p in (dpl, mieu)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # both loaders are now waiting for the lock (before reading the base)
    lock.release()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [2, 3], results  # type: ignore[type-var]
    assert set(_feeds(store)) == {"fcc-covered", "bis-dpl", "os:us-bis-mieu"}
    store.close()


def concurrent_cli_loads(
    home: Path, lists_dir: Path, archive_dir: Path, tmp_path: Path, database: str | None = None
) -> None:
    """Two `lists update` of the same folder and one `lists load` of another feed, at once,
    into a store with no schema yet: all succeed, nothing is lost, nothing is doubled."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(lists_dir / "opensanctions-sources" / "us_fcc_covered_list.csv", mirror)
    procs = [
        _cli(home, "update", "--from", str(mirror), database=database),
        _cli(home, "update", "--from", str(mirror), database=database),
        _cli(home, "load", str(archive_dir / "us_bis_mieu.csv"), database=database),
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out + err
        assert "Traceback" not in err and "error" not in err
    assert sum("already active" in out for out, _ in outputs[:2]) == 1
    store = ListStore.open(database or f"sqlite:///{home / 'computekyc.db'}")
    assert set(_feeds(store)) == {"fcc-covered", "os:us-bis-mieu"}
    assert len(store.snapshots()) == 2
    store.close()


def test_concurrent_cli_loads_into_an_empty_home(
    ck_home: Path, lists_dir: Path, archive_dir: Path, tmp_path: Path
) -> None:
    concurrent_cli_loads(ck_home, lists_dir, archive_dir, tmp_path)


# ---- partial OFAC feeds, alias drops ---------------------------------------------------------


def _ofac_copy(lists_dir: Path, target: Path, prefix: str) -> Path:
    target.mkdir()
    for path in (lists_dir / "ofac").glob(f"{prefix}*.csv"):
        shutil.copy(path, target / path.name)
    if prefix == "":
        for path in target.glob("cons_*.csv"):
            path.unlink()
    return target


def _without_line(source: Path, target: Path, index: int) -> Path:
    lines = source.read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(lines[:index] + lines[index + 1 :]))
    return target


def _sdn_slice(lists_dir: Path, target: Path, entities: int = 600) -> Path:
    """The real SDN feed cut to its first entries, each companion cut to their rows."""
    target.mkdir()
    source = lists_dir / "ofac"
    commented = {x.split(b",", 1)[0] for x in (source / "sdn_comments.csv").read_bytes().split()}
    lines = (source / "sdn.csv").read_bytes().splitlines(keepends=True)
    prim = [x for i, x in enumerate(lines) if i < entities or x.split(b",", 1)[0] in commented]
    (target / "sdn.csv").write_bytes(b"".join(prim))
    ents = {line.split(b",", 1)[0] for line in prim}
    for name in ("alt.csv", "add.csv", "sdn_comments.csv"):
        lines = (source / name).read_bytes().splitlines(keepends=True)
        (target / name).write_bytes(b"".join(x for x in lines if x.split(b",", 1)[0] in ents))
    return target


def test_sdn_alone_merges_its_companions(ck_home: Path, lists_dir: Path, tmp_path: Path) -> None:
    mirror = _sdn_slice(lists_dir, tmp_path / "ofac")
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    store.load_mirror(mirror)
    before = {p.party_id: p for p in store.parties(sources={"SDN"})}
    assert "AVIA IMPORT" in before["SDN-173"].all_names()
    # A newer SDN.CSV alone (one entry fewer): its aliases, addresses and remarks stay.
    new_sdn = _without_line(mirror / "sdn.csv", tmp_path / "sdn.csv", 100)
    result = store.load_files([new_sdn])
    assert result.created
    assert sorted(n.split(" from ")[0] for n in result.notes) == [
        "ofac-sdn: merged add.csv (ofac-add)",
        "ofac-sdn: merged alt.csv (ofac-alt)",
        "ofac-sdn: merged sdn_comments.csv (ofac-comments)",
    ]
    after = {p.party_id: p for p in store.parties(sources={"SDN"})}
    assert len(after) == len(before) - 1
    assert "AVIA IMPORT" in after["SDN-173"].all_names()
    (gone,) = before.keys() - after.keys()
    for party_id, party in after.items():  # every other entry exactly as it was
        assert party.content() == before[party_id].content()
    assert before[gone].aliases  # the entry removed had aliases: the counts differ by those
    store.close()


def test_partial_cons_feed_refused_when_companions_are_gone(
    ck_home: Path, lists_dir: Path, tmp_path: Path
) -> None:
    cons = _ofac_copy(lists_dir, tmp_path / "cons", "cons_")
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    store.load_mirror(cons)
    (cons / "cons_alt.csv").unlink()
    snapshot = store.active_snapshot()
    newer = _without_line(cons / "cons_prim.csv", tmp_path / "cons_prim.csv", 50)
    with pytest.raises(PartialFeedRefused, match=r"lack cons_alt\.csv \(ofac-alt"):
        store.load_files([newer, cons / "cons_add.csv"])
    assert store.active_snapshot() == snapshot
    # Pre-parsed files cannot be merged: refused as well (the check runs under the lock).
    with pytest.raises(PartialFeedRefused, match=r"cons_alt\.csv"):
        store.load_parsed(read_files([newer]))
    assert store.active_snapshot() == snapshot
    forced = store.load_files([newer, cons / "cons_add.csv"], force=True)
    assert forced.created and any("loaded without cons_alt.csv" in n for n in forced.notes)
    assert any("merged cons_comments.csv" in n for n in forced.notes)
    store.close()


def test_alias_drop_is_refused(ck_home: Path, lists_dir: Path, tmp_path: Path) -> None:
    cons = _ofac_copy(lists_dir, tmp_path / "cons", "cons_")
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    store.load_mirror(cons)
    # Same parties, half of the alias rows: the party count alone would not notice.
    lines = (cons / "cons_alt.csv").read_bytes().splitlines(keepends=True)
    (cons / "cons_alt.csv").write_bytes(b"".join(lines[::2]))
    snapshot = store.active_snapshot()
    with pytest.raises(DropRefused) as err:
        store.load_mirror(cons)
    assert (
        set(err.value.drops) == {k for k in err.value.drops if k.endswith(" aliases")}
        and err.value.drops
    )
    assert "aliases" in str(err.value)
    assert store.active_snapshot() == snapshot
    assert store.load_mirror(cons, force=True).created
    store.close()


# ---- empty lists ----------------------------------------------------------------------------


def _header_only(source: Path, target: Path, lines: int = 1) -> Path:
    target.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:lines]))
    return target


@pytest.mark.parametrize(
    "relative",
    [
        "csl/consolidated.csv",
        "opensanctions-sources/us_dod_1260h.csv",
        "opensanctions-sources/us_fcc_covered_list.csv",
    ],
)
def test_header_only_list_is_refused(
    ck_home: Path, lists_dir: Path, tmp_path: Path, relative: str
) -> None:
    path = _header_only(lists_dir / relative, tmp_path / Path(relative).name)
    with pytest.raises(ListFormatError, match="no list entries"):
        read_file(path)
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    with pytest.raises(ListFormatError, match="no list entries"):
        store.load_files([path])
    assert store.active_snapshot() is None
    store.close()


def test_un_xml_without_entries_and_empty_dpl_are_refused(
    small_store: ListStore, lists_dir: Path, archive_dir: Path, tmp_path: Path
) -> None:
    head = (
        (lists_dir / "un" / "consolidated.xml")
        .read_text(encoding="utf-8")
        .split("<INDIVIDUALS>")[0]
    )
    empty = tmp_path / "un.xml"
    empty.write_text(head + "<INDIVIDUALS/><ENTITIES/></CONSOLIDATED_LIST>\n", encoding="utf-8")
    dpl = _header_only(archive_dir / "dpl_2023-11-30.txt", tmp_path / "dpl.txt")
    before = small_store.active_snapshot()
    for path in (empty, dpl):
        with pytest.raises(ListFormatError, match=r"0 parties"):
            small_store.load_files([path], force=True)  # not even forced
    assert small_store.active_snapshot() == before


# ---- FollowTheMoney field types --------------------------------------------------------------


def test_ftm_fields_of_the_wrong_type(archive_dir: Path, tmp_path: Path) -> None:
    lines = (archive_dir / "ftm" / "zala.ftm.json").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:40]]
    person = next(r for r in records if r["schema"] == "Person")
    person.pop("caption", None)
    person["properties"]["name"] = "OSETROVA Maria Aleksandrovna"  # a string, not a list
    person["properties"]["alias"] = ["Maria Osetrova", 7, {"x": 1}]
    person["properties"]["country"] = 643
    odd = dict(records[1], id="odd-1", properties=["not", "an", "object"])
    bad_id = dict(records[2], id=12)
    path = tmp_path / "mixed.ftm.json"
    path.write_text(
        "\n".join(json.dumps(r) for r in [person, odd, bad_id, *records[3:]]) + "\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    party = next(p for p in parsed.parties if p.party_id == f"FTM-{person['id']}")
    assert party.name == "OSETROVA Maria Aleksandrovna"
    assert "Maria Osetrova" in [a.name for a in party.aliases]
    assert all(len(a.name) > 1 for p in parsed.parties for a in p.aliases)
    fields = {(p.field, p.severity) for p in parsed.problems}
    assert ("properties.alias", "warning") in fields
    assert ("properties.country", "warning") in fields
    assert ("properties", "warning") in fields
    assert ("id", "error") in fields


# ---- the same file twice ---------------------------------------------------------------------


def test_same_file_twice_is_read_once(ck_home: Path, archive_dir: Path, tmp_path: Path) -> None:
    dpl = archive_dir / "dpl_2023-11-30.txt"
    copy = tmp_path / "copy-of-dpl.txt"
    shutil.copy(dpl, copy)
    alone = read_file(dpl)
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    result = store.load_files([dpl, dpl, copy])
    assert result.snapshot.parties == len(alone.parties) == 665
    assert store.source_counts() == {"DPL": 665}
    assert result.snapshot.feeds["bis-dpl"].rows == alone.rows
    assert result.notes == [
        f"{dpl}: same content as dpl_2023-11-30.txt, read once",
        f"{copy}: same content as dpl_2023-11-30.txt, read once",
    ]
    cli = runner.invoke(app, ["lists", "load", str(dpl), str(copy)])
    assert cli.exit_code == 0 and "read once" in cli.output
    store.close()


# ---- unreadable input ------------------------------------------------------------------------


def _csl_rows(lists_dir: Path, count: int) -> list[bytes]:
    return (lists_dir / "csl" / "consolidated.csv").read_bytes().splitlines(keepends=True)[:count]


def test_bad_files_give_one_line_errors(
    small_store: ListStore, lists_dir: Path, archive_dir: Path, tmp_path: Path
) -> None:
    rows = _csl_rows(lists_dir, 400)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"".join(rows[:300]).replace(b"Kabul", "Kábul".encode("latin-1"), 1))
    huge = tmp_path / "huge.csv"
    cells = next(csv.reader([rows[1].decode()]))
    cells[20] = "x" * 140_000
    with open(huge, "w", encoding="utf-8", newline="") as handle:
        handle.write(rows[0].decode())
        csv.writer(handle).writerow(cells)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 20)
    ftm_line = (archive_dir / "ftm" / "zala.ftm.json").read_text(encoding="utf-8").splitlines()[0]
    deep = tmp_path / "deep.ftm.json"
    deep.write_text("[" * 200_000 + "\n" + ftm_line + "\n", encoding="utf-8")
    expected = {
        latin: (r"latin\.csv:\d+: not UTF-8 text \(byte 0xe1", EXIT_INPUT),
        huge: (r"huge\.csv:2: unreadable CSV record \(field larger than field limit", EXIT_INPUT),
        garbage: (r"garbage\.bin:1: binary data", EXIT_INPUT),
        deep: (r"deep\.ftm\.json: matches no known list layout", EXIT_INPUT),
        lists_dir / "csl": (r"is a folder.*lists update --from", EXIT_INPUT),
        tmp_path / "missing.csv": (r"missing\.csv: no such file", EXIT_INPUT),
    }
    before = small_store.active_snapshot()
    for path, (message, code) in expected.items():
        with pytest.raises(InputError, match=message):
            small_store.load_files([path])
        result = runner.invoke(app, ["lists", "load", str(path)])
        assert result.exit_code == code, (path, result.output)
        lines = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and re.search(message, lines[0]), result.output
        assert "Traceback" not in result.output
    assert small_store.active_snapshot() == before


def test_nested_json_record_is_a_row_problem(archive_dir: Path, tmp_path: Path) -> None:
    lines = (archive_dir / "ftm" / "zala.ftm.json").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "nested.ftm.json"
    path.write_text("\n".join([*lines[:20], "[" * 200_000 + "]" * 200_000, *lines[20:40]]) + "\n")
    parsed = read_file(path)
    assert [(p.line, p.message) for p in parsed.problems if p.severity == "error"] == [
        (21, "not a FollowTheMoney entity: JSON nested too deeply")
    ]


def test_truncated_file_is_refused_unless_forced(
    ck_home: Path, lists_dir: Path, tmp_path: Path
) -> None:
    rows = _csl_rows(lists_dir, 1200)
    whole = tmp_path / "whole.csv"
    whole.write_bytes(b"".join(rows))
    cut = tmp_path / "consolidated.csv"
    cut.write_bytes(b"".join(rows)[:-40])  # an interrupted download: the last row cut short
    parsed = read_file(cut)  # the reader still yields the complete records
    assert parsed.truncated_at is not None
    assert len(parsed.parties) == len(read_file(whole).parties) - 1
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    with pytest.raises(ListFormatError, match="looks truncated") as err:
        store.load_files([cut])
    assert err.value.line == parsed.truncated_at
    assert store.active_snapshot() is None
    assert store.load_files([cut], force=True).created
    # The CONS primary cut in its last record: the same.
    prim = (lists_dir / "ofac" / "cons_prim.csv").read_bytes()
    cut_prim = tmp_path / "cons_prim.csv"
    cut_prim.write_bytes(prim[: prim.rindex(b"\n", 0, len(prim) - 10) + 30])
    assert read_files([cut_prim])[0].truncated_at is not None
    store.close()


# ---- square brackets in output ---------------------------------------------------------------


def test_square_brackets_are_printed_as_text(
    ck_home: Path, archive_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "[red]lists["  # with the file name below: "…[/b]dpl[bold].txt"
    folder.mkdir()
    path = folder / "b]dpl[bold].txt"
    # The real DPL plus one malformed row: its problem line names the path, "[/b]" and all
    # (Rich read it as a closing tag and crashed after the snapshot was saved).
    path.write_bytes((archive_dir / "dpl_2023-11-30.txt").read_bytes() + b"broken\trow\n")
    loaded = runner.invoke(app, ["lists", "load", str(path)])
    assert loaded.exit_code == 0, loaded.output
    assert "b]dpl[bold].txt" in loaded.output
    assert f"skipped {path}:667: expected 12 fields, found 2" in loaded.output.replace("\n", "")
    assert runner.invoke(app, ["lists", "status"]).output.count("dpl[bold].txt") == 1
    bad = folder / "x] bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = runner.invoke(app, ["lists", "load", str(bad)])
    assert refused.exit_code == EXIT_INPUT and f"error: {bad}: matches no known" in refused.output
    problems = runner.invoke(app, ["lists", "problems", "--severity", "[/all]"])
    assert problems.exit_code == EXIT_INPUT and "--severity '[/all]': use one of" in problems.output
    notes = runner.invoke(app, ["lists", "problems", "--severity", "all"])
    assert notes.exit_code == 0 and "problems (severity: all)" in notes.output
    drop = runner.invoke(app, ["lists", "diff"])
    assert drop.exit_code == EXIT_STATE and "no earlier snapshot" in drop.output


# ---- Entity List listing dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("notice", "date"),
    [
        ("84 FR 54004, 10/9/19. 85 FR 34505, 6/5/20. 85 FR 44161, 7/22/20", "2019-10-09"),
        ("85 FR 83420, 12/22/2020", "2020-12-22"),
        ("88 FR 38741, 06/12/23. 89 FR 14405, 2/27/24", "2023-06-12"),
        ("77 FR 61249, 10/9/12, 78 FR 75463, 12/12/13", "2012-10-09"),
        ("73 FR 54508 9/22/08. 73 FR 74001 12/5/08. 74 FR 8184", "2008-09-22"),
        ("81 FR 61601 preview citation details, 9/7/16", "2016-09-07"),
        ("62 FR 35334, 6/30/97 66 FR 24267, 5/14/01", "1997-06-30"),
        ("Vol. 79, No. 184, 09/23/14, Federal Register", "2014-09-23"),
        ("86 FR 67319", None),
        ("74 FR 8184. 75 FR 1701, 1/13/10", None),  # the undated 2009 citation may be earlier
        ("", None),
    ],
)
def test_fr_listing_date(notice: str, date: str | None) -> None:
    found, reason = fr_listing_date(notice)
    assert found == date
    assert (reason is None) == (date is not None)


def test_entity_list_dates_from_federal_register(lists_dir: Path) -> None:
    parsed = read_file(lists_dir / "csl" / "consolidated.csv")
    el = [p for p in parsed.parties if p.source == "EL"]
    hikvision = [p for p in el if "Hikvision" in p.name]
    assert [p.listed_on for p in hikvision] == ["2019-10-09"]
    notes = {
        p.line
        for p in parsed.problems
        if p.field == "federal_register_notice" and "listing date unknown" in p.message
    }
    for party in el:
        assert (party.listed_on is None) == party.listing_date_unknown
        if party.listing_date_unknown:
            assert party.source_line in notes
            continue
        # Independent reading: every m/d/y date in the citations, the earliest.
        dates = [
            f"{2000 + int(y) if int(y) < 70 else 1900 + int(y) if len(y) == 2 else int(y)}"
            f"-{int(m):02d}-{int(d):02d}"
            for m, d, y in re.findall(r"(\d+)/(\d+)/(\d+)", "; ".join(party.federal_register))
        ]
        assert party.listed_on == min(dates)
    unknown = [p for p in el if p.listing_date_unknown]
    assert 0 < len(unknown) <= 5
