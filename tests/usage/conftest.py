"""Fixtures for the usage tests: hand-written files, a generated provider set, one Spark session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from computekyc.usage import Generated, UsageStore, generate, ingest_file

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def usage_data() -> Path:
    """The hand-written sample files (answers computed by hand in the tests)."""
    return DATA


def ingest_into(root: Path, *paths: Path) -> UsageStore:
    store = UsageStore(root)
    for path in paths:
        ingest_file(path, "auto", store)
    return store


IngestInto = Callable[..., UsageStore]


@pytest.fixture(scope="session")
def ingest_many() -> IngestInto:
    """ingest_many(root, *paths) -> a store holding those files."""
    return ingest_into


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Generated:
    """A small generated provider set (seed 7) with planted runs."""
    return generate(tmp_path_factory.mktemp("generated"), seed=7, scale=0.5, shared=shared)


@pytest.fixture(scope="session")
def generated_store(tmp_path_factory: pytest.TempPathFactory, generated: Generated) -> UsageStore:
    return ingest_into(tmp_path_factory.mktemp("gen-home") / "usage", *generated.files.values())


@pytest.fixture(scope="session")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> UsageStore:
    """Every hand-written file ingested into one store."""
    files = sorted(p for p in DATA.iterdir() if p.is_file())
    return ingest_into(tmp_path_factory.mktemp("hand-home") / "usage", *files)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole run (startup is the expensive part)."""
    from computekyc.spark import spark_session

    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
