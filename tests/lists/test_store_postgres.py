"""The list store on a real PostgreSQL server (tests/lists/postgres.py), checked against SQLite.

Each test compares the PostgreSQL store with the SQLite store fed the same real files: same
snapshots, counts, party ids and content, problems, refusals and diffs. One xdist worker owns
the server (``--dist loadgroup``).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, make_url, select, text
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.lists import ListFormatError, ParsedFile, read_files
from computekyc.lists import store as store_mod
from computekyc.lists.store import DropRefused, ListStore, PartialFeedRefused
from computekyc.settings import Settings

from .postgres import PostgresServer
from .test_lists_hardening import concurrent_cli_loads
from .test_lists_store import _count, _ents

pytestmark = pytest.mark.xdist_group("postgres")
runner = CliRunner()


@pytest.fixture(scope="session")
def pg_mirror(postgres_url: str, mirror: list[ParsedFile]) -> str:
    """The session database holding the mirror as snapshot 1; its name (a template)."""
    store = ListStore.open(postgres_url)
    store.load_parsed(mirror)
    store.close()  # a template database must have no open connection
    return str(make_url(postgres_url).database)


@pytest.fixture()
def pg_store(postgres: PostgresServer, pg_mirror: str) -> Iterator[ListStore]:
    """A database of this test's own, copied from the loaded mirror (snapshot 1)."""
    store = ListStore.open(postgres.new_database(template=pg_mirror))
    yield store
    store.close()


def _table_counts(store: ListStore) -> dict[str, int]:
    return {table.name: _count(store, table) for table in store_mod.metadata.sorted_tables}


