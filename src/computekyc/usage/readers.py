"""Format readers: each turns one provider file into the raw columns of the usage table, in SQL.

Every input is first exposed to DuckDB as a view ``src`` with a ``__line`` column (Parquet row
number, or CSV physical line), so the readers stay vectorised and streaming: DuckDB scans the file
in chunks and never holds it whole. A reader is a SELECT over ``src`` giving ``RAW_COLUMNS``;
``reject_reason`` is NULL for good rows, ``skip:…`` for rows that are not GPU usage (counted, not
errors) and any other text for bad rows (reported with file and line).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from computekyc.bulk import csv_field_limit
from computekyc.exc import InputError
from computekyc.usage.schema import (
    RAW_COLUMNS,
    RESOURCE_DETAIL_COLUMNS,
    SIGNAL_COLUMNS,
    sql_literal,
)

FORMATS: tuple[str, ...] = ("focus", "cur", "sacct", "dcgm", "alibaba")

# The Alibaba traces give seconds since an undisclosed trace start; we pin that start to a fixed
# date so that runs and days are reproducible (the absolute date carries no meaning).
ALIBABA_EPOCH_S = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())

_BATCH_ROWS = 65_536
# A physical line longer than this is not a usage record (binary data, a dump without breaks).
_MAX_FIELD_BYTES = 128 * 1024  # a usage field over 128 KiB is no usage value
_MAX_LINE_BYTES = 16 << 20
# Compressed exports (CUR and FOCUS are often delivered gzipped) are not read in place.
_ARCHIVE_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\x28\xb5\x2f\xfd": "zstd",
}
# Blank lines tolerated before a header.
_MAX_BLANK_LEAD = 100


class UsageFormatError(InputError, ValueError):
    """A file that is not in a usage format we read, or that breaks its format."""


@dataclass(frozen=True)
class Staged:
    """An input made queryable: the DuckDB FROM clause and its column names."""

    format: str
    from_sql: str
    columns: frozenset[str]
    rejects: list[tuple[int, str]]
    # Parquet columns already typed as a time or a number ("time" | "number"): read as they are,
    # not through text (a cast to text and back costs more than the rest of a reader).
    typed: dict[str, str] = field(default_factory=dict)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# Detection


def sniff_header(path: Path) -> tuple[str, list[str]]:
    """('parquet'|'csv'|'psv'|'prometheus', column names) from the file's first bytes."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == b"PAR1":
        return "parquet", list(_parquet_schema(path).names)
    for magic, kind in _ARCHIVE_MAGIC.items():
        if head.startswith(magic):
            raise UsageFormatError(f"a {kind} archive: extract the usage file first", file=path)
    first = ""
    for number, text in _text_lines(path):
        if text.strip():
            first = text.rstrip("\r\n")
            break
        if number > _MAX_BLANK_LEAD:
            break
    if not first:
        raise UsageFormatError("empty file (no header, no records)", file=path)
    if first.startswith("#") or re.match(r"^DCGM_FI_\w+(\{|\s)", first):
        return "prometheus", []
    if "|" in first and first.count("|") >= first.count(","):
        return "psv", first.split("|")
    try:
        return "csv", next(csv.reader([first]))
    except csv.Error as exc:
        raise UsageFormatError(f"header is not a CSV record ({exc})", file=path, line=1) from exc


