"""Ingest one provider file into the usage dataset: read, resolve chips, split by day, store.

The whole pipeline is DuckDB SQL over the staged file, so memory stays bounded whatever the input
size (DuckDB streams Parquet in row groups and spills to ``tmp/`` past its memory limit).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from computekyc.usage.hardware import Hardware, hardware_table
from computekyc.usage.limits import Limits, load_limits
from computekyc.usage.readers import (
    FieldNames,
    Staged,
    UsageFormatError,
    field_names,
    one_line,
    reader_sql,
    stage,
)
from computekyc.usage.schema import (
    OPTIONAL_COLUMNS,
    SIGNAL_COLUMNS,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    duckdb_type,
    sql_literal,
)
from computekyc.usage.store import UsageStore, content_hash

_MAX_REJECT_EXAMPLES = 20
# Rows per INSERT of the small tables built from Python (hardware names, staged rejects).
_INSERT_CHUNK = 500
# Above this many distinct values a text column is written as plain text, not as an ENUM.
_MAX_ENUM = 1000
# The UTC day number of a row's last second (a zero-length row belongs to its start day).
_LAST_DAY = "greatest(end_s - 1, start_s) // 86400"
_SKIP_UNKNOWN = "skip:hardware not in the chip catalogue and no GPU count in the file"


@dataclass
class UnknownName:
    """A hardware name the chip catalogue does not know, and what happened to its rows."""

    name: str
    rows: int
    kept_rows: int


@dataclass
class IngestReport:
    """What ingesting one file did; stored as the file's manifest."""

    source_file: str
    content_hash: str
    format: str
    status: str  # "ingested" | "already ingested"
    rows_read: int = 0
    rows_accepted: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    rows_skipped: dict[str, int] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    unknown_hardware: list[UnknownName] = field(default_factory=list)
    # GPU-hours of allocation rows (billing/scheduler) and of telemetry rows (DCGM, Slurm steps).
    gpu_hours: float = 0.0
    telemetry_gpu_hours: float = 0.0
    ingested_at: str = ""
    # The plausibility limits the rows were checked against (``Limits.to_dict``).
    limits: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestReport:
        data = dict(data)
        data["unknown_hardware"] = [UnknownName(**u) for u in data.get("unknown_hardware", [])]
        return cls(**data)


def _connect(store: UsageStore) -> duckdb.DuckDBPyConnection:
    con = store.connect()
    con.execute("SET preserve_insertion_order = false")
    return con


