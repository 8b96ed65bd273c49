"""DuckDB and Spark run the same SQL text (transpiled by SQLGlot) and must agree exactly."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from computekyc.exc import ConfigError
from computekyc.usage import (
    DuckDBEngine,
    Filters,
    Settings,
    SparkEngine,
    Thresholds,
    UsageStore,
    runs,
    summary,
    to_spark_sql,
)
from computekyc.usage import sql as usage_sql
from computekyc.usage.hardware import rates


def test_spark_text_is_transpiled_not_hand_written() -> None:
    text = usage_sql.runs_sql(0.4, 3600, Filters("a'b"))
    spark_text = to_spark_sql(text)
    assert "ROWS BETWEEN UNBOUNDED PRECEDING" in spark_text
    assert "'a\\'b'" in spark_text and "'a''b'" in text


def test_rate_table_reaches_both_dialects() -> None:
    """The per-name, per-period rate table is inline SQL: Spark gets the same literal rows."""
    table = rates([("trn2.48xlarge", None), ("it's new", None)])
    text = usage_sql.summary_sql(0.4, Filters(), table)
    spark_text = to_spark_sql(text)
    for rate in table:
        assert f"{rate.training_ops_per_gpu!r}" in text
    assert "'(unclassified) it''s new'" in text and "'(unclassified) it\\'s new'" in spark_text
    assert spark_text.count("'trn2.48xlarge'") == text.count("'trn2.48xlarge'") == 3


def _both(
    store: UsageStore, spark: Any, settings: Settings, filters: Filters, with_runs: bool = True
) -> None:
    duck = DuckDBEngine(store)
    sparky = SparkEngine(store, session=spark)
    duck_summary = summary(duck, settings, filters)
    assert duck_summary and duck_summary == summary(sparky, settings, filters)
    if with_runs:
        duck_runs = [r.to_dict() for r in runs(duck, settings, filters)]
        assert duck_runs and duck_runs == [r.to_dict() for r in runs(sparky, settings, filters)]


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_engines_agree_on_hand_written_files(hand_store: UsageStore, spark: Any) -> None:
    settings = Settings(thresholds=Thresholds((1e21, 1e19), 1e16))
    _both(hand_store, spark, settings, Filters())
    # Filters become literals in the shared SQL; one summary query checks them on Spark.
    _both(hand_store, spark, Settings(), Filters("lab-a", date(2024, 6, 2), None), False)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_engines_agree_on_generated_data(generated_store: UsageStore, spark: Any) -> None:
    _both(generated_store, spark, Settings(default_utilisation=0.35), Filters())


def test_threads_setting_reaches_duckdb(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from computekyc.services.linking import usage_store
    from computekyc.settings import Settings

    monkeypatch.setenv("COMPUTEKYC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COMPUTEKYC_THREADS", "1")
    store = usage_store(Settings.from_env())
    assert store.connect().execute("SELECT current_setting('threads')").fetchone() == (1,)
    monkeypatch.setenv("COMPUTEKYC_THREADS", "0")
    with pytest.raises(ConfigError, match="at least 1"):
        Settings.from_env()
    monkeypatch.setenv("COMPUTEKYC_THREADS", "two")
    with pytest.raises(ConfigError, match="whole number"):
        Settings.from_env()


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_usage_spark_session_can_also_link(spark: Any) -> None:
    # One session per process: the one usage starts must carry what linking needs (Splink's
    # similarity jar), or linking on Spark after usage fails (it did, in that test order).
    from splink.internals.spark.jar_location import similarity_jar_location

    from computekyc.spark import spark_session

    assert similarity_jar_location() in spark.sparkContext.getConf().get("spark.jars")
    assert spark_session() is spark
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
