"""Stored screening results that stand on a new list snapshot move to it, and only they: rows
of names not in the scan keep citing the snapshot they were computed on."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, insert, select

from computekyc.book.schema import screen_results
from computekyc.services.screening import _restamp


@pytest.mark.parametrize("kept", [{"a", "b", "c"}, {"a"}, set()])
def test_only_the_kept_rows_move(kept: set[str]) -> None:
    engine = create_engine("sqlite://")
    screen_results.metadata.create_all(engine, tables=[screen_results])
    rows = [("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 2), ("f", 3)]
    with engine.begin() as connection:
        connection.execute(
            insert(screen_results),
            [
                {"query_key": k, "list_snapshot_id": s, "threshold": 0.74, "hits": "[]"}
                for k, s in rows
            ],
        )
        _restamp(connection, 1, 3, kept)
        found = {
            str(key): snapshot
            for key, snapshot in connection.execute(
                select(screen_results.c.query_key, screen_results.c.list_snapshot_id)
            )
        }
    expected = {k: (3 if k in kept else s) for k, s in rows}
    assert found == expected


def test_stored_rows_read_alike_by_key_and_whole_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from computekyc.services import screening

    engine = create_engine("sqlite://")
    screen_results.metadata.create_all(engine, tables=[screen_results])
    hits = '[{"party_id":"SDN-1","score":0.9}]'
    with engine.begin() as connection:
        connection.execute(
            insert(screen_results),
            [
                {"query_key": f"k{i}", "list_snapshot_id": 1, "threshold": 0.74, "hits": "[]"}
                for i in range(1200)
            ]
            + [{"query_key": "x", "list_snapshot_id": 2, "threshold": 0.7, "hits": hits}],
        )
        wanted = [f"k{i}" for i in range(0, 1200, 2)] + ["x", "absent"]
        by_key = screening._stored(connection, wanted)
        monkeypatch.setattr(screening, "_READ_ALL", 10)
        whole = screening._stored(connection, wanted)
    assert by_key == whole
    assert len(by_key) == 601 and by_key["x"] == (2, 0.7, [{"party_id": "SDN-1", "score": 0.9}])


def test_stored_rows_read_alike_as_keys_per_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows without hits read as one string of keys per snapshot and threshold they cite
    give each wanted key the snapshot, threshold and hits the rows say."""
    from computekyc.services import screening

    engine = create_engine("sqlite://")
    screen_results.metadata.create_all(engine, tables=[screen_results])
    hits = '[{"party_id":"SDN-1","score":0.9}]'
    rows = [(f"k{i}", 1 + i % 3, 0.74 if i % 5 else 0.7, "[]") for i in range(3000)]
    rows += [("x", 2, 0.74, hits), ("y", 1, 0.74, hits)]
    with engine.begin() as connection:
        connection.execute(
            insert(screen_results),
            [
                {"query_key": k, "list_snapshot_id": s, "threshold": t, "hits": h}
                for k, s, t, h in rows
            ],
        )
        wanted = dict.fromkeys([f"k{i}" for i in range(0, 3000, 2)] + ["x", "absent"])
        by_key = screening._stored(connection, sorted(wanted))
        monkeypatch.setattr(screening, "_READ_ALL", 10)
        bulk = screening._stored_bulk(connection, wanted)
    assert len(bulk.empty) == 6 and "y" not in bulk.rows
    read = dict(bulk.rows)
    for (snapshot, threshold), keys in bulk.empty.items():
        read.update({k: (snapshot, threshold, []) for k in keys})
    assert read == by_key and len(read) == 1501