def _checked(raw_sql: str, fields: FieldNames, limits: Limits) -> str:
    """The reader's rows joined to the hardware table (``hw``), with the checks every format
    shares applied on top of the reader's own reasons: times within the plausibility limits
    (``data/limits.yaml``), finite non-negative quantities, a plausible GPU count. Each reason
    names the file's own field."""
    start, end, qty, gpus = fields.start, fields.end, fields.quantity, fields.gpus
    span = "(end_s - start_s)"
    max_gpus = f"{limits.max_gpus_per_row:.15g}"
    lit = sql_literal
    too_early = lit(f" is before {_utc_text(limits.earliest_s)} (usage limits: earliest_time)")
    too_late = lit(f" is after {_utc_text(limits.latest_s)} (usage limits: future_days)")
    max_days = limits.max_row_seconds // 86400
    too_long = lit(f" days on one row, more than {max_days} (usage limits: max_row_days)")
    too_many = lit(f" GPUs on one row, more than {max_gpus} (usage limits: max_gpus_per_row)")
    too_dense = lit(
        f" hours means more than {max_gpus} GPUs at once (usage limits: max_gpus_per_row)"
    )
    elapsed_check = (
        f"""WHEN usage_seconds > {span} + {limits.elapsed_slack_seconds}
          THEN {lit(qty + " ")} || CAST(usage_seconds AS BIGINT) || ' s is longer than '
          || {lit(f"{end} - {start} (")} || {span} || ' s)'"""
        if fields.quantity_is_elapsed
        else ""
    )
    signals = " OR ".join(f"NOT isfinite({name})" for name in SIGNAL_COLUMNS)
    joined = f"""SELECT r.*, h.hw_label, h.chip, h.controlled, h.eccn, h.peak_ops_per_gpu,
        h.h100_equivalents, coalesce(r.gpu_count_hint, h.unit_count) AS gpu_count
      FROM ({raw_sql}) r LEFT JOIN hw h ON r.hardware_name = h.hw_key"""
    costed = f"""SELECT *, coalesce(gpu_seconds_direct, usage_seconds * gpu_count) AS gpu_total
      FROM ({joined})"""
    return f"""SELECT * REPLACE (CASE
        WHEN reject_reason IS NOT NULL THEN reject_reason
        WHEN start_s IS NULL THEN {lit(start + " is missing")}
        WHEN end_s IS NULL THEN {lit(end + " is missing")}
        WHEN start_s < {limits.earliest_s}
          THEN {lit(start + " ")} || {_utc("start_s")} || {too_early}
        WHEN end_s > {limits.latest_s} OR start_s > {limits.latest_s}
          THEN {lit(end + " ")} || {_utc("greatest(start_s, end_s)")} || {too_late}
        WHEN end_s < start_s THEN {lit(f"{end} is before {start}")}
        WHEN {span} > {limits.max_row_seconds}
          THEN {lit(f"{start} to {end}: ")} || ({span} // 86400) || {too_long}
        WHEN NOT isfinite(usage_seconds) OR NOT isfinite(gpu_seconds_direct)
          THEN {lit(qty + " is not a finite number (or too large)")}
        WHEN usage_seconds < 0 OR gpu_seconds_direct < 0 THEN {lit(qty + " is negative")}
        {elapsed_check}
        WHEN NOT isfinite(gpu_count_hint) THEN {lit(gpus + " is not a finite number")}
        WHEN gpu_count_hint < 0 THEN {lit(gpus + " is negative")}
        WHEN gpu_count > {max_gpus}
          THEN {lit(gpus + " ")} || printf('%.15g', gpu_count) || {too_many}
        WHEN NOT isfinite(gpu_total) OR gpu_total > {max_gpus} * greatest({span}, 1)
          THEN {lit(qty + ": ")} || printf('%.6g', gpu_total / 3600) || ' GPU-hours in '
          || printf('%.6g', {span} / 3600) || {too_dense}
        WHEN {signals} THEN 'a utilisation signal is not a finite number'
      END AS reject_reason) FROM ({costed})"""


def _utc(expr: str) -> str:
    """SQL: epoch seconds ``expr`` as ISO-8601 UTC text."""
    return f"strftime(to_timestamp({expr}), '%Y-%m-%dT%H:%M:%SZ')"