def _parquet_schema(path: Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise UsageFormatError(f"not a readable Parquet file ({one_line(exc)})", file=path) from exc


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (library messages may hold SQL or a context block)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(physical line number, text) of a text file, decoded as strict UTF-8.

    Decoding is strict because a replaced byte (U+FFFD) would merge distinct account ids; the
    error names the line and column. A UTF-8 byte-order mark on the first line is dropped. The
    last line must end with a line break: provider exports end every record with one, so a file
    without it was cut off mid-record (its last value could be a truncated number)."""
    with path.open("rb") as fh:
        number = 0
        raw = b""
        for number, raw in enumerate(fh, start=1):
            if len(raw) > _MAX_LINE_BYTES:
                raise UsageFormatError(
                    f"longer than {_MAX_LINE_BYTES >> 20} MiB: not a usage record",
                    file=path,
                    line=number,
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UsageFormatError(
                    f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is not UTF-8 "
                    "(convert the file to UTF-8; other encodings are not guessed)",
                    file=path,
                    line=number,
                ) from exc
            if "\x00" in text:
                raise UsageFormatError(
                    f"NUL byte at column {text.index(chr(0)) + 1}: not a text file",
                    file=path,
                    line=number,
                )
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text
        if number and not raw.endswith(b"\n"):
            raise UsageFormatError(
                "the last line has no line break: the file looks truncated",
                file=path,
                line=number,
            )


def detect_format(columns: list[str], layout: str, path: Path) -> str:
    """Which reader fits the header; raises naming the file when none does."""
    cols = set(columns)
    if layout == "prometheus" or {"timestamp", "metric", "value"} <= cols:
        return "dcgm"
    if "ChargePeriodStart" in cols and ("BillingAccountId" in cols or "SubAccountId" in cols):
        return "focus"
    if "line_item_usage_start_date" in cols or "identity_line_item_id" in cols:
        return "cur"
    if "JobID" in cols and ("AllocTRES" in cols or "ElapsedRaw" in cols):
        return "sacct"
    if {"num_gpu", "creation_time"} <= cols or {"instance_sn", "gpu_request"} <= cols:
        return "alibaba"
    if {"predict_type", "exec_time_seconds", "groupId"} <= cols:
        return "alibaba"
    if {"timestamp_anon", "value", "container_ip"} <= cols:
        return "alibaba"
    if {"num_gpu", "gpu_milli"} <= cols:
        raise UsageFormatError("an Alibaba pod list without creation/deletion times", file=path)
    if {"sn", "gpu", "model"} <= cols or {"gpu_model", "gpu_capacity_num"} <= cols:
        raise UsageFormatError("a GPU node inventory, not usage records", file=path)
    # Control characters from a binary file would garble the terminal: shown as "?".
    shown = "".join(ch if ch.isprintable() else "?" for ch in ", ".join(columns[:8]))[:200]
    raise UsageFormatError(f"header not recognised as a usage format ({shown})", file=path, line=1)


# --------------------------------------------------------------------------------------------
# Staging: expose the file to DuckDB with line numbers


def _csv_batches(
    path: Path, delimiter: str, rejects: list[tuple[int, str]]
) -> Iterator[tuple[list[str], pa.RecordBatch]]:
    # Python's csv module, not DuckDB's sniffer, so that every record keeps its physical line
    # number and a ragged row becomes a reported reject instead of aborting the file.
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_NONE if delimiter == "|" else csv.QUOTE_MINIMAL
    lines = _text_lines(path)
    with csv_field_limit(_MAX_FIELD_BYTES):
        yield from _csv_rows(path, lines, delimiter, quoting, rejects)


def _csv_rows(
    path: Path,
    lines: Iterator[tuple[int, str]],
    delimiter: str,
    quoting: Literal[0, 1, 2, 3],
    rejects: list[tuple[int, str]],
) -> Iterator[tuple[list[str], pa.RecordBatch]]:
    reader = csv.reader((text for _, text in lines), delimiter=delimiter, quoting=quoting)
    header: list[str] | None = None
    columns: list[list[str | None]] = []
    numbers: list[int] = []
    records = 0
    try:
        for row in reader:
            if header is None:
                if not row or not any(cell.strip() for cell in row):
                    continue
                header = [cell.strip() for cell in row]
                _check_header(header, path, reader.line_num)
                columns = [[] for _ in header]
                continue
            if not row:
                continue
            line = reader.line_num
            records += 1
            if len(row) != len(header):
                rejects.append((line, f"{len(row)} fields where the header has {len(header)}"))
                continue
            for i, cell in enumerate(row):
                columns[i].append(cell if cell != "" else None)
            numbers.append(line)
            if len(numbers) >= _BATCH_ROWS:
                yield header, _to_batch(header, columns, numbers)
                columns = [[] for _ in header]
                numbers = []
    except csv.Error as exc:
        # Field over csv.field_size_limit (128 KiB), NUL byte, stray carriage return.
        raise UsageFormatError(
            f"not a CSV record ({exc})", file=path, line=reader.line_num + 1
        ) from exc
    if header is None:
        raise UsageFormatError("empty file (no header, no records)", file=path)
    if records == 0:
        raise UsageFormatError("a header but no records", file=path)
    yield header, _to_batch(header, columns, numbers)


def _check_header(header: list[str], path: Path, line: int) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen or name == "__line":
            why = "appears twice in the header" if name in seen else "is a reserved name"
            raise UsageFormatError(f"column {name!r} {why}", file=path, line=line)
        seen.add(name)


def _to_batch(
    header: list[str], columns: list[list[str | None]], lines: list[int]
) -> pa.RecordBatch:
    arrays = [pa.array(col, type=pa.string()) for col in columns]
    arrays.append(pa.array(lines, type=pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, names=[*header, "__line"])


def _write_batches(batches: Iterator[pa.RecordBatch], out: Path) -> None:
    writer: pq.ParquetWriter | None = None
    try:
        for batch in batches:
            if writer is None:
                writer = pq.ParquetWriter(out, batch.schema)
            writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()


_PROM_LINE = re.compile(
    r"^(?P<metric>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+(?P<ts>-?\d+))?\s*$"
)
_PROM_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
DCGM_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "metric",
    "value",
    "gpu",
    "UUID",
    "Hostname",
    "modelName",
    "namespace",
    "pod",
    "container",
    "hpc_job",
)


# Exporter bookkeeping labels, not workload labels: left out of the stored tags.
_PROM_INTERNAL_LABELS = frozenset(
    {"device", "pci_bus_id", "err_code", "err_msg", "GPU_I_ID", "GPU_I_PROFILE", "instance", "job"}
)
PROM_COLUMNS: tuple[str, ...] = (*DCGM_COLUMNS, "labels")


def _prometheus_batches(path: Path, rejects: list[tuple[int, str]]) -> Iterator[pa.RecordBatch]:
    """Prometheus text exposition → the DCGM long layout (one row per sample), plus ``labels``:
    the workload's Kubernetes labels (``container`` and any pod labels the exporter adds with
    ``--kubernetes-enable-pod-labels``) as a JSON object."""
    # A scrape without sample timestamps is a snapshot taken when the file was written.
    default_ts = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat()
    names = list(PROM_COLUMNS)
    cols: dict[str, list[str | None]] = {c: [] for c in names}
    lines: list[int] = []
    for number, raw in _text_lines(path):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        match = _PROM_LINE.match(text)
        if match is None:
            rejects.append((number, "not a Prometheus sample line"))
            continue
        labels = dict(_PROM_LABEL.findall(match.group("labels") or ""))
        ts = match.group("ts")
        try:
            stamp = datetime.fromtimestamp(int(ts) / 1000, tz=UTC).isoformat() if ts else default_ts
        except (OverflowError, OSError, ValueError):
            rejects.append((number, f"sample timestamp {ts} is not a time (milliseconds)"))
            continue
        cols["timestamp"].append(stamp)
        cols["metric"].append(match.group("metric"))
        cols["value"].append(match.group("value"))
        for name in DCGM_COLUMNS[3:]:
            cols[name].append(labels.get(name) or None)
        workload = {
            k: v
            for k, v in labels.items()
            if v
            and (k == "container" or k not in DCGM_COLUMNS)
            and k not in _PROM_INTERNAL_LABELS
            and not k.startswith("DCGM_")
        }
        cols["labels"].append(json.dumps(workload, sort_keys=True) if workload else None)
        lines.append(number)
        if len(lines) >= _BATCH_ROWS:
            yield _to_batch(names, list(cols.values()), lines)
            cols = {c: [] for c in names}
            lines = []
    yield _to_batch(names, list(cols.values()), lines)


def _parquet_kinds(path: Path) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for col in _parquet_schema(path):
        if pa.types.is_timestamp(col.type):
            kinds[col.name] = "time"
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            kinds[col.name] = "number"
        elif pa.types.is_nested(col.type):
            kinds[col.name] = "nested"
    return kinds


def stage(path: Path, fmt: str, workdir: Path) -> Staged:
    """Expose ``path`` as a DuckDB FROM clause with ``__line``; detect the format if 'auto'."""
    layout, columns = sniff_header(path)
    detected = detect_format(columns, layout, path)
    if fmt != "auto" and fmt != detected:
        raise UsageFormatError(f"header looks like {detected}, not {fmt}", file=path, line=1)
    rejects: list[tuple[int, str]] = []
    if layout == "parquet":
        from_sql = (
            f"(SELECT *, file_row_number + 1 AS __line FROM "
            f"read_parquet({sql_literal(str(path))}, file_row_number = true))"
        )
        return Staged(detected, from_sql, frozenset(columns), rejects, _parquet_kinds(path))
    staged = workdir / "staged.parquet"
    if layout == "prometheus":
        _write_batches(_prometheus_batches(path, rejects), staged)
        columns = list(PROM_COLUMNS)
    else:
        delimiter = "|" if layout == "psv" else ","
        _write_batches((b for _, b in _csv_batches(path, delimiter, rejects)), staged)
    return Staged(
        detected, f"read_parquet({sql_literal(str(staged))})", frozenset(columns), rejects
    )


# --------------------------------------------------------------------------------------------
# SQL helpers


class Cols:
    """Column references that degrade to NULL when a format version lacks the column."""

    def __init__(self, present: frozenset[str], typed: dict[str, str] | None = None) -> None:
        self.present = present
        self.typed = typed or {}

    def __call__(self, *names: str) -> str:
        # Empty text is a missing value: CSV exports and Parquet writers disagree on which to use.
        found = [
            f"NULLIF(trim(CAST({_quote(n)} AS VARCHAR)), '')" for n in names if n in self.present
        ]
        if not found:
            return "CAST(NULL AS VARCHAR)"
        return found[0] if len(found) == 1 else f"coalesce({', '.join(found)})"

    def has(self, name: str) -> bool:
        return name in self.present

    def json_text(self, name: str) -> str:
        """A key-value column as JSON text: a Parquet map or struct becomes a JSON object; text
        (CSV exports write maps as JSON) is kept as the file gives it."""
        if self.typed.get(name) == "nested":
            return f"NULLIF(CAST(to_json({_quote(name)}) AS VARCHAR), '{{}}')"
        return self(name)

    def time(self, name: str) -> str:
        """Epoch seconds of a time column (text, or already a Parquet timestamp)."""
        if self.typed.get(name) == "time":
            return f"CAST(epoch(CAST({_quote(name)} AS TIMESTAMPTZ)) AS BIGINT)"
        return epoch_s(self(name))

    def number(self, name: str) -> str:
        """A numeric column as DOUBLE (text, or already a Parquet number)."""
        if self.typed.get(name) == "number":
            return f"CAST({_quote(name)} AS DOUBLE)"
        return num(self(name))


def epoch_s(expr: str) -> str:
    """Epoch seconds of a timestamp given as text or as a Parquet timestamp (UTC session)."""
    return f"CAST(epoch(TRY_CAST({expr} AS TIMESTAMPTZ)) AS BIGINT)"


def num(expr: str) -> str:
    return f"TRY_CAST({expr} AS DOUBLE)"


def _select(fields: dict[str, str], src: str, where: str = "") -> str:
    body = ",\n  ".join(f"{expr} AS {name}" for name, expr in fields.items())
    return f"SELECT\n  {body}\nFROM {src}{(' WHERE ' + where) if where else ''}"


def _signals_null() -> dict[str, str]:
    return dict.fromkeys(SIGNAL_COLUMNS, "CAST(NULL AS DOUBLE)")


def _no_resource_details() -> dict[str, str]:
    return dict.fromkeys(RESOURCE_DETAIL_COLUMNS, "CAST(NULL AS VARCHAR)")


# Time units FOCUS providers put in ConsumedUnit for instance usage, in seconds.
_TIME_UNITS = {
    "hours": 3600,
    "hour": 3600,
    "hrs": 3600,
    "hr": 3600,
    "h": 3600,
    "instance-hours": 3600,
    "instance hours": 3600,
    "seconds": 1,
    "second": 1,
    "s": 1,
    "minutes": 60,
    "minute": 60,
    "days": 86400,
    "day": 86400,
}


# GPU-hour units (``gpu hours``, ``GPU-Hrs``, ``gpuhour``…): the quantity is GPU time itself.
_GPU_HOUR_UNITS = tuple(
    f"gpu{sep}{word}" for sep in ("", "-", " ", "_") for word in ("hour", "hours", "hr", "hrs")
)


def _unit_fields(unit: str) -> dict[str, str]:
    """``unit_code``, computed once per row: seconds per unit for a time unit, -1 for GPU-hours,
    NULL for anything else."""
    norm = f"lower(trim({unit}))"
    # One list_position over time and GPU-hour units (-1 marks the latter): neither a regex nor
    # an IN list, which DuckDB plans as a join that materialises every row.
    names = [*_TIME_UNITS, *_GPU_HOUR_UNITS]
    values = [*_TIME_UNITS.values(), *(-1 for _ in _GPU_HOUR_UNITS)]
    found = (
        f"[{', '.join(str(v) for v in values)}]"
        f"[list_position([{', '.join(sql_literal(n) for n in names)}], {norm})]"
    )
    return {"unit_code": found}


def _unit_case(unit: str, quantity: str) -> tuple[str, str, str]:
    """(usage seconds, direct GPU-seconds, unit check) SQL over ``_unit_fields``' columns."""
    usage = f"CASE WHEN unit_code > 0 THEN {quantity} * unit_code END"
    direct = f"CASE WHEN unit_code = -1 THEN {quantity} * 3600 END"
    check = f"({unit} IS NOT NULL AND unit_code IS NULL)"
    return usage, direct, check


