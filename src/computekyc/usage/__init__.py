"""Compute usage: ingest provider billing/scheduler/telemetry files, account for controlled
compute per account and day, and find large training runs — on DuckDB or Spark.

Public API:

- :func:`ingest` / :func:`ingest_file` -> :class:`IngestReport` (rows outside the plausibility
  :class:`Limits` of ``data/limits.yaml``, see :func:`load_limits`, are rejected with their field)
- :func:`summary` (per account: GPU-hours — all, controlled, review, unclassified — H100-equivalent
  hours, estimated operations, peak GPUs, peak ops/s (theoretical maximum and training
  precision), by chip and by day, flags, cumulative thresholds); each row classified under the
  rules in force on its day
- :func:`runs` -> list of :class:`Run` (class, features, thresholds, reasons, flags)
- :func:`cumulative_thresholds`, :func:`entity_thresholds` (rolling window and calendar quarter,
  per account or per linked entity given an account -> entity map), :func:`threshold_label`
- :class:`Settings`, :class:`Thresholds`, :class:`Filters`
- :class:`UsageStore`, :func:`make_engine`, :class:`DuckDBEngine`, :class:`SparkEngine`
- :func:`generate` (synthetic provider data with planted training runs)
"""

from __future__ import annotations

from computekyc.usage.accounting import (
    Run,
    Settings,
    Thresholds,
    classify,
    cumulative_thresholds,
    entity_thresholds,
    runs,
    summary,
    threshold_label,
)
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
    "cumulative_thresholds",
    "entity_thresholds",
    "generate",
    "ingest",
    "ingest_file",
    "load_limits",
    "make_engine",
    "runs",
    "summary",
    "threshold_label",
    "to_spark_sql",
]
