"""Shared, expensive readings of the real mirror: parsed once, loaded once, per session."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from computekyc.lists import ParsedFile, Party, read_mirror
from computekyc.lists.store import ListStore
from computekyc.settings import Settings

from .postgres import PostgresServer, running_server


@pytest.fixture(scope="session")
def mirror(lists_dir: Path) -> list[ParsedFile]:
    """The whole mirror parsed once (about 2 s)."""
    return read_mirror(lists_dir)


@pytest.fixture(scope="session")
def by_file(mirror: list[ParsedFile]) -> dict[str, ParsedFile]:
    return {f"{Path(f.path).parent.name}/{f.name}": f for f in mirror}


@pytest.fixture(scope="session")
def by_id(mirror: list[ParsedFile]) -> dict[str, Party]:
    return {p.party_id: p for f in mirror for p in f.parties}


@pytest.fixture(scope="session")
def loaded_db(mirror: list[ParsedFile], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store holding the mirror as snapshot 1, made once (from the one parse)."""
    path = tmp_path_factory.mktemp("mirror-db") / "computekyc.db"
    store = ListStore.open(f"sqlite:///{path}")
    store.load_parsed(mirror)
    store.close()
    return path


@pytest.fixture()
def mirror_store(ck_home: Path, loaded_db: Path) -> Iterator[ListStore]:
    """The default store of a fresh home, already holding the mirror (snapshot 1)."""
    shutil.copy(loaded_db, ck_home / "computekyc.db")
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    yield store
    store.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real throwaway PostgreSQL server for the session (tests/lists/postgres.py); tests that
    use it carry ``xdist_group("postgres")`` so one xdist worker owns it."""
    yield from running_server()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """SQLAlchemy URL of the session's database on the real server (postgresql+psycopg)."""
    return postgres.create_database("computekyc")


def _raw_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [row for row in csv.reader(handle) if len(row) > 1]


@pytest.fixture(scope="session")
def raw_rows() -> Callable[[Path], list[list[str]]]:
    """Independent reading with the csv module, for cross-checks (Ctrl-Z end line dropped)."""
    return _raw_rows