# --------------------------------------------------------------------------------------------
# Readers


def _two_step(base: dict[str, str], fields: dict[str, str], src: str) -> str:
    """SELECT ``fields`` over an inner SELECT of ``base``: each source expression (JSON parse,
    timestamp cast) is evaluated once per row however often the fields refer to it."""
    inner = _select({"__line": "__line", **base}, src)
    return _select(fields, f"({inner})")


def focus_sql(c: Cols, src: str) -> str:
    """FOCUS 1.0–1.3 cost-and-usage rows (PascalCase column IDs; ``x_`` columns as fallbacks)."""
    has_sku = c.has("SkuPriceDetails")
    base = {
        **({"sku_raw": f"CAST({_quote('SkuPriceDetails')} AS VARCHAR)"} if has_sku else {}),
        "x_hardware": c("x_InstanceType", "x_GpuType"),
        # Text only to report a non-number; a typed Parquet number is always one.
        "qty_text": (
            "CAST(NULL AS VARCHAR)"
            if c.typed.get("ConsumedQuantity") == "number"
            else c("ConsumedQuantity")
        ),
        "qty": c.number("ConsumedQuantity"),
        "unit": c("ConsumedUnit"),
        "category": c("ChargeCategory"),
        "t0": c.time("ChargePeriodStart"),
        "t1": c.time("ChargePeriodEnd"),
        "provider": c("ServiceProviderName", "ProviderName", "HostProviderName"),
        "account": c("SubAccountId", "BillingAccountId"),
        "billing_account": c("BillingAccountId"),
        "principal": c("PrincipalId", "x_PrincipalId"),
        "resource": c("ResourceId"),
        "region": c("RegionId", "RegionName"),
        # What the tenant runs, kept for later name and domain scans.
        "resource_name": c("ResourceName"),
        "tags": _no_empty_object(c.json_text("Tags")),
        "charge_description": c("ChargeDescription"),
    }
    parsed = {
        **{k: k for k in base if k != "sku_raw"},
        "json_ok": "json_ok",
        "sku_values": "sku_values",
        **_unit_fields("unit"),
    }
    hint = "TRY_CAST(sku_values[1] AS DOUBLE)"
    hardware = "coalesce(sku_values[2], x_hardware)"
    usage, direct, bad_unit = _unit_case("unit", "qty")
    reason = f"""CASE
      WHEN category IS NOT NULL AND category <> 'Usage' THEN 'skip:ChargeCategory ' || category
      WHEN NOT json_ok THEN 'SkuPriceDetails is not valid JSON'
      WHEN {hardware} IS NULL AND {hint} IS NULL THEN 'skip:no GPU in SkuPriceDetails'
      WHEN t0 IS NULL THEN 'ChargePeriodStart is not a timestamp'
      WHEN t1 IS NULL THEN 'ChargePeriodEnd is not a timestamp'
      WHEN qty_text IS NOT NULL AND qty IS NULL THEN 'ConsumedQuantity is not a number'
      WHEN {bad_unit} THEN 'ConsumedUnit ' || unit || ' is not a time unit'
    END"""
    fields = {
        "source_line": "__line",
        "record_kind": "'allocation'",
        "provider": "provider",
        "account": "account",
        "billing_account": "billing_account",
        "principal": "principal",
        "resource": "resource",
        "job_key": "resource",
        "hardware_name": hardware,
        "gpu_count_hint": hint,
        "nodes": "CAST(NULL AS BIGINT)",
        "start_s": "t0",
        "end_s": "t1",
        # Without ConsumedQuantity the charge period itself is the usage.
        "usage_seconds": f"coalesce({usage}, CASE WHEN qty IS NULL THEN t1 - t0 END)",
        "gpu_seconds_direct": direct,
        "region": "region",
        "state": "CAST(NULL AS VARCHAR)",
        **_signals_null(),
        "resource_name": "resource_name",
        "tags": "tags",
        "charge_description": "charge_description",
        "reject_reason": reason,
    }
    inner = _select({"__line": "__line", **base}, src)
    return _two_step(
        parsed,
        fields,
        _with_sku(inner, src)
        if has_sku
        else f"""(
      SELECT *, TRUE AS json_ok, CAST(NULL AS VARCHAR[]) AS sku_values FROM ({inner}))""",
    )