def _utc_text(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _enum(values: Iterable[str | None]) -> str | None:
    """The DuckDB ENUM type of ``values``, or None when there are none or too many.

    Low-cardinality text is written as ENUM: Parquet stores it exactly like text (a dictionary-
    encoded string column, so Spark and pyarrow read plain strings), but the writer takes the
    dictionary from the type instead of hashing every value, several times cheaper per row."""
    distinct = sorted({v for v in values if v is not None})
    if not distinct or len(distinct) > _MAX_ENUM:
        return None
    return "ENUM(" + ", ".join(sql_literal(v) for v in distinct) + ")"


def _load_rows(
    con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: Sequence[Sequence[Any]]
) -> None:
    """Temp table ``name`` (``columns`` is its SQL column list) holding a few Python rows.

    Plain SQL parameters, not Arrow: registering or even building Arrow data from Python objects
    imports pandas, a third of a second per command that the ingest otherwise never needs."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
    width = len(columns.split(","))
    placeholders = "(" + ", ".join("?" * width) + ")"
    for first in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[first : first + _INSERT_CHUNK]
        values = ", ".join(placeholders for _ in chunk)
        con.execute(f"INSERT INTO {name} VALUES {values}", [v for row in chunk for v in row])


def _register_hardware(
    con: duckdb.DuckDBPyConnection, names: set[str], known: list[Hardware]
) -> dict[str, str]:
    """Table ``hw``: every hardware name of the file's accepted rows (known or not) with its
    catalogue facts; returns the ENUM types of its text columns, for the stored rows."""
    _load_rows(
        con,
        "hw_found",
        "name VARCHAR, chip VARCHAR, controlled BOOLEAN, eccn VARCHAR, "
        "peak_ops_per_gpu DOUBLE, h100_equivalents DOUBLE, unit_count DOUBLE",
        [
            (
                h.name,
                h.chip,
                h.controlled,
                h.eccn,
                h.peak_ops_per_gpu,
                h.h100_equivalents,
                float(h.unit_count),
            )
            for h in known
        ],
    )
    _load_rows(con, "hw_names", "name VARCHAR", [(n,) for n in sorted(names)])
    types = {
        "hardware_name": _enum(names),
        "chip": _enum(h.chip for h in known),
        "eccn": _enum(h.eccn for h in known),
    }
    label, chip, eccn = (types[k] or "VARCHAR" for k in ("hardware_name", "chip", "eccn"))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hw AS
        SELECT n.name AS hw_key, CAST(n.name AS {label}) AS hw_label,
          CAST(h.chip AS {chip}) AS chip, h.controlled, CAST(h.eccn AS {eccn}) AS eccn,
          h.peak_ops_per_gpu, h.h100_equivalents, h.unit_count
        FROM hw_names n LEFT JOIN hw_found h ON n.name = h.name"""
    )
    return {k: v for k, v in types.items() if v is not None}


def _rows_sql(
    checked: str,
    fmt: str,
    source: str,
    enums: dict[str, str],
    crosses_midnight: bool = True,
    absent: frozenset[str] = frozenset(),
) -> str:
    """Accepted rows joined to the hardware table, split at UTC midnights, in USAGE_SCHEMA.

    ``enums`` gives an ENUM type for text columns whose values are known in advance. When no
    row of the file ``crosses_midnight`` (hourly billing, most telemetry) the split is skipped:
    unnesting a one-day list per row costs a fifth of the whole ingest. Columns ``absent`` from
    every row are left out of the file (see ``OPTIONAL_COLUMNS``)."""
    # The name comes from the hardware table (same text, already an ENUM): no per-row cast.
    costed = f"""SELECT * EXCLUDE (hardware_name, hw_label), hw_label AS hardware_name
      FROM {checked} WHERE reject_reason IS NULL AND gpu_count > 0"""
    if crosses_midnight:
        day_start = "greatest(k.start_s, k.d * 86400)"
        day_end = "least(k.end_s, (k.d + 1) * 86400)"
        share = (
            f"CASE WHEN k.end_s > k.start_s THEN CAST({day_end} - {day_start} AS DOUBLE) "
            f"/ (k.end_s - k.start_s) ELSE 1.0 END"
        )
        days = f"""(SELECT *, unnest(range(start_s // 86400, {_LAST_DAY} + 1)) AS d
            FROM ({costed}))"""
    else:
        day_start, day_end, share, days = "k.start_s", "k.end_s", "1.0", f"({costed})"
    src_lit = sql_literal(source)
    split = f"""SELECT '{fmt}' AS source_format, {src_lit} AS source_file, source_line, record_kind,
        provider, account, billing_account, principal, resource, job_key, hardware_name, chip,
        controlled, eccn, peak_ops_per_gpu, h100_equivalents, gpu_count,
        nodes, to_timestamp({day_start}) AS start_time, to_timestamp({day_end}) AS end_time,
        {day_start} AS start_s, {day_end} AS end_s, gpu_total * {share} AS gpu_seconds,
        region, state, gpu_util, tensor_active, fb_used_frac, fb_used_cv, power_w,
        interconnect_bytes_per_s, resource_name, tags, charge_description
      FROM {days} k"""
    # A SELECT-list unnest, not a lateral join: DuckDB plans the lateral form as a delim join
    # that hashes every row on (start_s, end_s), which cost more than the rest of the split.
    # Every file gets exactly USAGE_SCHEMA's types (an all-NULL column would otherwise be typed
    # INTEGER in one file and VARCHAR in another, which Spark refuses to union).
    types = {
        "source_format": _enum([fmt]),
        "source_file": _enum([source]),
        "record_kind": _enum(["allocation", "telemetry"]),
        **enums,
    }
    casts = ", ".join(
        f"CAST({name} AS {types.get(name) or duckdb_type(name)}) AS {name}"
        for name in USAGE_COLUMNS
        if name not in absent
    )
    return f"SELECT {casts} FROM ({split})"


