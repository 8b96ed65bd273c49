"""The scan on PostgreSQL (a real throwaway server) gives the same alerts as on SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from computekyc.alerts import AlertStore
from computekyc.lists.store import ListStore
from computekyc.screening import ScreeningIndex, snapshot_cache_key
from computekyc.services import ensure_snapshot, run_scan
from computekyc.settings import Settings
from computekyc.workflow import open_database
from computekyc.workflow.db import engine_for

from .conftest import AS_OF, clone_home, load_test_module

_postgres = load_test_module("lists/postgres.py")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    yield from _postgres.running_server()


def _share_index(template: Path, target: Settings) -> None:
    """The template's index of the mirror, under the key of the same mirror in ``target``."""
    source = Settings(home=template)
    old = ListStore(engine_for(source)).active_snapshot()
    new = ListStore(engine_for(target)).active_snapshot()
    assert old is not None and new is not None and old.parties == new.parties
    path = ScreeningIndex.cache_path(
        template, snapshot_cache_key(old.id, old.created_at, source.sqlalchemy_url)
    )
    dest = ScreeningIndex.cache_path(
        target.ensure_home(), snapshot_cache_key(new.id, new.created_at, target.sqlalchemy_url)
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, dest)


def _alerts(settings: Settings) -> list[dict[str, Any]]:
    found = AlertStore(open_database(settings)).list(status=None)
    keep = ("type", "severity", "status", "subject", "summary", "evidence", "snapshot")
    rows = [{k: a.to_dict()[k] for k in keep} | {"key": a.key} for a in found]
    return sorted(rows, key=lambda r: r["key"])


def test_scan_on_postgres_gives_the_same_alerts_as_on_sqlite(
    postgres: Any,
    template_home: Path,
    tmp_path: Path,
    lists_dir: Path,
    geoip_dir: Path,
    provider: Path,
) -> None:
    on = date.fromisoformat(AS_OF)
    pg = Settings(
        home=tmp_path / "pg-home", database_url=postgres.new_database(), geoip_dir=geoip_dir
    )
    ensure_snapshot(pg, lists_dir)
    _share_index(template_home, pg)
    sqlite = clone_home(template_home, tmp_path / "sqlite-home", geoip_dir)

    on_sqlite = run_scan(sqlite, provider, lists=lists_dir, as_of=on)
    on_pg = run_scan(pg, provider, lists=lists_dir, as_of=on)
    assert on_pg.to_json() | {"seconds": 0} == on_sqlite.to_json() | {"seconds": 0}
    assert _alerts(pg) == _alerts(sqlite) and len(_alerts(pg)) > 20

    again = run_scan(pg, provider, lists=lists_dir, as_of=on)
    assert (again.sync.new, again.sync.updated, again.sync.resolved) == (0, 0, 0)
    assert again.counts.screened_full == 0