def _with_sku(inner: str, src: str) -> str:
    """``inner`` with SkuPriceDetails parsed: JSON validity and [GpuCount, InstanceType].

    A file holds few distinct SkuPriceDetails texts (one per SKU and price), so each is parsed
    once in a small lookup table joined back on the raw text, not once per row."""
    lookup = f"""SELECT sku_raw, (sku IS NULL OR json_valid(sku)) AS json_ok,
        CASE WHEN sku IS NOT NULL AND json_valid(sku)
          THEN json_extract_string(sku, ['$.GpuCount', '$.InstanceType']) END AS sku_values
      FROM (SELECT sku_raw, NULLIF(trim(sku_raw), '') AS sku FROM (
        SELECT DISTINCT CAST({_quote("SkuPriceDetails")} AS VARCHAR) AS sku_raw FROM {src})
        WHERE sku_raw IS NOT NULL)"""
    return f"""(SELECT i.* EXCLUDE (sku_raw), coalesce(m.json_ok, TRUE) AS json_ok, m.sku_values
      FROM ({inner}) i LEFT JOIN ({lookup}) m ON i.sku_raw = m.sku_raw)"""


def cur_sql(c: Cols, src: str, product_is_map: bool) -> str:
    """AWS CUR 2.0 rows; ``product`` is a map in Parquet and a JSON object in CSV exports."""

    def product(key: str) -> str:
        if not c.has("product"):
            return "NULL"
        if product_is_map:
            return f"CAST(element_at(product, {sql_literal(key)})[1] AS VARCHAR)"
        return (
            f"CASE WHEN json_valid(CAST(product AS VARCHAR)) THEN "
            f"json_extract_string(CAST(product AS VARCHAR), '$.{key}') END"
        )

    hardware = f"coalesce({c('product_instance_type')}, {product('instance_type')})"
    # The legacy product/gpu attribute: "number of GPUs" per instance (EC2 and SageMaker).
    hint = num(product("gpu"))
    start = c.time("line_item_usage_start_date")
    end = c.time("line_item_usage_end_date")
    amount = c.number("line_item_usage_amount")
    item_type = c("line_item_line_item_type")
    reason = f"""CASE
      WHEN {item_type} IS NOT NULL
        AND {item_type} NOT IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
        THEN 'skip:line_item_line_item_type ' || {item_type}
      WHEN {hardware} IS NULL AND coalesce({hint}, 0) = 0 THEN 'skip:no GPU instance'
      WHEN {start} IS NULL THEN 'line_item_usage_start_date is not a timestamp'
      WHEN {end} IS NULL THEN 'line_item_usage_end_date is not a timestamp'
      WHEN {amount} IS NULL THEN 'line_item_usage_amount is not a number'
    END"""
    fields = {
        "source_line": "__line",
        "record_kind": "'allocation'",
        "provider": "'AWS'",
        "account": c("line_item_usage_account_id", "bill_payer_account_id"),
        "billing_account": c("bill_payer_account_id"),
        "principal": c("line_item_iam_principal", "line_item_user_identifier"),
        "resource": c("line_item_resource_id"),
        "job_key": c("line_item_resource_id"),
        "hardware_name": hardware,
        # product/gpu = 0 or absent on CPU instances: leave it to the catalogue.
        "gpu_count_hint": f"CASE WHEN {hint} > 0 THEN {hint} END",
        "nodes": "CAST(NULL AS BIGINT)",
        "start_s": start,
        "end_s": end,
        # line_item_usage_amount is in hours for BoxUsage/SpotUsage/DedicatedUsage lines.
        "usage_seconds": f"{amount} * 3600",
        "gpu_seconds_direct": "CAST(NULL AS DOUBLE)",
        "region": f"coalesce({c('product_region_code')}, {product('region')})",
        "state": "CAST(NULL AS VARCHAR)",
        **_signals_null(),
        **_cur_resource_fields(c),
        "reject_reason": reason,
    }
    return _select(fields, src)