def _product_is_map(con: duckdb.DuckDBPyConnection, staged: Staged) -> bool:
    if "product" not in staged.columns:
        return False
    described = con.execute(f"DESCRIBE SELECT product FROM {staged.from_sql}").fetchall()
    return str(described[0][1]).upper().startswith("MAP")


def _copy(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> None:
    con.execute(f"COPY ({sql}) TO {sql_literal(str(out))} (FORMAT parquet, COMPRESSION zstd)")


def ingest_file(
    path: Path,
    fmt: str,
    store: UsageStore,
    limits: Limits | None = None,
) -> IngestReport:
    """Ingest ``path``; a file whose bytes were ingested before changes nothing, and a file
    that cannot be read changes nothing either (:class:`UsageFormatError`, naming the file).

    Rows outside the plausibility ``limits`` (default: ``data/limits.yaml``) are rejected and
    listed with their line and field, like any other bad row."""
    path = Path(path)
    if not path.is_file():
        raise UsageFormatError("no such file", file=path)
    try:
        key = content_hash(path)
    except OSError as exc:
        raise UsageFormatError(f"cannot read ({exc.strerror})", file=path) from exc
    previous = store.manifest(key)
    if previous is not None:
        report = IngestReport.from_dict(previous)
        report.status = "already ingested"
        return report
    limits = limits or load_limits()
    workdir = Path(tempfile.mkdtemp(dir=store.tmp_dir, prefix="stage-"))
    rows_tmp, rejects_tmp = store.tmp_path(key, "rows"), store.tmp_path(key, "rejects")
    con = _connect(store)
    try:
        with _reading(path, fmt):
            report = _ingest_staged(con, store, path, fmt, key, limits, workdir)
        # Everything is written: publish rejects, then rows, then the manifest that marks the
        # ingest finished (each an atomic rename).
        store.publish(rejects_tmp, "rejects", key)
        store.publish(rows_tmp, "rows", key)
        report.ingested_at = datetime.now(UTC).isoformat(timespec="seconds")
        store.write_manifest(key, report.to_dict())
    finally:
        con.close()
        shutil.rmtree(workdir, ignore_errors=True)
        rows_tmp.unlink(missing_ok=True)
        rejects_tmp.unlink(missing_ok=True)
    try:
        store.refresh_catalogue()
    except duckdb.Error as exc:  # e.g. an analyst holds usage.duckdb open: the data is stored
        report.warnings.append(
            f"the analysts' catalogue usage.duckdb was not refreshed ({one_line(exc)}); "
            "the next ingest refreshes it"
        )
    return report


def _ingest_staged(
    con: duckdb.DuckDBPyConnection,
    store: UsageStore,
    path: Path,
    fmt: str,
    key: str,
    limits: Limits,
    workdir: Path,
) -> IngestReport:
    """Read, check and write ``path`` into the store's temp files; publishes nothing."""
    staged = stage(path, fmt, workdir)
    # Input records, counted on the staged file: DCGM readers aggregate samples per GPU.
    counted = int(con.execute(f"SELECT count(*) FROM {staged.from_sql}").fetchall()[0][0])
    if counted == 0 and not staged.rejects:
        raise UsageFormatError("no records (only a header, comments or an empty table)", file=path)
    raw = reader_sql(staged.format, staged, _product_is_map(con, staged))
    report = IngestReport(str(path), key, staged.format, "ingested", limits=limits.to_dict())
    report.rows_read = counted
    # Re-parsing the source in each pass below is cheaper than writing a parsed temp file:
    # DuckDB parses a million FOCUS rows in well under a second, writing them costs more.
    checked = f"({_checked(raw, field_names(staged.format, staged.columns), limits)})"
    survey = con.execute(_SURVEY.format(raw=raw, last_day=_LAST_DAY)).fetchall()
    # Every name in the file, rejected rows' too: a superset only widens the ENUM types.
    names = {str(row[0]) for row in survey if row[0] is not None}
    hw, unknown = hardware_table(names)
    enums = _register_hardware(con, names, hw)
    for pos, column in ((1, "provider"), (2, "region")):
        typed = _enum(str(row[pos]) for row in survey if row[pos] is not None)
        if typed is not None:
            enums[column] = typed
    crossing = any(row[4] for row in survey)
    absent = frozenset(
        name
        for pos, name in enumerate(OPTIONAL_COLUMNS, start=5)
        if not any(row[pos] for row in survey)
    )
    rows_tmp = store.tmp_path(key, "rows")
    _copy(con, _rows_sql(checked, staged.format, str(path), enums, crossing, absent), rows_tmp)
    report.rows_stored = pq.read_metadata(rows_tmp).num_rows
    if not crossing and report.rows_stored == sum(row[3] for row in survey):
        # One stored row per reader row: nothing was rejected or skipped, so the survey is
        # the tally and the source is not parsed again (a seventh of a clean file's ingest).
        tally = [(row[0], None, row[3], row[3]) for row in survey]
    else:
        tally = con.execute(_TALLY.format(checked=checked)).fetchall()
    _account(report, tally, set(unknown))
    any_rejects = any(outcome == "!reject" for _, outcome, _, _ in tally)
    _write_rejects(con, store, key, str(path), checked, staged, report, any_rejects)
    report.gpu_hours, report.telemetry_gpu_hours = _gpu_hours(con, rows_tmp)
    return report


# Before the rows are written: every hardware name, provider and region of the file (for the
# hardware table and the ENUM types), the reader's row count, whether any row crosses a UTC
# midnight, and which optional columns have values (DuckDB folds a count of constant NULLs).
# Reject reasons are not computed, so this reads only the columns it names.
_SURVEY = f"""SELECT hardware_name, provider, region, count(*) AS n,
  count(*) FILTER (WHERE start_s // 86400 <> {{last_day}}) AS crossing,
  {", ".join(f"count({name})" for name in OPTIONAL_COLUMNS)}
FROM ({{raw}}) GROUP BY ALL"""

# What happened to each row, when some were not stored: (name, outcome, rows, rows with a count).
_TALLY = """SELECT hardware_name,
  CASE WHEN reject_reason LIKE 'skip:%' THEN reject_reason
       WHEN reject_reason IS NOT NULL THEN '!reject' END AS outcome,
  count(*) AS n, count(gpu_count_hint) AS with_count
FROM {checked} GROUP BY ALL"""


@contextmanager
def _reading(path: Path, fmt: str) -> Iterator[None]:
    """DuckDB or Arrow failing on the source (a type it cannot read, a broken file) is the
    file's fault: one line naming the file, never the library's multi-line context."""
    try:
        yield
    except duckdb.Error as exc:
        what = "a usage file" if fmt == "auto" else fmt
        raise UsageFormatError(f"cannot read as {what}: {one_line(exc)}", file=path) from exc
    except pa.ArrowException as exc:
        raise UsageFormatError(f"cannot read: {one_line(exc)}", file=path) from exc


def _account(report: IngestReport, tally: list[tuple[Any, ...]], unknown_set: set[str]) -> None:
    """Accepted and skipped rows, and unknown hardware names, from the tally."""
    unknown_rows: dict[str, list[int]] = {}
    for name, outcome, n, with_count in tally:
        if outcome == "!reject":
            continue
        if outcome is not None:
            report.rows_skipped[outcome[5:]] = report.rows_skipped.get(outcome[5:], 0) + n
            continue
        if name in unknown_set:
            counts = unknown_rows.setdefault(name, [0, 0])
            counts[0] += n
            counts[1] += with_count
            if n > with_count:
                label = _SKIP_UNKNOWN[5:]
                report.rows_skipped[label] = report.rows_skipped.get(label, 0) + n - with_count
        report.rows_accepted += n if name not in unknown_set else with_count
    report.unknown_hardware = [
        UnknownName(name, counts[0], counts[1]) for name, counts in sorted(unknown_rows.items())
    ]
    untyped = sum(n for name, outcome, n, _ in tally if name is None and outcome is None)
    if untyped:
        report.unknown_hardware.append(
            UnknownName("(no hardware name in the file)", untyped, untyped)
        )


def _gpu_hours(con: duckdb.DuckDBPyConnection, rows: Path) -> tuple[float, float]:
    value = con.execute(
        f"""SELECT coalesce(sum(gpu_seconds) FILTER (WHERE record_kind = 'allocation'), 0) / 3600,
                   coalesce(sum(gpu_seconds) FILTER (WHERE record_kind = 'telemetry'), 0) / 3600
            FROM {sql_literal(str(rows))}"""
    ).fetchall()[0]
    return round(float(value[0]), 6), round(float(value[1]), 6)


def _write_rejects(
    con: duckdb.DuckDBPyConnection,
    store: UsageStore,
    key: str,
    source: str,
    checked: str,
    staged: Staged,
    report: IngestReport,
    any_rejects: bool,
) -> None:
    _load_rows(
        con,
        "staged_rejects",
        "source_file VARCHAR, source_line BIGINT, reason VARCHAR",
        [(source, line, why) for line, why in staged.rejects],
    )
    src_lit = sql_literal(source)
    sql = "SELECT source_file, source_line, reason FROM staged_rejects"
    if any_rejects:  # the tally saw rejected rows: one more pass over the source to list them
        sql = f"""SELECT {src_lit} AS source_file, CAST(source_line AS BIGINT) AS source_line,
          reject_reason AS reason FROM {checked}
        WHERE reject_reason IS NOT NULL AND reject_reason NOT LIKE 'skip:%'
        UNION ALL {sql}"""
    tmp = store.tmp_path(key, "rejects")  # published by ingest_file once everything is written
    _copy(con, sql, tmp)
    report.rows_rejected = pq.read_metadata(tmp).num_rows
    report.rows_read += len(staged.rejects)
    examples = con.execute(
        f"SELECT source_line, reason FROM {sql_literal(str(tmp))} "
        f"ORDER BY source_line LIMIT {_MAX_REJECT_EXAMPLES}"
    ).fetchall()
    report.rejects = [{"file": source, "line": ln, "reason": why} for ln, why in examples]


def ingest(paths: list[Path], fmt: str = "auto", *, store: UsageStore) -> list[IngestReport]:
    """Ingest several files; each is atomic on its own."""
    return [ingest_file(Path(p), fmt, store) for p in paths]


__all__ = ["USAGE_SCHEMA", "IngestReport", "UnknownName", "ingest", "ingest_file"]
