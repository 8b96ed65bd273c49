"""DuckDB and Spark give the same clusters on the same input (one small local Spark run)."""

from __future__ import annotations

import pytest

from computekyc.linking import GeoIP, link_accounts
from computekyc.linking.records import AccountRecord

from .scenarios import USAGE, scenario_records


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_duckdb_and_spark_agree(background: list[AccountRecord], geoip: GeoIP) -> None:
    records = background[:200] + scenario_records()
    duck = link_accounts(records, "duckdb", USAGE, geoip)
    spark = link_accounts(records, "spark", USAGE, geoip)
    clusters = {tuple(e.accounts): e.entity_id for e in duck.entities}
    assert {tuple(e.accounts): e.entity_id for e in spark.entities} == clusters
    assert any(len(accounts) > 1 for accounts in clusters)
    duck_links = {(k.a, k.b): k.probability for e in duck.entities for k in e.links}
    spark_links = {(k.a, k.b): k.probability for e in spark.entities for k in e.links}
    assert duck_links.keys() == spark_links.keys()
    assert all(abs(duck_links[k] - spark_links[k]) < 1e-9 for k in duck_links)
