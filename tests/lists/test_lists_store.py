"""The snapshot store on the real mirror: idempotence, atomicity, drop guard, dedup, diff."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from computekyc.lists import ListFormatError, Party, read_mirror
from computekyc.lists import store as store_mod
from computekyc.lists.store import DropRefused, ListStore
from computekyc.settings import Settings


def _count(store: ListStore, table: Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_mirror_snapshot_counts(mirror_store: ListStore, lists_dir: Path) -> None:
    info = mirror_store.active_snapshot()
    assert info is not None and info.id == 1
    assert set(info.feeds) == {"csl", "ofac-sdn", "ofac-cons", "un", "dod-1260h", "fcc-covered"}
    assert info.feeds["csl"].source_rows["EL"] == 3409
    sdn_files = {f.name: f for f in info.feeds["ofac-sdn"].files}
    assert set(sdn_files) == {"sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"}
    assert sdn_files["sdn.csv"].rows == 14965 and len(sdn_files["sdn.csv"].sha256) == 64
    counts = mirror_store.source_counts()
    assert (counts["EL"], counts["SDN"], counts["CMIC"], counts["MEU"]) == (3409, 14965, 68, 70)
    assert (counts["DPL"], counts["ISN"], counts["DTC"], counts["UVL"]) == (564, 528, 787, 186)
    assert counts["1260H"] == 397 and counts["FCC"] == 12
    assert counts["UN"] == (lists_dir / "un" / "consolidated.xml").read_text().count(
        "<REFERENCE_NUMBER>"
    )
    assert sum(counts.values()) == info.parties
    orphans = [p for p in mirror_store.problems() if p.message.startswith("orphan row")]
    assert len(orphans) == 2460 + 4893 + 6


def test_parties_round_trip(mirror_store: ListStore, by_id: dict[str, Party]) -> None:
    stored = mirror_store.parties(sources={"CMIC", "EL"})
    assert len(stored) == 68 + 3409
    for party in stored:
        original = by_id[party.party_id]
        assert party.content() == original.content()
        assert party.source_file == original.source_file
        assert party.source_line == original.source_line


def test_reload_is_idempotent(mirror_store: ListStore, lists_dir: Path) -> None:
    blobs = _count(mirror_store, store_mod.blobs)
    result = mirror_store.load_mirror(lists_dir)
    assert not result.created and result.snapshot.id == 1 and not result.feeds_changed
    assert len(mirror_store.snapshots()) == 1
    assert _count(mirror_store, store_mod.blobs) == blobs


def test_failed_load_changes_nothing(
    mirror_store: ListStore, archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = mirror_store.active_snapshot()
    versions = _count(mirror_store, store_mod.feed_versions)
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ListFormatError):
        mirror_store.load_files([archive_dir / "dpl_2023-11-30.txt", junk])
    # A failure in the middle of writing (after a feed version was inserted) rolls back too.
    real = ListStore._feed_version

    def fail_after_write(self: ListStore, *args: Any) -> int:
        real(self, *args)
        raise RuntimeError("disk full")

    monkeypatch.setattr(ListStore, "_feed_version", fail_after_write)
    with pytest.raises(RuntimeError, match="disk full"):
        mirror_store.load_files([archive_dir / "dpl_2023-11-30.txt"])
    assert mirror_store.active_snapshot() == before
    assert _count(mirror_store, store_mod.feed_versions) == versions


def test_drop_over_20_percent_refused_unless_forced(
    mirror_store: ListStore, archive_dir: Path, lists_dir: Path
) -> None:
    subset = archive_dir / "csl_2023-11-30_subset.csv"
    with pytest.raises(DropRefused) as err:
        mirror_store.load_files([subset])
    assert err.value.drops["EL"] == (3409, 919)
    assert "DPL" not in err.value.drops  # 564 → 577 grows
    active = mirror_store.active_snapshot()
    assert active is not None and active.id == 1
    forced = mirror_store.load_files([subset], force=True)
    assert forced.created and forced.snapshot.id == 2 and forced.snapshot.forced
    assert forced.feeds_changed == ["csl"]
    counts = mirror_store.source_counts()
    assert counts["EL"] == 919 and counts["SDN"] == 14965 + 1737  # OFAC feed carried over
    assert mirror_store.source_counts(1)["EL"] == 3409
    # Going back to the 2026 CSL drops the OFAC rows the 2023 CSL carried: refused as well.
    with pytest.raises(DropRefused) as back_err:
        mirror_store.load_files([lists_dir / "csl" / "consolidated.csv"])
    assert back_err.value.drops["SDN"] == (1737, 0)
    # Forced back, the mirror's CSL reuses its stored feed version: no new party content.
    blobs, versions = (
        _count(mirror_store, store_mod.blobs),
        _count(mirror_store, store_mod.feed_versions),
    )
    back = mirror_store.load_files([lists_dir / "csl" / "consolidated.csv"], force=True)
    assert back.created and back.snapshot.id == 3
    assert back.snapshot.feeds["csl"].version_id == mirror_store.snapshot(1).feeds["csl"].version_id
    assert (
        _count(mirror_store, store_mod.blobs),
        _count(mirror_store, store_mod.feed_versions),
    ) == (
        blobs,
        versions,
    )


def _ents(path: Path) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {r[0]: r[1] for r in csv.reader(handle) if len(r) == 12}


def test_sdn_diff_2021_to_2024(ck_home: Path, archive_dir: Path, lists_dir: Path) -> None:
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    old = store.load_files([archive_dir / "sdn_2021-08-18.csv"]).snapshot.id
    new = store.load_files([lists_dir / "ofac" / "sdn.csv"]).snapshot.id
    diff = store.diff(old, new)
    before, after = _ents(archive_dir / "sdn_2021-08-18.csv"), _ents(lists_dir / "ofac" / "sdn.csv")
    assert {r.party_id for r in diff.added} == {f"SDN-{e}" for e in after.keys() - before.keys()}
    assert {r.party_id for r in diff.removed} == {f"SDN-{e}" for e in before.keys() - after.keys()}
    assert (len(diff.added), len(diff.removed)) == (6761, 879)
    renamed = {e for e in before.keys() & after.keys() if before[e] != after[e]}
    name_changes = {c.party_id for c in diff.changed if "names" in c.fields}
    assert name_changes == {f"SDN-{e}" for e in renamed}
    example = next(c for c in diff.changed if "names" in c.fields)
    ent = example.party_id.removeprefix("SDN-")
    assert example.fields["names"].added == [after[ent]]
    assert example.fields["names"].removed == [before[ent]]
    assert diff.by_source()["SDN"]["added"] == 6761
    store.close()


def test_read_mirror_once_equals_store(mirror_store: ListStore, lists_dir: Path) -> None:
    # The store keeps exactly the parties the pure reader yields (same ids, same order of feeds).
    ids = {p.party_id for f in read_mirror(lists_dir / "un") for p in f.parties}
    assert ids == {p.party_id for p in mirror_store.parties(sources={"UN"})}


def test_schema_is_portable_sql() -> None:
    for table in store_mod.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
        assert "AUTOINCREMENT" not in ddl.upper()


def test_status_read_by_sqlite3_equals_the_store(mirror_store: ListStore, ck_home: Path) -> None:
    # `lists status` reads SQLite through the standard library, read-only: the same answer.
    from computekyc.lists.snapshots import ListStatus, read_status

    status = read_status(f"sqlite:///{ck_home / 'computekyc.db'}")
    assert status == ListStatus(mirror_store.active_snapshot(), mirror_store.source_counts())
    assert status.snapshot is not None and status.sources["SDN"] == 14965
    assert {f.name for f in status.snapshot.feeds["ofac-sdn"].files} >= {"sdn.csv", "alt.csv"}


def test_status_read_creates_nothing_and_names_an_unopenable_database(tmp_path: Path) -> None:
    from computekyc.exc import StateError
    from computekyc.lists.snapshots import ListStatus, read_status

    assert read_status(f"sqlite:///{tmp_path / 'new.db'}") == ListStatus(None, {})
    assert not (tmp_path / "new.db").exists()
    with pytest.raises(StateError, match=r"cannot open .*missing/x\.db"):
        read_status(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")


def test_snapshot_in_force_on_a_day(ck_home: Path, archive_dir: Path, lists_dir: Path) -> None:
    # `determine --as-of DAY`: the newest snapshot loaded by the end of DAY (UTC), else the
    # oldest, saying so; the same SQL answers through SQLAlchemy and the standard library.
    import sqlite3
    from datetime import date, timedelta

    from computekyc.lists.snapshots import snapshot_on

    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    old = store.load_files([archive_dir / "sdn_2021-08-18.csv"]).snapshot.id
    new = store.load_files([lists_dir / "ofac" / "sdn.csv"]).snapshot.id
    with store.engine.begin() as conn:
        conn.execute(
            store_mod.snapshots.update()
            .where(store_mod.snapshots.c.id == old)
            .values(created_at="2021-08-18T23:59:59+00:00")
        )
    today = date.today()
    expected = {
        date(2021, 8, 17): (old, False),
        date(2021, 8, 18): (old, True),
        today - timedelta(days=1): (old, True),
        today: (new, True),
    }
    database = sqlite3.connect(ck_home / "computekyc.db")
    try:
        for day, (snapshot_id, in_force) in expected.items():
            found = store.snapshot_on(day)
            assert found is not None and (found[0].id, found[1]) == (snapshot_id, in_force), day
            assert found[0] == store.snapshot(snapshot_id)
            by_stdlib = snapshot_on(lambda sql, p: database.execute(sql, dict(p)).fetchall(), day)
            assert by_stdlib == found
    finally:
        database.close()
        store.close()
    assert ListStore.open(f"sqlite:///{ck_home / 'empty.db'}").snapshot_on(today) is None


def _load_outcome(result: Any) -> dict[str, Any]:
    files = [
        (f.name, f.format, f.feed, f.sha256, f.rows, f.bad_rows, f.problems) for f in result.files
    ]
    snapshot = result.snapshot.to_dict()
    snapshot.pop("created_at")
    for feed in snapshot["feeds"].values():
        feed.pop("loaded_at")
    return {
        "snapshot": snapshot,
        "created": result.created,
        "changed": result.feeds_changed,
        "unchanged": result.feeds_unchanged,
        "files": files,
        "notes": result.notes,
    }


@pytest.mark.parametrize("edited", ["ofac/sdn.csv", "csl/consolidated.csv"])
def test_unchanged_feeds_reused_make_the_same_snapshot(
    loaded_db: Path, lists_dir: Path, tmp_path: Path, edited: str
) -> None:
    """A feed whose files are the active ones is not parsed again; the snapshot, its parties
    and what the load reports are those of parsing every file (from another folder, with a
    copy given twice)."""
    folder = tmp_path / "mirror"
    shutil.copytree(lists_dir, folder)
    target = folder / edited
    lines = target.read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(lines[:-30]))  # the list's last entries removed
    shutil.copy(folder / "un" / "consolidated.xml", folder / "un" / "copy.xml")
    feed = "ofac-sdn" if edited.startswith("ofac") else "csl"
    # The OFAC feeds are read together (a companion goes to the primary it matches best).
    read_again = {"ofac-sdn", "ofac-cons"} if feed == "ofac-sdn" else {"csl"}
    outcomes = []
    for reuse in (False, True):
        db = tmp_path / f"reuse-{reuse}.db"
        shutil.copy(loaded_db, db)
        store = ListStore.open(f"sqlite:///{db}")
        result = store.load_mirror(folder, reuse_unchanged=reuse)
        assert result.created and result.feeds_changed == [feed]
        with_parties = {f.feed for f in result.files if f.parties}
        assert with_parties == (read_again if reuse else set(result.snapshot.feeds))
        with store.engine.connect() as conn:
            rows = sorted(conn.execute(select(store_mod.feed_parties)).all())
        parties = [(p.content(), p.source_file, p.source_line) for p in store.parties()]
        outcomes.append((_load_outcome(result), rows, parties))
        store.close()
    assert outcomes[1] == outcomes[0]
