"""Compute usage: ingest provider billing/scheduler/telemetry files, account for controlled
compute per account and day, and find large training runs — on DuckDB or Spark.

Public API:

- :func:`ingest` / :func:`ingest_file` -> :class:`IngestReport` (rows outside the plausibility
  :class:`Limits` of ``data/limits.yaml``, see :func:`load_limits`, are rejected with their field)
- :func:`summary` (per account: GPU-hours, controlled GPU-hours, H100-equivalent hours, estimated
  operations, peak GPUs, peak ops/s, by chip and by day)
- :func:`runs` -> list of :class:`Run` (class, features, thresholds, reasons)
- :class:`Settings`, :class:`Thresholds`, :class:`Filters`
- :class:`UsageStore`, :func:`make_engine`, :class:`DuckDBEngine`, :class:`SparkEngine`
- :func:`generate` (synthetic provider data with planted training runs)
"""

from __future__ import annotations

from computekyc.usage.accounting import Run, Settings, Thresholds, classify, runs, summary
from computekyc.usage.engines import DuckDBEngine, Engine, SparkEngine, make_engine, to_spark_sql
from computekyc.usage.generate import Generated, PlantedRun, generate
from computekyc.usage.ingest import IngestReport, UnknownName, ingest, ingest_file
from computekyc.usage.limits import Limits, load_limits
from computekyc.usage.readers import FORMATS, UsageFormatError
from computekyc.usage.sql import Filters
from computekyc.usage.store import UsageStore

__all__ = [
    "FORMATS",
    "DuckDBEngine",
    "Engine",
    "Filters",
    "Generated",
    "IngestReport",
    "Limits",
    "PlantedRun",
    "Run",
    "Settings",
    "SparkEngine",
    "Thresholds",
    "UnknownName",
    "UsageFormatError",
    "UsageStore",
    "classify",
    "generate",
    "ingest",
    "ingest_file",
    "load_limits",
    "make_engine",
    "runs",
    "summary",
    "to_spark_sql",
]
