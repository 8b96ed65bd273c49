"""Fixtures for the linking tests: the real IP→country database and generated populations."""

from __future__ import annotations

from pathlib import Path

import pytest

from computekyc.linking import GeoIP, open_geoip
from computekyc.linking.generate import generate
from computekyc.linking.records import AccountRecord, parse_record


@pytest.fixture(scope="session")
def geoip_dir(shared: Path) -> Path:
    return shared / "data" / "ip"


@pytest.fixture(scope="session")
def geoip(geoip_dir: Path) -> GeoIP:
    return open_geoip(geoip_dir)


def population(n: int, seed: int, geoip_dir: Path) -> tuple[list[AccountRecord], dict[str, str]]:
    """A generated population as validated records, with its ground truth."""
    records, truth = [], {}
    for planted in generate(n, seed, geoip_dir):
        record = parse_record(planted.record)
        records.append(record)
        truth[record.account_id] = planted.entity
    return records, truth


@pytest.fixture(scope="session")
def background(geoip_dir: Path) -> list[AccountRecord]:
    """Honest-looking customers that hand-built scenarios are linked against: linking always
    happens inside a population, and u-probabilities need one."""
    return population(1500, 101, geoip_dir)[0]
