"""The normalised usage table every reader lands in, and the SQL that names its columns."""

from __future__ import annotations

import pyarrow as pa

# One row = GPUs of one chip held by one account over [start_s, end_s), never crossing a UTC
# midnight (readers split longer rows so per-day accounting is a plain GROUP BY on both engines).
# Times are kept twice: as UTC timestamps for people and as epoch seconds for the shared SQL,
# because epoch integers mean exactly the same thing in DuckDB and Spark (no session time zones).
USAGE_SCHEMA = pa.schema(
    [
        ("source_format", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        # allocation = billing or scheduler record (counts GPU time); telemetry = DCGM samples or
        # Slurm step usage (gives signals; counts GPU time only when no allocation has its job).
        ("record_kind", pa.string()),
        ("provider", pa.string()),
        ("account", pa.string()),
        ("billing_account", pa.string()),
        ("principal", pa.string()),
        ("resource", pa.string()),
        ("job_key", pa.string()),
        ("hardware_name", pa.string()),
        ("chip", pa.string()),
        ("controlled", pa.bool_()),
        ("eccn", pa.string()),
        ("peak_ops_per_gpu", pa.float64()),
        ("h100_equivalents", pa.float64()),
        ("gpu_count", pa.float64()),
        ("nodes", pa.int64()),
        ("start_time", pa.timestamp("us", tz="UTC")),
        ("end_time", pa.timestamp("us", tz="UTC")),
        ("start_s", pa.int64()),
        ("end_s", pa.int64()),
        ("gpu_seconds", pa.float64()),
        ("region", pa.string()),
        ("state", pa.string()),
        ("gpu_util", pa.float64()),
        ("tensor_active", pa.float64()),
        ("fb_used_frac", pa.float64()),
        ("fb_used_cv", pa.float64()),
        ("power_w", pa.float64()),
        ("interconnect_bytes_per_s", pa.float64()),
        # What the tenant runs, as the file names it, for scans of product names and domains:
        # the resource's name (FOCUS ResourceName, the CUR ``Name`` tag, the Slurm job name, the
        # Kubernetes pod), its tags or labels as a JSON object (FOCUS Tags, CUR resource_tags,
        # Kubernetes labels) and the provider's charge description.
        ("resource_name", pa.string()),
        ("tags", pa.string()),
        ("charge_description", pa.string()),
    ]
)

USAGE_COLUMNS: tuple[str, ...] = tuple(USAGE_SCHEMA.names)

RESOURCE_DETAIL_COLUMNS: tuple[str, ...] = ("resource_name", "tags", "charge_description")

# Utilisation signals: from telemetry (DCGM, Slurm step usage) when a file has them.
SIGNAL_COLUMNS: tuple[str, ...] = (
    "gpu_util",
    "tensor_active",
    "fb_used_frac",
    "fb_used_cv",
    "power_w",
    "interconnect_bytes_per_s",
)


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal (DuckDB and Spark SQL alike)."""
    return "'" + text.replace("'", "''") + "'"


# Columns a whole file often lacks (no IAM principals, no job states, no telemetry). A rows file
# leaves out those that are NULL in every row: writing ten million NULLs costs about as much as
# writing numbers, and the views put them back as NULL (``usage_select``). Only columns a reader
# leaves as a constant NULL when its format lacks them: counting those is free when the file
# lacks them; the resource details cost a pass over their values only in files that have them.
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "principal",
    "nodes",
    "state",
    *SIGNAL_COLUMNS,
    *RESOURCE_DETAIL_COLUMNS,
)

_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp[us, tz=UTC]": "TIMESTAMPTZ",
}
_SPARK_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMPTZ": "TIMESTAMP",
}


def duckdb_type(column: str) -> str:
    return _DUCKDB_TYPES[str(USAGE_SCHEMA.field(column).type)]


def usage_select(present: set[str]) -> str:
    """The SELECT list giving every usage column, NULL where no rows file has it."""
    return ", ".join(
        name if name in present else f"CAST(NULL AS {duckdb_type(name)}) AS {name}"
        for name in USAGE_COLUMNS
    )


def spark_schema() -> str:
    """USAGE_SCHEMA as a Spark DDL string: Spark reads a column a file lacks as NULL."""
    return ", ".join(f"{name} {_SPARK_TYPES[duckdb_type(name)]}" for name in USAGE_COLUMNS)


# Columns a reader's SQL must produce before hardware resolution and day splitting.
RAW_COLUMNS: tuple[str, ...] = (
    "source_line",
    "record_kind",
    "provider",
    "account",
    "billing_account",
    "principal",
    "resource",
    "job_key",
    "hardware_name",
    "gpu_count_hint",
    "nodes",
    "start_s",
    "end_s",
    "usage_seconds",
    "gpu_seconds_direct",
    "region",
    "state",
    "gpu_util",
    "tensor_active",
    "fb_used_frac",
    "fb_used_cv",
    "power_w",
    "interconnect_bytes_per_s",
    *RESOURCE_DETAIL_COLUMNS,
    "reject_reason",
)
