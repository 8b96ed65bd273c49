"""Usage benchmark: ingest and summarise N million FOCUS rows from Parquet (default 10 million).

Prints, in one run: rows/s and peak memory for DuckDB (computekyc's default engine: ingest +
per-account/day summary; on every core and on one thread), for pandas on the same file, and
for Spark local summarising the ingested dataset. pandas runs three ways: the same job as
computekyc (checks, chips, midnight split, normalised Parquet written, summary), aggregation
only (the raw rows in memory, nothing checked or stored), and the summary alone on computekyc's
normalised rows. Each engine runs in its own subprocess so that its peak RSS (ru_maxrss; for
Spark also the JVM's VmHWM) is its own.

    .venv/bin/python benchmarks/bench_usage.py [--rows 10000000] [--skip-spark]

Targets: DuckDB >= 10x pandas, <= 2 GB peak. Data goes to a temp dir, never into the repo."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from computekyc.settings import THREADS_ENV

# A FOCUS 1.2-style export: hourly instance rows, SkuPriceDetails JSON, typed timestamps.
# 40,000 instances of 5,000 sub-accounts under 50 billing accounts; one in 10 instance types is
# unknown to the chip catalogue (reported, kept with its GpuCount).
INSTANCES = 40_000
GENERATE_SQL = """
COPY (
  SELECT
    'BA-' || (r % 50) AS BillingAccountId,
    'SA-' || (r % 5000) AS SubAccountId,
    'Usage' AS ChargeCategory,
    TIMESTAMPTZ '2025-03-01 00:00:00+00' + to_hours(h) AS ChargePeriodStart,
    TIMESTAMPTZ '2025-03-01 00:00:00+00' + to_hours(h + 1) AS ChargePeriodEnd,
    CAST(1 AS DOUBLE) AS ConsumedQuantity,
    'Hours' AS ConsumedUnit,
    'i-' || r AS ResourceId,
    'us-east-1' AS RegionId,
    'AWS' AS ProviderName,
    'AWS' AS ServiceProviderName,
    'Compute' AS ServiceCategory,
    '{{"GpuCount": ' || gpus || ', "InstanceType": "' || itype || '"}}' AS SkuPriceDetails,
    CAST(gpus * 2.5 AS DOUBLE) AS BilledCost
  FROM (
    SELECT i % {instances} AS r, i // {instances} AS h,
      CASE i % {instances} % 10 WHEN 0 THEN 'p5.48xlarge' WHEN 1 THEN 'p4d.24xlarge'
        WHEN 2 THEN 'a3-highgpu-8g' WHEN 3 THEN 'g5.xlarge' WHEN 4 THEN 'g6.xlarge'
        WHEN 5 THEN 'Standard_ND96isr_H100_v5' WHEN 6 THEN 'g5.12xlarge'
        WHEN 7 THEN 'p5.48xlarge' WHEN 8 THEN 'p4d.24xlarge' ELSE 'zz.unknown' END AS itype,
      CASE i % {instances} % 10 WHEN 3 THEN 1 WHEN 4 THEN 1 WHEN 6 THEN 4 ELSE 8 END AS gpus
    FROM range({rows}) t(i)
  )
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 500000)
"""


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU seconds of this process, all threads: on a shared, loaded machine a fairer measure of
    work done than wall time (which also counts waiting for a core)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def generate(path: Path, rows: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(GENERATE_SQL.format(rows=rows, instances=INSTANCES, path=path))
    con.close()


def worker_duckdb(data: Path, home: Path) -> dict[str, Any]:
    from computekyc.settings import Settings
    from computekyc.usage import DuckDBEngine, UsageStore, ingest_file, summary

    store = UsageStore(home / "usage", threads=Settings.from_env().threads)  # $COMPUTEKYC_THREADS
    c0, t0 = cpu_s(), time.perf_counter()
    report = ingest_file(data, "focus", store)
    c1, t1 = cpu_s(), time.perf_counter()
    accounts = summary(DuckDBEngine(store))
    c2, t2 = cpu_s(), time.perf_counter()
    return {
        "ingest_s": t1 - t0,
        "summary_s": t2 - t1,
        "ingest_cpu_s": c1 - c0,
        "summary_cpu_s": c2 - c1,
        "rows_stored": report.rows_stored,
        "unknown": [(u.name, u.rows) for u in report.unknown_hardware],
        "accounts": len(accounts),
        "gpu_hours": sum(a["gpu_hours"] for a in accounts),
        "peak_rss_mb": peak_rss_mb(),
    }


def pandas_summary(df: Any, start: str, end: str, util: Any) -> dict[str, Any]:
    """The summary aggregation in pandas: sums per account/day/chip, peak concurrency per day.

    ``df`` has account, day, chip, controlled, gpu_count, gpu_seconds, peak_ops_per_gpu,
    h100_equivalents and the two time columns named by ``start`` and ``end``.
    """
    import pandas as pd

    df["chip"] = df["chip"].fillna("(unknown)")
    df["peak"] = df["peak_ops_per_gpu"].fillna(0.0)
    df["ops"] = df["gpu_seconds"] * df["peak"] * util
    df["h100s"] = df["gpu_seconds"] * df["h100_equivalents"].fillna(0.0)
    df["ctrl"] = df["gpu_seconds"].where(df["controlled"].fillna(False).astype(bool), 0.0)

    by_chip = df.groupby(["account", "day", "chip"])[["gpu_seconds", "ctrl", "h100s", "ops"]].sum()
    # Peak concurrency: +GPUs at start, -GPUs at end, ends first at equal times.
    frames = []
    for column, kind, sign in ((start, 1, 1), (end, 0, -1)):
        frames.append(
            pd.DataFrame(
                {
                    "account": df["account"],
                    "day": df["day"],
                    "ts": df[column],
                    "kind": kind,
                    "dg": sign * df["gpu_count"],
                    "dops": sign * df["gpu_count"] * df["peak"],
                }
            )
        )
    events = pd.concat(frames)
    events = events.groupby(["account", "day", "ts", "kind"], as_index=False)[["dg", "dops"]].sum()
    events = events.sort_values(["account", "ts", "kind"], kind="stable")
    events["gpus"] = events.groupby("account")["dg"].cumsum()
    events["opss"] = events.groupby("account")["dops"].cumsum()
    peaks = events.groupby(["account", "day"])[["gpus", "opss"]].max()
    return {
        "accounts": int(by_chip.index.get_level_values(0).nunique()),
        "gpu_hours": float(by_chip["gpu_seconds"].sum() / 3600),
        "peak_days": len(peaks),
    }


_FOCUS_COLUMNS = [
    "BillingAccountId",
    "SubAccountId",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ConsumedQuantity",
    "ConsumedUnit",
    "SkuPriceDetails",
]


def pandas_focus_frame(data: Path, extra: tuple[str, ...] = ()) -> Any:
    """The FOCUS rows in pandas with GpuCount/InstanceType extracted and chips joined."""
    import pandas as pd
    import pyarrow.parquet as pq

    from computekyc.usage.hardware import hardware_table

    df = pq.read_table(data, columns=[*_FOCUS_COLUMNS, *extra]).to_pandas()
    df["line"] = df.index + 1
    df["itype"] = df["SkuPriceDetails"].str.extract(r'"InstanceType":\s*"([^"]+)"')[0]
    df["gpus"] = pd.to_numeric(df["SkuPriceDetails"].str.extract(r'"GpuCount":\s*(\d+)')[0])
    hw, _ = hardware_table(df["itype"].dropna().unique().tolist())
    lookup = pd.DataFrame([asdict(h) for h in hw]).set_index("name")
    df = df.join(lookup, on="itype")
    df["gpu_count"] = df["gpus"].fillna(df["unit_count"])
    df["account"] = df["SubAccountId"].fillna(df["BillingAccountId"])
    return df


def worker_pandas(data: Path) -> dict[str, Any]:
    """pandas aggregating the raw FOCUS rows in memory: no validation, no day split, no store."""
    c0, t0 = cpu_s(), time.perf_counter()
    df = pandas_focus_frame(data)
    df = df[df["ChargeCategory"] == "Usage"]
    df["gpu_seconds"] = df["ConsumedQuantity"] * 3600 * df["gpu_count"]
    df["day"] = df["ChargePeriodStart"].dt.floor("D")
    result = pandas_summary(df, "ChargePeriodStart", "ChargePeriodEnd", 0.4)
    return {
        "total_s": time.perf_counter() - t0,
        "cpu_s": cpu_s() - c0,
        **result,
        "peak_rss_mb": peak_rss_mb(),
    }


# Seconds per ConsumedUnit, as computekyc's FOCUS reader accepts them (lower-cased).
_UNIT_SECONDS = {"hours": 3600, "hour": 3600, "hrs": 3600, "hr": 3600, "h": 3600, "seconds": 1}


def worker_pandas_full(data: Path, out: Path) -> dict[str, Any]:
    """pandas doing computekyc's whole job on the same file: the checks that reject or skip rows,
    chip resolution, the split at UTC midnights, the normalised rows written to Parquet in
    USAGE_SCHEMA (zstd, like the store), then the same summary on the frame still in memory."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from computekyc.usage.schema import RESOURCE_DETAIL_COLUMNS, SIGNAL_COLUMNS, USAGE_SCHEMA

    c0, t0 = cpu_s(), time.perf_counter()
    df = pandas_focus_frame(data, ("ResourceId", "RegionId", "ServiceProviderName"))
    df = df[df["ChargeCategory"] == "Usage"]
    epoch = pd.Timestamp(0, tz="UTC")
    df["start_s"] = (df["ChargePeriodStart"] - epoch) // pd.Timedelta(seconds=1)
    df["end_s"] = (df["ChargePeriodEnd"] - epoch) // pd.Timedelta(seconds=1)
    unit_s = df["ConsumedUnit"].str.strip().str.lower().map(_UNIT_SECONDS)
    bad = (
        df["start_s"].isna()
        | df["end_s"].isna()
        | (df["end_s"] < df["start_s"])
        | (df["ConsumedQuantity"] < 0)
        | unit_s.isna()
    )
    rejected = int(bad.sum())
    df = df[~bad & (df["gpu_count"] > 0)]
    unit_s = unit_s[df.index]
    df["gpu_total"] = df["ConsumedQuantity"] * unit_s * df["gpu_count"]
    # Split rows that cross a UTC midnight into one row per day, GPU-seconds pro rata.
    first = df["start_s"] // 86400
    last = np.maximum(df["end_s"] - 1, df["start_s"]) // 86400
    repeat = (last - first + 1).to_numpy()
    if (repeat > 1).any():
        df = df.loc[df.index.repeat(repeat)]
        day = (first.loc[df.index] + df.groupby(level=0).cumcount()).to_numpy()
        start = np.maximum(df["start_s"].to_numpy(), day * 86400)
        end = np.minimum(df["end_s"].to_numpy(), (day + 1) * 86400)
        span = (df["end_s"] - df["start_s"]).to_numpy()
        share = np.where(span > 0, (end - start) / np.where(span > 0, span, 1), 1.0)
        df["gpu_total"] = df["gpu_total"] * share
        df["start_s"], df["end_s"] = start, end
    n = len(df)
    none_text = pd.Series([None] * n, dtype=object, index=df.index)
    nan = np.full(n, np.nan)
    rows = pd.DataFrame(
        {
            "source_format": "focus",
            "source_file": str(data),
            "source_line": df["line"],
            "record_kind": "allocation",
            "provider": df["ServiceProviderName"],
            "account": df["account"],
            "billing_account": df["BillingAccountId"],
            "principal": none_text,
            "resource": df["ResourceId"],
            "job_key": df["ResourceId"],
            "hardware_name": df["itype"],
            "chip": df["chip"],
            "controlled": df["controlled"],
            "eccn": df["eccn"],
            "peak_ops_per_gpu": df["peak_ops_per_gpu"],
            "h100_equivalents": df["h100_equivalents"],
            "gpu_count": df["gpu_count"],
            "nodes": pd.array([None] * n, dtype="Int64"),
            "start_time": pd.to_datetime(df["start_s"], unit="s", utc=True),
            "end_time": pd.to_datetime(df["end_s"], unit="s", utc=True),
            "start_s": df["start_s"],
            "end_s": df["end_s"],
            "gpu_seconds": df["gpu_total"],
            "region": df["RegionId"],
            "state": none_text,
            **dict.fromkeys(SIGNAL_COLUMNS, nan),
            # The generated FOCUS rows carry no ResourceName, Tags or ChargeDescription.
            **dict.fromkeys(RESOURCE_DETAIL_COLUMNS, none_text),
        }
    )
    table = pa.Table.from_pandas(rows, schema=USAGE_SCHEMA, preserve_index=False)
    pq.write_table(table, out, compression="zstd")
    del table
    t_written = time.perf_counter()
    rows["day"] = rows["start_s"] // 86400
    result = pandas_summary(rows, "start_s", "end_s", 0.4)
    return {
        "total_s": time.perf_counter() - t0,
        "ingest_s": t_written - t0,
        "cpu_s": cpu_s() - c0,
        "rows_stored": n,
        "rejected": rejected,
        **result,
        "peak_rss_mb": peak_rss_mb(),
    }


