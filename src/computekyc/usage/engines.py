"""Query engines over the usage Parquet dataset: DuckDB (default) and Apache Spark.

Both run the *same* SQL text: it is written once in DuckDB's dialect (:mod:`computekyc.usage.sql`)
and SQLGlot transpiles it for Spark, so there is one definition of the accounting logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import sqlglot

from computekyc.spark import spark_session
from computekyc.usage.schema import spark_schema
from computekyc.usage.store import UsageStore


class Engine(Protocol):
    """Runs DuckDB-dialect SQL over the view ``usage`` and returns rows as dicts."""

    name: str

    def query(self, sql: str) -> list[dict[str, Any]]: ...


class DuckDBEngine:
    """Embedded DuckDB over the Parquet files (bounded memory; spills to the store's tmp)."""

    name = "duckdb"

    def __init__(self, store: UsageStore, memory_limit: str = "1GB") -> None:
        self.con = store.connect(memory_limit)
        self.empty = not store.create_usage_view(self.con)

    def query(self, sql: str) -> list[dict[str, Any]]:
        if self.empty:
            return []
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def query_columns(self, sql: str, names: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
        """The answer as NumPy columns (masked where NULL): no Python object per row and field.
        ``names`` are the columns an empty store answers with."""
        if self.empty:
            return {name: np.zeros(0) for name in names}
        found: dict[str, npt.NDArray[Any]] = self.con.execute(sql).fetchnumpy()
        return found

    def close(self) -> None:
        self.con.close()


def to_spark_sql(sql: str) -> str:
    """The Spark SQL text of a DuckDB-dialect statement."""
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


class SparkEngine:
    """Apache Spark (local in tests, a cluster URL in production) over the same Parquet files."""

    name = "spark"

    def __init__(self, store: UsageStore, session: Any = None, master: str | None = None) -> None:
        self.spark = session if session is not None else spark_session(master)
        self.empty = not store.has_rows()
        if not self.empty:
            # The full schema, given: a file that leaves out an all-NULL column reads as NULL.
            reader = self.spark.read.schema(spark_schema())
            reader.parquet(str(store.rows_dir)).createOrReplaceTempView("usage")

    def query(self, sql: str) -> list[dict[str, Any]]:
        if self.empty:
            return []
        return [row.asDict() for row in self.spark.sql(to_spark_sql(sql)).collect()]

    def close(self) -> None:
        """Sessions are shared (getOrCreate); the caller who started one stops it."""


def make_engine(name: str, store: UsageStore, master: str | None = None) -> Engine:
    if name == "duckdb":
        return DuckDBEngine(store)
    if name == "spark":
        return SparkEngine(store, master=master)
    raise ValueError(f"unknown engine {name!r} (duckdb or spark)")
