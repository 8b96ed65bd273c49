"""Shared, session-scoped real data for the ownership tests: list parties, graph, rules, items."""

from __future__ import annotations

from pathlib import Path

import pytest

from computekyc.lists import parties_from, read_file, read_mirror
from computekyc.lists.model import Party
from computekyc.ownership import (
    ExactScreener,
    Item,
    OwnershipGraph,
    PartyIndex,
    RuleSet,
    load_rules,
    resolve_item,
)
from computekyc.ownership.sources import build_graph, parties_digest


@pytest.fixture(scope="session")
def zala_file(archive_dir: Path) -> Path:
    return archive_dir / "ftm" / "zala.ftm.json"


@pytest.fixture(scope="session")
def parties(lists_dir: Path, zala_file: Path) -> list[Party]:
    """The whole real mirror plus the ZALA/Kalashnikov FtM cluster."""
    return parties_from([*read_mirror(lists_dir), read_file(zala_file)])


@pytest.fixture(scope="session")
def party_index(parties: list[Party]) -> PartyIndex:
    return PartyIndex(parties)


@pytest.fixture(scope="session")
def exact(parties: list[Party], party_index: PartyIndex) -> ExactScreener:
    return ExactScreener(party_index, parties_digest(parties))


@pytest.fixture(scope="session")
def graph(parties: list[Party], shared: Path, zala_file: Path) -> OwnershipGraph:
    return build_graph(parties, shared / "data" / "ownership", [zala_file])


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="session")
def h100() -> Item:
    return resolve_item("H100")


@pytest.fixture(scope="session")
def l20() -> Item:
    return resolve_item("L20")


@pytest.fixture(scope="session")
def h20() -> Item:
    return resolve_item("H20")