# CUR 2.0 normalises tag keys: the user tag ``Name`` becomes ``user_name`` in ``resource_tags``.
_CUR_NAME_TAG = "user_name"


def _cur_resource_fields(c: Cols) -> dict[str, str]:
    """Resource name, tags and line item description of a CUR 2.0 row.

    ``resource_tags`` is a map in Parquet and a JSON object in CSV exports; exports that flatten
    it write one ``resource_tags_<key>`` column per tag (legacy CUR: ``resourceTags/<key>``)."""
    flat = sorted(
        n for n in c.present if n.startswith(("resource_tags_", "resourceTags/")) and n != "__line"
    )
    if c.has("resource_tags"):
        tags = _no_empty_object(c.json_text("resource_tags"))
        if c.typed.get("resource_tags") == "nested":
            name = f"CAST(element_at(resource_tags, {sql_literal(_CUR_NAME_TAG)})[1] AS VARCHAR)"
        else:
            name = (
                f"CASE WHEN json_valid({tags}) THEN "
                f"json_extract_string({tags}, '$.{_CUR_NAME_TAG}') END"
            )
    elif flat:
        keys = [n.removeprefix("resource_tags_").removeprefix("resourceTags/") for n in flat]
        pairs = ", ".join(f"{sql_literal(k)}, {c(n)}" for k, n in zip(keys, flat, strict=True))
        nonnull = " OR ".join(f"{c(n)} IS NOT NULL" for n in flat)
        tags = f"CASE WHEN {nonnull} THEN CAST(json_object({pairs}) AS VARCHAR) END"
        names = [n for n, k in zip(flat, keys, strict=True) if k in (_CUR_NAME_TAG, "user:Name")]
        name = c(*names) if names else "CAST(NULL AS VARCHAR)"
    else:
        tags = name = "CAST(NULL AS VARCHAR)"
    return {
        "resource_name": name,
        "tags": tags,
        "charge_description": c("line_item_line_item_description"),
    }


