"""Shared, expensive setup for the screening tests: the whole real mirror, indexed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from computekyc.lists import Party, parties_from, read_mirror
from computekyc.screening import ScreeningIndex


@pytest.fixture(scope="session")
def mirror_parties(lists_dir: Path) -> list[Party]:
    return parties_from(read_mirror(lists_dir))


@pytest.fixture(scope="session")
def mirror_index(mirror_parties: list[Party]) -> ScreeningIndex:
    return ScreeningIndex.build(mirror_parties, snapshot_id="mirror")


@pytest.fixture(scope="session")
def names_dir(shared: Path) -> Path:
    return shared / "data" / "eval" / "names"