def _facts(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as JSON, without the clock times two loads never share, nor feed-version
    ids: a PostgreSQL sequence is not rolled back with a failed load, SQLite reuses the id."""
    feeds = {
        name: {k: v for k, v in feed.items() if k not in ("loaded_at", "version_id")}
        for name, feed in snapshot["feeds"].items()
    }
    return {**{k: v for k, v in snapshot.items() if k != "created_at"}, "feeds": feeds}


def _active_facts(store: ListStore) -> dict[str, Any]:
    info = store.active_snapshot()
    assert info is not None
    return _facts(info.to_dict())


def _party_rows(store: ListStore) -> list[tuple[str, str, str | None, int | None]]:
    return [(p.party_id, p.content_hash(), p.source_file, p.source_line) for p in store.parties()]


def _refused(store: ListStore, files: list[Path]) -> dict[str, tuple[int, int]]:
    with pytest.raises(DropRefused) as err:
        store.load_files(files)
    return err.value.drops


def test_mirror_on_postgres_equals_sqlite(pg_store: ListStore, mirror_store: ListStore) -> None:
    assert _active_facts(pg_store) == _active_facts(mirror_store)
    counts = pg_store.source_counts()
    assert counts == mirror_store.source_counts()
    assert (counts["SDN"], counts["EL"], counts["1260H"]) == (14965, 3409, 397)
    assert pg_store.problems() == mirror_store.problems()
    # Same party ids, content, provenance, and order (screening builds its index from it).
    assert _party_rows(pg_store) == _party_rows(mirror_store)
    assert _table_counts(pg_store) == _table_counts(mirror_store)


def test_reload_unchanged_is_a_no_op(
    pg_store: ListStore, lists_dir: Path, mirror: list[ParsedFile]
) -> None:
    before = _table_counts(pg_store)
    by_hash = pg_store.load_mirror(lists_dir)  # recognised by file hashes: nothing parsed
    by_parse = pg_store.load_parsed(mirror)  # parsed: fingerprints compared in the transaction
    for result in (by_hash, by_parse):
        assert not result.created and result.snapshot.id == 1 and not result.feeds_changed
    assert _table_counts(pg_store) == before


def test_failed_loads_change_nothing_forced_load_matches_sqlite(
    pg_store: ListStore,
    mirror_store: ListStore,
    archive_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before, tables = pg_store.active_snapshot(), _table_counts(pg_store)
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ListFormatError):
        pg_store.load_files([archive_dir / "dpl_2023-11-30.txt", junk])
    subset = [archive_dir / "csl_2023-11-30_subset.csv"]
    drops = _refused(pg_store, subset)
    assert drops == _refused(mirror_store, subset) and drops["EL"] == (3409, 919)
    # A failure after rows were written (inside the PostgreSQL transaction) rolls back.
    real = ListStore._feed_version

    def fail_after_write(self: ListStore, *args: Any) -> int:
        real(self, *args)
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(ListStore, "_feed_version", fail_after_write)
        with pytest.raises(RuntimeError, match="disk full"):
            pg_store.load_files([archive_dir / "dpl_2023-11-30.txt"])
    assert pg_store.active_snapshot() == before
    assert _table_counts(pg_store) == tables
    forced = [store.load_files(subset, force=True) for store in (pg_store, mirror_store)]
    assert all(r.created and r.snapshot.id == 2 and r.snapshot.forced for r in forced)
    assert _facts(forced[0].snapshot.to_dict()) == _facts(forced[1].snapshot.to_dict())
    assert pg_store.source_counts() == mirror_store.source_counts()
    assert pg_store.diff(1, 2).to_dict() == mirror_store.diff(1, 2).to_dict()


def test_sdn_diff_same_as_sqlite(
    postgres: PostgresServer, ck_home: Path, archive_dir: Path, lists_dir: Path
) -> None:
    old_file, new_file = archive_dir / "sdn_2021-08-18.csv", lists_dir / "ofac" / "sdn.csv"
    diffs, history = [], []
    for url in (postgres.new_database(), None):  # None: the SQLite store of the test home
        store = ListStore.open(url or Settings.from_env().sqlalchemy_url)
        old = store.load_files([old_file]).snapshot.id
        new = store.load_files([new_file]).snapshot.id
        diffs.append(store.diff(old, new))
        # The snapshot queries of lists/snapshots.py: every one, the one before, on a day.
        in_force = [store.snapshot_on(day) for day in (date(2021, 1, 1), date.today())]
        assert [(f[0].id, f[1]) for f in in_force if f] == [(old, False), (new, True)]
        history.append(([s.id for s in store.snapshots()], store.previous_snapshot_id(new)))
        store.close()
    assert history[0] == history[1] == ([1, 2], 1)
    on_pg, on_sqlite = diffs
    assert on_pg.to_dict() == on_sqlite.to_dict()
    before, after = _ents(old_file), _ents(new_file)
    assert {r.party_id for r in on_pg.added} == {f"SDN-{e}" for e in after.keys() - before.keys()}
    assert {r.party_id for r in on_pg.removed} == {f"SDN-{e}" for e in before.keys() - after.keys()}
    renamed = {e for e in before.keys() & after.keys() if before[e] != after[e]}
    assert {c.party_id for c in on_pg.changed if "names" in c.fields} == {
        f"SDN-{e}" for e in renamed
    }


def _waiting_for_load_lock(store: ListStore) -> bool:
    with store.engine.connect() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return bool(conn.execute(text(query)).scalar_one())


def test_concurrent_loads_are_serialised(
    pg_store: ListStore, archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two workers load different feeds at once. Without the store's lock both would build on
    # snapshot 1 and the later one would silently drop the feed the earlier one loaded.
    url = pg_store.engine.url.render_as_string(hide_password=False)
    first, second = archive_dir / "cn_countersanctions.csv", archive_dir / "dpl_2023-11-30.txt"
    written, done = threading.Event(), {first: threading.Event(), second: threading.Event()}
    errors: list[BaseException] = []
    real = ListStore._feed_version

    def hold_first(self: ListStore, *args: Any) -> int:
        version = real(self, *args)
        if args[1] == "cn-countersanctions":
            # Keep the first transaction open until the second load waits for it (or is done).
            written.set()
            deadline = time.monotonic() + 20
            while not done[second].is_set() and time.monotonic() < deadline:
                if _waiting_for_load_lock(pg_store):
                    break
                time.sleep(0.05)
        return version

    def load(path: Path) -> None:
        store = ListStore.open(url)
        try:
            store.load_files([path])
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()
            done[path].set()

    monkeypatch.setattr(ListStore, "_feed_version", hold_first)
    workers = [threading.Thread(target=load, args=(path,)) for path in (first, second)]
    workers[0].start()
    assert written.wait(30)
    workers[1].start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    last = pg_store.active_snapshot()
    assert last is not None and last.id == 3
    assert {"cn-countersanctions", "bis-dpl"} <= set(last.feeds)
    counts, base = pg_store.source_counts(), pg_store.source_counts(1)
    added = {code: n for f in read_files([first, second]) for code, n in f.source_rows.items()}
    assert counts["CN-CS"] == added["CN-CS"] and counts["DPL"] == base["DPL"] + added["DPL"]


def test_concurrent_cli_loads_into_an_empty_database(
    postgres: PostgresServer, ck_home: Path, lists_dir: Path, archive_dir: Path, tmp_path: Path
) -> None:
    # Real processes at once on a database with no schema yet, as on SQLite.
    concurrent_cli_loads(ck_home, lists_dir, archive_dir, tmp_path, postgres.new_database())


def test_partial_feed_and_alias_drop_refused_like_sqlite(
    postgres: PostgresServer, ck_home: Path, lists_dir: Path, tmp_path: Path
) -> None:
    cons = tmp_path / "cons"
    cons.mkdir()
    for path in (lists_dir / "ofac").glob("cons_*.csv"):
        shutil.copy(path, cons / path.name)
    stores = [
        ListStore.open(postgres.new_database()),
        ListStore.open(Settings.from_env().sqlalchemy_url),
    ]
    for store in stores:
        store.load_mirror(cons)
    lines = (cons / "cons_alt.csv").read_bytes().splitlines(keepends=True)
    (cons / "cons_alt.csv").write_bytes(b"".join(lines[::2]))
    drops = []
    for store in stores:
        with pytest.raises(DropRefused) as err:
            store.load_mirror(cons)
        drops.append(err.value.drops)
    assert drops[0] == drops[1] and any(k.endswith(" aliases") for k in drops[0])
    (cons / "cons_alt.csv").unlink()
    prim = (cons / "cons_prim.csv").read_bytes().splitlines(keepends=True)
    newer = tmp_path / "cons_prim.csv"
    newer.write_bytes(b"".join(prim[:50] + prim[51:]))
    for store in stores:
        with pytest.raises(PartialFeedRefused, match=r"cons_alt\.csv"):
            store.load_files([newer])
        assert store.active_snapshot() is not None and store.active_snapshot().id == 1
        store.close()


def test_cli_load_and_status_on_postgres_like_sqlite(
    postgres: PostgresServer, ck_home: Path, lists_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [
        str(lists_dir / "csl" / "consolidated.csv"),
        str(lists_dir / "un" / "consolidated.xml"),
    ]
    url = postgres.new_database()
    statuses = []
    for database in (url, None):  # None: the SQLite database of the test home
        if database:
            monkeypatch.setenv("COMPUTEKYC_DATABASE_URL", database)
        else:
            monkeypatch.delenv("COMPUTEKYC_DATABASE_URL")
        loaded = runner.invoke(app, ["lists", "load", *files])
        assert loaded.exit_code == 0 and "Snapshot 1: loaded csl, un" in loaded.output
        again = runner.invoke(app, ["lists", "load", *files])
        assert again.exit_code == 0 and "Unchanged" in again.output
        status = runner.invoke(app, ["lists", "status", "--json"])
        assert status.exit_code == 0, status.output
        statuses.append(json.loads(status.output))
    on_pg, on_sqlite = statuses
    assert _facts(on_pg["snapshot"]) == _facts(on_sqlite["snapshot"])
    assert on_pg["sources"] == on_sqlite["sources"] and on_pg["sources"]["EL"] == 3409
    store = ListStore.open(url)  # the PostgreSQL database really holds the snapshot
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store_mod.snapshots)).scalar() == 1
    assert store.source_counts() == on_pg["sources"]
    store.close()


def test_values_sqlite_accepts_fit_on_postgres(
    postgres: PostgresServer, ck_home: Path, archive_dir: Path, tmp_path: Path
) -> None:
    # SQLite never enforced VARCHAR widths, so file-derived values are TEXT: a long entity id
    # (300 characters, in a copy of a real FtM file) loads on PostgreSQL as on SQLite.
    source = archive_dir / "ftm" / "t1.ftm.json"
    first_id = json.loads(source.read_text(encoding="utf-8").splitlines()[0])["id"]
    long_id = first_id + "-" + "x" * 300
    copy = tmp_path / source.name
    copy.write_text(source.read_text(encoding="utf-8").replace(first_id, long_id), "utf-8")
    stores = [
        ListStore.open(postgres.new_database()),
        ListStore.open(Settings.from_env().sqlalchemy_url),
    ]
    for store in stores:
        store.load_files([copy])
    rows = [_party_rows(store) for store in stores]
    assert rows[0] == rows[1] and any(long_id in party_id for party_id, *_ in rows[0])
    for store in stores:
        store.close()