def _no_empty_object(expr: str) -> str:
    """NULL for an empty tag object: untagged resources should not fill a column with ``{}``."""
    return f"NULLIF(NULLIF({expr}, '{{}}'), '[]')"


_JOBID = r"^(\d+)(?:_(\d+|\[[^]]*\]))?(?:\+(\d+))?(?:\.(.+))?$"


def sacct_sql(c: Cols, src: str) -> str:
    """``sacct --parsable2`` rows: the job allocation counts GPU time, steps carry GPU usage."""
    tres = c("AllocTRES")
    plain = f"TRY_CAST(regexp_extract({tres}, '(?:^|,)gres/gpu=(\\d+)', 1) AS DOUBLE)"
    typed = f"regexp_extract({tres}, '(?:^|,)gres/gpu:([^=,]+)=(\\d+)', ['t', 'n'])"
    # Count GPUs from gres/gpu or the typed entry, never both (sacct lists both when typed).
    count = f"coalesce({plain}, TRY_CAST(NULLIF({typed}.n, '') AS DOUBLE))"
    jobid = c("JobID", "JobIDRaw")
    parts = f"regexp_extract({jobid}, '{_JOBID}', ['job', 'task', 'het', 'step'])"
    base_job = (
        f"CASE WHEN {parts}.job = '' THEN NULL WHEN {parts}.task <> '' "
        f"THEN {parts}.job || '_' || {parts}.task ELSE {parts}.job END"
    )
    is_step = f"({parts}.step <> '')"
    elapsed = num(c("ElapsedRaw"))
    start = epoch_s(c("Start"))
    end_given = epoch_s(c("End"))
    end = f"coalesce({end_given}, {start} + CAST({elapsed} AS BIGINT))"
    usage = c("TRESUsageInAve", "TRESUsageInTot")
    gpuutil_text = f"regexp_extract({usage}, '(?:^|,)gres/gpuutil=([0-9.]+)', 1)"
    gpuutil = f"TRY_CAST(NULLIF({gpuutil_text}, '') AS DOUBLE)"
    state = c("State")
    reason = f"""CASE
      WHEN {parts}.job = ''
        THEN 'JobID ' || coalesce({jobid}, '(empty)') || ' is not a Slurm job id'
      WHEN {count} IS NULL OR {count} = 0 THEN 'skip:no gres/gpu in AllocTRES'
      WHEN {start} IS NULL
        THEN 'skip:job never started (Start ' || coalesce({c("Start")}, '') || ')'
      WHEN {elapsed} IS NULL THEN 'ElapsedRaw is not a number'
    END"""
    fields = {
        "source_line": "__line",
        "record_kind": f"CASE WHEN {is_step} THEN 'telemetry' ELSE 'allocation' END",
        "provider": c("Cluster"),
        "account": c("Account"),
        "billing_account": c("Account"),
        "principal": c("User"),
        "resource": c("NodeList"),
        "job_key": base_job,
        "hardware_name": f"NULLIF({typed}.t, '')",
        "gpu_count_hint": count,
        "nodes": f"TRY_CAST({c('NNodes', 'AllocNodes')} AS BIGINT)",
        "start_s": start,
        "end_s": end,
        "usage_seconds": elapsed,
        "gpu_seconds_direct": "CAST(NULL AS DOUBLE)",
        "region": c("Cluster"),
        "state": state,
        **_signals_null(),
        "gpu_util": f"{gpuutil} / 100.0",
        # The job name is what the tenant calls its work (often the model being trained).
        "resource_name": c("JobName"),
        "tags": "CAST(NULL AS VARCHAR)",
        "charge_description": "CAST(NULL AS VARCHAR)",
        "reject_reason": reason,
    }
    return _select(fields, src)


# DCGM metrics we aggregate, and the usage column each feeds.
_DCGM_UTIL = "DCGM_FI_DEV_GPU_UTIL"
_DCGM_TENSOR = "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE"
_DCGM_FB_USED = "DCGM_FI_DEV_FB_USED"
_DCGM_FB_FREE = "DCGM_FI_DEV_FB_FREE"
_DCGM_POWER = "DCGM_FI_DEV_POWER_USAGE"
_DCGM_LINK = (
    "DCGM_FI_PROF_NVLINK_TX_BYTES",
    "DCGM_FI_PROF_NVLINK_RX_BYTES",
    "DCGM_FI_PROF_PCIE_TX_BYTES",
    "DCGM_FI_PROF_PCIE_RX_BYTES",
)


