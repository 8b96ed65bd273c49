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
        found = dict(
            connection.execute(
                select(screen_results.c.query_key, screen_results.c.list_snapshot_id)
            )
            .tuples()
            .all()
        )
    expected = {k: (3 if k in kept else s) for k, s in rows}
    assert found == expected