def worker_pandas_normalised(home: Path) -> dict[str, Any]:
    """pandas on computekyc's normalised rows: exactly the aggregation DuckDB's summary does."""
    import pyarrow.dataset as ds

    from computekyc.usage.schema import USAGE_SCHEMA

    t0 = time.perf_counter()
    cols = [
        "account",
        "chip",
        "controlled",
        "peak_ops_per_gpu",
        "h100_equivalents",
        "gpu_count",
        "start_s",
        "end_s",
        "gpu_seconds",
        "tensor_active",
    ]
    # The full schema: a rows file leaves out columns that are NULL in all its rows.
    dataset = ds.dataset(str(home / "usage" / "rows"), format="parquet", schema=USAGE_SCHEMA)
    df = dataset.to_table(columns=cols).to_pandas()
    df["day"] = df["start_s"] // 86400
    result = pandas_summary(df, "start_s", "end_s", df["tensor_active"].fillna(0.4))
    return {"total_s": time.perf_counter() - t0, **result, "peak_rss_mb": peak_rss_mb()}


def worker_spark(home: Path) -> dict[str, Any]:
    from computekyc.spark import spark_session
    from computekyc.usage import SparkEngine, UsageStore, summary

    t0 = time.perf_counter()
    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    jvm_pid = int(session._jvm.java.lang.ProcessHandle.current().pid())
    t1 = time.perf_counter()
    accounts = summary(SparkEngine(UsageStore(home / "usage"), session=session))
    t2 = time.perf_counter()
    jvm_hwm_kb = 0
    for line in Path(f"/proc/{jvm_pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            jvm_hwm_kb = int(line.split()[1])
    session.stop()
    return {
        "startup_s": t1 - t0,
        "summary_s": t2 - t1,
        "accounts": len(accounts),
        "gpu_hours": sum(a["gpu_hours"] for a in accounts),
        "peak_rss_mb": peak_rss_mb(),
        "jvm_peak_rss_mb": jvm_hwm_kb / 1024,
    }


def run_worker(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if out.returncode != 0:
        raise SystemExit(f"worker {args[0]} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *paths = args.worker
        if kind == "duckdb":
            result = worker_duckdb(Path(paths[0]), Path(paths[1]))
        elif kind == "pandas":
            result = worker_pandas(Path(paths[0]))
        elif kind == "pandas-full":
            result = worker_pandas_full(Path(paths[0]), Path(paths[1]))
        elif kind == "pandas-normalised":
            result = worker_pandas_normalised(Path(paths[0]))
        else:
            result = worker_spark(Path(paths[0]))
        print(json.dumps(result))
        return

    rows = args.rows
    print(f"{os.cpu_count()} CPUs, {load()} at start")
    with tempfile.TemporaryDirectory(prefix="ck-bench-usage-") as tmp:
        data = Path(tmp) / "focus.parquet"
        t0 = time.perf_counter()
        generate(data, rows)
        size_mb = data.stat().st_size / 1e6
        print(
            f"generated {rows:,} FOCUS rows ({size_mb:,.0f} MB Parquet) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        home = Path(tmp) / "home"
        duck = run_worker("duckdb", str(data), str(home))
        duck_total = duck["ingest_s"] + duck["summary_s"]
        print(
            f"duckdb : ingest {duck['ingest_s']:.1f} s + summary {duck['summary_s']:.1f} s = "
            f"{duck_total:.1f} s, {rows / duck_total:,.0f} rows/s, "
            f"CPU {duck['ingest_cpu_s']:.1f} + {duck['summary_cpu_s']:.1f} s, "
            f"peak RSS {duck['peak_rss_mb']:,.0f} MB; {duck['accounts']:,} accounts, "
            f"{duck['gpu_hours']:,.0f} GPU-h; unknown hardware {duck['unknown']}"
        )
        # The same run on one thread: how much of the gap to pandas is parallelism (DuckDB uses
        # every core, pandas one) and how much is per-core efficiency.
        one = run_worker("duckdb", str(data), str(Path(tmp) / "home-1"), env={THREADS_ENV: "1"})
        one_total = one["ingest_s"] + one["summary_s"]
        print(
            f"duckdb, 1 thread: ingest {one['ingest_s']:.1f} s + summary {one['summary_s']:.1f} s "
            f"= {one_total:.1f} s, peak RSS {one['peak_rss_mb']:,.0f} MB; "
            f"{os.cpu_count()} threads are {one_total / duck_total:.2f}x faster"
        )
        full = run_worker("pandas-full", str(data), str(Path(tmp) / "pandas-rows.parquet"))
        print(
            f"pandas, the same job (checks, chips, day split, normalised Parquet written, "
            f"summary): ingest {full['ingest_s']:.1f} s, total {full['total_s']:.1f} s, "
            f"{rows / full['total_s']:,.0f} rows/s, CPU {full['cpu_s']:.1f} s, peak RSS "
            f"{full['peak_rss_mb']:,.0f} MB; {full['rows_stored']:,} rows stored, "
            f"{full['accounts']:,} accounts, {full['gpu_hours']:,.0f} GPU-h"
        )
        pandas = run_worker("pandas", str(data))
        print(
            f"pandas, aggregation only (raw rows in memory; nothing checked, split or stored): "
            f"{pandas['total_s']:.1f} s, {rows / pandas['total_s']:,.0f} rows/s, "
            f"CPU {pandas['cpu_s']:.1f} s, peak RSS {pandas['peak_rss_mb']:,.0f} MB; "
            f"{pandas['accounts']:,} accounts, {pandas['gpu_hours']:,.0f} GPU-h"
        )
        same = run_worker("pandas-normalised", str(home))
        print(
            f"pandas, the summary alone on computekyc's normalised rows: {same['total_s']:.1f} s, "
            f"peak RSS {same['peak_rss_mb']:,.0f} MB, {same['gpu_hours']:,.0f} GPU-h"
        )
        duck_cpu = duck["ingest_cpu_s"] + duck["summary_cpu_s"]
        ratios = {
            "same job": (full["total_s"] / duck_total, full["cpu_s"] / duck_cpu),
            "vs aggregation-only pandas": (
                pandas["total_s"] / duck_total,
                pandas["cpu_s"] / duck_cpu,
            ),
            "summary alone": (same["total_s"] / duck["summary_s"], None),
        }
        ratios["same job, duckdb on 1 thread"] = (full["total_s"] / one_total, None)
        for label, (wall, cpu) in ratios.items():
            cpu_text = f", {cpu:.1f}x by CPU time" if cpu is not None else ""
            print(f"ratio, {label}: duckdb {wall:.1f}x pandas (wall){cpu_text}")
        same_job = ratios["same job"][0]
        met = same_job >= 10 and duck["peak_rss_mb"] <= 2048
        print(
            f"targets: >= 10x pandas on the same job ({same_job:.1f}x), <= 2048 MB peak "
            f"(duckdb {duck['peak_rss_mb']:,.0f} MB): {'MET' if met else 'NOT MET'}; {load()}"
        )
        if not args.skip_spark:
            spark = run_worker("spark", str(home))
            print(
                f"spark local[2]: startup {spark['startup_s']:.1f} s, summary "
                f"{spark['summary_s']:.1f} s ({rows / spark['summary_s']:,.0f} rows/s), "
                f"python RSS {spark['peak_rss_mb']:,.0f} MB, JVM peak RSS "
                f"{spark['jvm_peak_rss_mb']:,.0f} MB; {spark['accounts']:,} accounts, "
                f"{spark['gpu_hours']:,.0f} GPU-h (same as duckdb: "
                f"{abs(spark['gpu_hours'] - duck['gpu_hours']) < 1e-6 * duck['gpu_hours']})"
            )
        print(f"{load()} at end")


if __name__ == "__main__":
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    main()