def dcgm_sql(c: Cols, src: str) -> str:
    """DCGM exporter samples (long layout) → one telemetry row per GPU and job/pod."""
    ts = epoch_s(c("timestamp"))
    value = num(c("value"))
    metric = c("metric")
    gpu_id = f"coalesce({c('UUID')}, {c('Hostname')} || ':' || {c('gpu')})"
    job = f"coalesce({c('hpc_job')}, {c('namespace')} || '/' || {c('pod')})"
    links = ", ".join(sql_literal(m) for m in _DCGM_LINK)
    # Kubernetes labels: the Prometheus staging gathers them as JSON; a CSV dump has container.
    container = c("container")
    labels = (
        c("labels")
        if c.has("labels")
        else f"CASE WHEN {container} IS NOT NULL THEN "
        f"CAST(json_object('container', {container}) AS VARCHAR) END"
    )
    samples = f"""SELECT __line, {ts} AS ts, {value} AS v, {metric} AS metric, {gpu_id} AS gpu_id,
        {job} AS job, {c("namespace")} AS namespace, {c("Hostname")} AS host,
        {c("modelName")} AS model, {c("pod")} AS pod, {labels} AS labels,
        CASE WHEN {ts} IS NULL THEN 'timestamp is not a time'
             WHEN {value} IS NULL THEN 'value is not a number'
             WHEN NOT isfinite({value}) THEN 'value is not a finite number'
             WHEN {gpu_id} IS NULL THEN 'no UUID or Hostname+gpu label' END AS reject_reason
      FROM {src}"""
    good = "reject_reason IS NULL"

    def avg(name: str) -> str:
        return f"avg(v) FILTER (WHERE metric = {sql_literal(name)})"

    fb_used = avg(_DCGM_FB_USED)
    fb_free = avg(_DCGM_FB_FREE)
    # Sample spacing: a GPU's samples cover [first, last + one interval).
    span = "max(ts) - min(ts)"
    n_ts = "count(DISTINCT ts)"
    step = f"CASE WHEN {n_ts} > 1 THEN CAST(round(({span}) / ({n_ts} - 1)) AS BIGINT) ELSE 0 END"
    grouped = f"""SELECT min(__line) AS source_line, gpu_id, job, any_value(namespace) AS namespace,
        any_value(host) AS host, any_value(model) AS model, any_value(pod) AS pod,
        any_value(labels) AS labels, min(ts) AS start_s,
        max(ts) + {step} AS end_s, {avg(_DCGM_UTIL)} / 100.0 AS gpu_util,
        {avg(_DCGM_TENSOR)} AS tensor_active,
        {fb_used} / NULLIF({fb_used} + {fb_free}, 0) AS fb_used_frac,
        stddev_pop(v) FILTER (WHERE metric = {sql_literal(_DCGM_FB_USED)}) / NULLIF({fb_used}, 0)
          AS fb_used_cv,
        {avg(_DCGM_POWER)} AS power_w,
        sum(v) FILTER (WHERE metric IN ({links}))
          / NULLIF(count(DISTINCT ts) FILTER (WHERE metric IN ({links})), 0)
          AS interconnect_bytes_per_s
      FROM ({samples}) WHERE {good} GROUP BY gpu_id, job"""
    rejected = f"""SELECT __line AS source_line, reject_reason FROM ({samples})
      WHERE NOT ({good})"""
    accepted = f"""SELECT source_line, 'telemetry' AS record_kind, 'dcgm' AS provider,
        namespace AS account, namespace AS billing_account, NULL AS principal, host AS resource,
        job AS job_key, model AS hardware_name, 1.0 AS gpu_count_hint,
        CAST(NULL AS BIGINT) AS nodes, start_s, end_s,
        CAST(end_s - start_s AS DOUBLE) AS usage_seconds,
        CAST(NULL AS DOUBLE) AS gpu_seconds_direct, NULL AS region, NULL AS state,
        gpu_util, tensor_active, fb_used_frac, fb_used_cv, power_w, interconnect_bytes_per_s,
        pod AS resource_name, labels AS tags, CAST(NULL AS VARCHAR) AS charge_description,
        CAST(NULL AS VARCHAR) AS reject_reason
      FROM ({grouped})"""
    # Rejected samples keep NULL for every usage column; the pipeline only reads their reason.
    nulls = ", ".join(f"NULL AS {name}" for name in RAW_COLUMNS[1:-1])
    return f"{accepted}\nUNION ALL\nSELECT source_line, {nulls}, reject_reason FROM ({rejected})"


def alibaba_sql(c: Cols, src: str) -> str:
    """The public Alibaba GPU traces: v2023 pods, v2025 DLRM instances, v2026 GenAI requests."""
    base = str(ALIBABA_EPOCH_S)
    if c.has("predict_type"):
        # One request = one GPU busy for exec_time_seconds, for customer group groupId.
        start = epoch_s(c("gmt_create"))
        secs = num(c("exec_time_seconds"))
        account, job, hint, end = c("groupId"), c("checkpoint_model_version_id"), "1.0", None
        kind_note = "request"
        hardware = "NULL"
        bad_count = "FALSE"
        bad_start = f"{c('gmt_create')} IS NOT NULL AND {start} IS NULL"
        start_field = "gmt_create"
        reason_extra = f"WHEN {secs} IS NULL THEN 'exec_time_seconds is not a number'"
    else:
        start_field = "scheduled_time" if c.has("scheduled_time") else "creation_time"
        created_text = c("scheduled_time", "creation_time")
        created, deleted = num(created_text), num(c("deletion_time"))
        # TRY_CAST: a value beyond BIGINT (1e308) is a bad row, not a failed file.
        start = f"{base} + TRY_CAST({created} AS BIGINT)"
        end = f"{base} + TRY_CAST({deleted} AS BIGINT)"
        secs = f"{deleted} - {created}"
        if c.has("instance_sn"):
            account, job = c("app_name"), c("instance_sn")
            hint = num(c("gpu_request"))
            bad_count = f"{c('gpu_request')} IS NOT NULL AND {hint} IS NULL"
        else:
            account, job = "'alibaba-openb'", c("name")
            # gpu_milli is the share of one GPU a GPU-sharing pod gets (num_gpu == 1).
            gpus, milli = num(c("num_gpu")), num(c("gpu_milli"))
            hint = (
                f"CASE WHEN {gpus} = 1 AND {milli} IS NOT NULL "
                f"THEN {milli} / 1000.0 ELSE {gpus} END"
            )
            bad_count = (
                f"({c('num_gpu')} IS NOT NULL AND {gpus} IS NULL) "
                f"OR ({c('gpu_milli')} IS NOT NULL AND {milli} IS NULL)"
            )
        kind_note = "pod"
        hardware = f"NULLIF({c('gpu_spec')}, '')" if c.has("gpu_spec") else "NULL"
        bad_start = f"{created_text} IS NOT NULL AND {start} IS NULL"
        reason_extra = f"""WHEN {c("deletion_time")} IS NOT NULL AND {end} IS NULL
          THEN 'deletion_time is not a number of seconds'
        WHEN {deleted} IS NULL
          THEN 'skip:{kind_note} has no deletion_time (still running or not recorded)'"""
    end_expr = end if end is not None else f"{start} + TRY_CAST({secs} AS BIGINT)"
    reason = f"""CASE
      WHEN {bad_count} THEN 'GPU count is not a number'
      WHEN {hint} IS NULL OR {hint} = 0 THEN 'skip:{kind_note} uses no GPU'
      WHEN {bad_start} THEN '{start_field} is not a time'
      WHEN {start} IS NULL THEN 'skip:{kind_note} has no start time'
      {reason_extra}
    END"""
    fields = {
        "source_line": "__line",
        "record_kind": "'allocation'",
        "provider": "'alibaba'",
        "account": account,
        "billing_account": account,
        "principal": "NULL",
        "resource": job,
        "job_key": job,
        "hardware_name": hardware,
        "gpu_count_hint": hint,
        "nodes": "CAST(NULL AS BIGINT)",
        "start_s": start,
        "end_s": end_expr,
        "usage_seconds": num(secs),
        "gpu_seconds_direct": "CAST(NULL AS DOUBLE)",
        "region": "NULL",
        "state": c("pod_phase", "predict_status"),
        **_signals_null(),
        **_no_resource_details(),
        "reject_reason": reason,
    }
    return _select(fields, src)


def _alibaba_duty_cycle_sql(staged: Staged) -> str:
    """GenTD26 ``pod_gpu_duty_cycle_anon.csv``: per-container GPU duty cycle (%), sampled each
    minute. It is GPU_UTIL under another name, so it goes through the DCGM aggregation, one
    telemetry row per container of the serving namespace."""
    as_dcgm = f"""(SELECT __line,
        to_timestamp(TRY_CAST(timestamp_anon AS DOUBLE)) AS timestamp,
        '{_DCGM_UTIL}' AS metric, value, container_ip AS UUID, 'alibaba-genai' AS namespace,
        container_ip AS pod
      FROM {staged.from_sql})"""
    names = frozenset({"__line", "timestamp", "metric", "value", "UUID", "namespace", "pod"})
    return dcgm_sql(Cols(names), as_dcgm)


ReaderSql = Callable[[Cols, str], str]


@dataclass(frozen=True)
class FieldNames:
    """The file's own names for what the shared checks test, so a reject names its field."""

    start: str
    end: str
    quantity: str
    gpus: str
    # The quantity is the row's own elapsed time, so it can never exceed end - start (Slurm
    # ElapsedRaw); billing quantities can (one row may cover several instances).
    quantity_is_elapsed: bool = False


def field_names(fmt: str, columns: frozenset[str]) -> FieldNames:
    """Field names of ``fmt`` as the file spells them."""
    if fmt == "focus":
        return FieldNames(
            "ChargePeriodStart", "ChargePeriodEnd", "ConsumedQuantity", "SkuPriceDetails.GpuCount"
        )
    if fmt == "cur":
        return FieldNames(
            "line_item_usage_start_date",
            "line_item_usage_end_date",
            "line_item_usage_amount",
            "product.gpu",
        )
    if fmt == "sacct":
        return FieldNames("Start", "End", "ElapsedRaw", "AllocTRES gres/gpu", True)
    if fmt == "dcgm" or "timestamp_anon" in columns:
        return FieldNames("timestamp", "timestamp", "timestamp", "gpu", True)
    if "predict_type" in columns:
        return FieldNames("gmt_create", "exec_time_seconds", "exec_time_seconds", "GPU count")
    start = "scheduled_time" if "scheduled_time" in columns else "creation_time"
    gpus = "gpu_request" if "instance_sn" in columns else "num_gpu"
    return FieldNames(start, "deletion_time", "deletion_time", gpus, True)


def reader_sql(fmt: str, staged: Staged, product_is_map: bool = False) -> str:
    """The raw-column SELECT for ``fmt`` over the staged input."""
    cols = Cols(staged.columns, staged.typed)
    if fmt == "alibaba" and cols.has("timestamp_anon"):
        return _alibaba_duty_cycle_sql(staged)
    if fmt == "cur":
        return cur_sql(cols, staged.from_sql, product_is_map)
    readers: dict[str, ReaderSql] = {
        "focus": focus_sql,
        "sacct": sacct_sql,
        "dcgm": dcgm_sql,
        "alibaba": alibaba_sql,
    }
    return readers[fmt](cols, staged.from_sql)
