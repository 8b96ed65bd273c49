"""The accounting and run-segmentation SQL, written once in DuckDB's dialect.

Spark gets the same text through SQLGlot (``engines.to_spark_sql``). Everything here works on
epoch seconds and plain aggregates/window functions so that both engines mean the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from computekyc.usage.hardware import Rate, default_rate, periods
from computekyc.usage.schema import SIGNAL_COLUMNS as _SIGNALS
from computekyc.usage.schema import sql_literal


@dataclass(frozen=True)
class Filters:
    account: str | None = None
    first_day: date | None = None
    last_day: date | None = None


def day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _where(filters: Filters) -> str:
    parts = ["TRUE"]
    if filters.account is not None:
        parts.append(f"account = {exp.Literal.string(filters.account).sql('duckdb')}")
    if filters.first_day is not None:
        parts.append(f"day >= {day_number(filters.first_day)}")
    if filters.last_day is not None:
        parts.append(f"day <= {day_number(filters.last_day)}")
    return " AND ".join(parts)


def _weighted(column: str, prefix: str = "") -> str:
    """GPU-second-weighted mean of a signal over the rows that have it."""
    col = f"{prefix}{column}"
    return (
        f"sum({col} * gpu_seconds) / "
        f"nullif(sum(CASE WHEN {col} IS NOT NULL THEN gpu_seconds END), 0)"
    )


HARDWARE_NAMES_SQL = "SELECT DISTINCT hardware_name, chip FROM usage"


def _double(value: float) -> str:
    return f"CAST({float(value)!r} AS DOUBLE)"


def _rates_cte(rates: Sequence[Rate]) -> str:
    """Table ``rates``: per hardware name and span of days, the chip it counts as, its 3A090
    status under the rules in force on those days, and its per-GPU figures (see
    ``hardware.rates``). Inline literals, so DuckDB and Spark read the very same table."""
    rows = ",\n      ".join(
        f"({sql_literal(r.name)}, {int(r.period)}, {sql_literal(r.chip)}, "
        f"{sql_literal(r.status)}, {_double(r.training_ops_per_gpu)}, "
        f"{_double(r.peak_ops_per_gpu)}, {_double(r.h100_equivalents)})"
        for r in rates or [default_rate()]
    )
    return f"""rates AS (
    SELECT * FROM (VALUES
      {rows}
    ) AS r(rate_name, period, rate_chip, status, training_ops_per_gpu,
      peak_ops_per_gpu, h100_equivalents)
  )"""


def _period_of(day: str) -> str:
    """The rule period of an epoch day, as a CASE (a hash join on it beats a range join)."""
    bounds = [end for _first, end in periods()[:-1]]
    whens = " ".join(f"WHEN {day} < {end} THEN {i}" for i, end in enumerate(bounds))
    return f"CASE {whens} ELSE {len(bounds)} END"


def costed_cte(default_utilisation: float, filters: Filters, rates: Sequence[Rate] = ()) -> str:
    """Allocation rows enriched with their jobs' telemetry, and the operations they imply.

    Telemetry (DCGM samples, Slurm step usage) attaches to the allocation with the same job key;
    telemetry with no allocation counts as usage on its own, so nothing is counted twice. Each
    row is costed and classified by its hardware name under the rules in force on its own day
    (``rates``), not with what was stored at ingest; a name missing from ``rates`` counts as
    unclassified at the assumed minimum chip.
    """
    fallback = default_rate()
    tel_cols = ",\n      ".join(f"{_weighted(s)} AS t_{s}" for s in _SIGNALS)
    signal_cols = ", ".join(f"coalesce(a.{s}, t.t_{s}) AS {s}" for s in _SIGNALS)
    own_cols = ", ".join(f"a.{s}" for s in _SIGNALS)
    common = (
        "coalesce(a.account, '(unattributed)') AS account, "
        "coalesce(a.hardware_name, '') AS hardware_name, a.gpu_count, a.nodes, "
        "a.start_s, a.end_s, a.gpu_seconds, a.source_file, a.source_line, a.job_key, a.state, "
        "a.record_kind"
    )
    return f"""{_rates_cte(rates)},
  tel AS (
    SELECT job_key,
      {tel_cols}
    FROM usage WHERE record_kind = 'telemetry' AND job_key IS NOT NULL GROUP BY job_key
  ),
  alloc_keys AS (
    SELECT DISTINCT job_key FROM usage
    WHERE record_kind = 'allocation' AND job_key IN (SELECT job_key FROM tel)
  ),
  enriched AS (
    SELECT {common}, {signal_cols}
    FROM usage a LEFT JOIN tel t ON a.job_key = t.job_key WHERE a.record_kind = 'allocation'
    UNION ALL
    SELECT {common}, {own_cols}
    FROM usage a LEFT JOIN alloc_keys k ON a.job_key = k.job_key
    WHERE a.record_kind = 'telemetry' AND k.job_key IS NULL
  ),
  dayed AS (
    SELECT *, {_period_of("CAST(floor(start_s / 86400) AS BIGINT)")} AS period,
      CAST(floor(start_s / 86400) AS BIGINT) AS day
    FROM enriched
  ),
  rated AS (
    SELECT e.*,
      coalesce(r.rate_chip, '(unclassified) ' || CASE WHEN e.hardware_name = ''
        THEN '(no hardware name)' ELSE e.hardware_name END) AS chip,
      coalesce(r.status, 'unclassified') AS status,
      coalesce(r.status, '') = 'controlled' AS controlled,
      coalesce(r.training_ops_per_gpu, {_double(fallback.training_ops_per_gpu)})
        AS training_ops_per_gpu,
      coalesce(r.peak_ops_per_gpu, {_double(fallback.peak_ops_per_gpu)}) AS peak_ops_per_gpu,
      coalesce(r.h100_equivalents, {_double(fallback.h100_equivalents)}) AS h100_equivalents
    FROM dayed e LEFT JOIN rates r
      ON e.hardware_name = r.rate_name AND e.period = r.period
  ),
  dated AS (
    SELECT *,
      gpu_seconds * training_ops_per_gpu
        * coalesce(tensor_active, {float(default_utilisation)!r}) AS ops
    FROM rated
  ),
  costed AS (SELECT * FROM dated WHERE {_where(filters)})"""


# Concurrency: +GPUs at each start, −GPUs at each end, summed per instant. Rows never cross
# midnight, so both events of a row belong to the row's day and each day's running sum starts
# from zero: the sweep runs per account and day (smaller sorts, no float residue carried from
# one day to the next). At one instant of one day the net change is what counts: the value
# between its ends and its starts is never above the value before it (starts add), so it cannot
# be a peak, and ends sorting first (back-to-back hourly rows, midnight splits) is the same as
# netting them. Spans shared by many rows (hourly billing of many instances) collapse before
# the events are made, so the aggregation and the window handle far fewer rows.
def _events(
    source: str,
    gpus: str = "gpu_count",
    ops: str = "gpu_count * peak_ops_per_gpu",
    training_ops: str = "gpu_count * training_ops_per_gpu",
) -> str:
    """Concurrent GPUs, theoretical maximum ops/s and training-precision ops/s at each instant."""
    run_no = "run_no" if source == "numbered" else "CAST(0 AS BIGINT) AS run_no"
    return f"""spans AS (
    SELECT account, {run_no}, day, start_s, end_s, sum({gpus}) AS g, sum({ops}) AS o,
      sum({training_ops}) AS t
    FROM {source} GROUP BY account, run_no, day, start_s, end_s
  ),
  events AS (
    SELECT account, run_no, day, start_s AS ts, g AS dg, o AS dops, t AS dtops FROM spans
    UNION ALL
    SELECT account, run_no, day, end_s AS ts, -g AS dg, -o AS dops, -t AS dtops FROM spans
  ),
  instants AS (
    SELECT account, run_no, day, ts, sum(dg) AS dg, sum(dops) AS dops, sum(dtops) AS dtops
    FROM events GROUP BY account, run_no, day, ts
  ),
  concurrency AS (
    SELECT account, run_no, day,
      sum(dg) OVER (PARTITION BY account, day ORDER BY ts, run_no ROWS UNBOUNDED PRECEDING)
        AS gpus,
      sum(dops) OVER (PARTITION BY account, day ORDER BY ts, run_no ROWS UNBOUNDED PRECEDING)
        AS opss,
      sum(dtops) OVER (PARTITION BY account, day ORDER BY ts, run_no ROWS UNBOUNDED PRECEDING)
        AS topss
    FROM instants
  )"""


def _numbered(gap_seconds: int) -> str:
    """Runs: islands of one account's rows with no idle gap longer than ``gap_seconds``."""
    order = "ORDER BY start_s, end_s, source_file, source_line"
    return f"""ordered AS (
    SELECT *, max(end_s) OVER (PARTITION BY account {order}
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
    FROM costed
  ),
  flagged AS (
    SELECT *, CASE WHEN prev_end IS NULL OR start_s > prev_end + {int(gap_seconds)} THEN 1 ELSE 0
      END AS new_run
    FROM ordered
  ),
  numbered AS (
    SELECT *, sum(new_run) OVER (PARTITION BY account {order} ROWS UNBOUNDED PRECEDING) AS run_no
    FROM flagged
  )"""


# Rows of one account, day and chip over the same span (hourly billing of many instances)
# aggregate once; the per-chip totals and the concurrency events both start from these cells,
# so only one aggregation reads every row.
_CELLS = """cells AS (
    SELECT account, day, chip, start_s, end_s,
      sum(gpu_seconds) AS gpu_seconds,
      sum(CASE WHEN controlled THEN gpu_seconds ELSE 0.0 END) AS controlled_seconds,
      sum(CASE WHEN status = 'review' THEN gpu_seconds ELSE 0.0 END) AS review_seconds,
      sum(CASE WHEN status = 'unclassified' THEN gpu_seconds ELSE 0.0 END)
        AS unclassified_seconds,
      sum(gpu_seconds * h100_equivalents) AS h100_seconds, sum(ops) AS ops,
      sum(gpu_count) AS g, sum(gpu_count * peak_ops_per_gpu) AS o,
      sum(gpu_count * training_ops_per_gpu) AS t
    FROM costed GROUP BY account, day, chip, start_s, end_s
  )"""


def _head(
    default_utilisation: float, gap_seconds: int | None, filters: Filters, rates: Sequence[Rate]
) -> str:
    """Shared CTEs; runs (``numbered``) only when ``gap_seconds`` is given."""
    costed = costed_cte(default_utilisation, filters, rates)
    if gap_seconds is None:
        return f"WITH {costed},\n  {_CELLS},\n  {_events('cells', 'g', 'o', 't')}"
    return f"WITH {costed},\n  {_numbered(gap_seconds)},\n  {_events('numbered')}"


def summary_sql(default_utilisation: float, filters: Filters, rates: Sequence[Rate] = ()) -> str:
    """Per account, day and chip: GPU-hours (all, controlled, review, unclassified), H100-eq
    hours, operations; with the account's peak concurrent GPUs and peak ops/s of that day (the
    theoretical maximum, and at the training precision)."""
    return f"""{_head(default_utilisation, None, filters, rates)},
  by_chip AS (
    SELECT account, day, chip, sum(gpu_seconds) / 3600.0 AS gpu_hours,
      sum(controlled_seconds) / 3600.0 AS controlled_gpu_hours,
      sum(review_seconds) / 3600.0 AS review_gpu_hours,
      sum(unclassified_seconds) / 3600.0 AS unclassified_gpu_hours,
      sum(h100_seconds) / 3600.0 AS h100_equivalent_hours, sum(ops) AS estimated_operations
    FROM cells GROUP BY account, day, chip
  ),
  peaks AS (
    SELECT account, day, max(gpus) AS peak_gpus, max(opss) AS peak_ops_per_second,
      max(topss) AS peak_training_ops_per_second
    FROM concurrency GROUP BY account, day
  )
SELECT c.*, p.peak_gpus, p.peak_ops_per_second, p.peak_training_ops_per_second
FROM by_chip c LEFT JOIN peaks p ON c.account = p.account AND c.day = p.day
ORDER BY c.account, c.day, c.chip"""


def runs_sql(
    default_utilisation: float, gap_seconds: int, filters: Filters, rates: Sequence[Rate] = ()
) -> str:
    """One row per run with the features its classification rests on."""
    signals = ",\n  ".join(f"{_weighted(s)} AS {s}" for s in _SIGNALS)
    return f"""{_head(default_utilisation, gap_seconds, filters, rates)},
  peaks AS (
    SELECT account, run_no, max(gpus) AS peak_gpus, max(opss) AS peak_ops_per_second,
      max(topss) AS peak_training_ops_per_second
    FROM concurrency GROUP BY account, run_no
  ),
  agg AS (
    SELECT account, run_no, min(start_s) AS start_s, max(end_s) AS end_s,
      sum(gpu_seconds) AS gpu_seconds, sum(ops) AS estimated_operations,
      sum(gpu_seconds * h100_equivalents) / 3600.0 AS h100_equivalent_hours,
      sum(CASE WHEN controlled THEN gpu_seconds ELSE 0.0 END) / 3600.0 AS controlled_gpu_hours,
      sum(CASE WHEN status = 'review' THEN gpu_seconds ELSE 0.0 END) / 3600.0
        AS review_gpu_hours,
      sum(CASE WHEN status = 'unclassified' THEN gpu_seconds ELSE 0.0 END) / 3600.0
        AS unclassified_gpu_hours,
      count(DISTINCT job_key) AS jobs, max(gpu_count) AS max_job_gpus, max(nodes) AS max_nodes,
      sum(CASE WHEN tensor_active IS NOT NULL OR gpu_util IS NOT NULL THEN gpu_seconds
        ELSE 0.0 END) / nullif(sum(gpu_seconds), 0) AS telemetry_coverage,
      max(CASE WHEN state IN ('RUNNING', 'Running') THEN 1 ELSE 0 END) AS running,
      sum(CASE WHEN state IS NULL THEN 1 ELSE 0 END) AS stateless_rows, count(*) AS row_count,
      {signals}
    FROM numbered GROUP BY account, run_no
  )
SELECT agg.*, peaks.peak_gpus, peaks.peak_ops_per_second, peaks.peak_training_ops_per_second,
  (SELECT max(end_s) FROM usage) AS data_end
FROM agg JOIN peaks ON agg.account = peaks.account AND agg.run_no = peaks.run_no
ORDER BY agg.account, agg.run_no"""


def run_days_sql(
    default_utilisation: float, gap_seconds: int, filters: Filters, rates: Sequence[Rate] = ()
) -> str:
    """Per run, day and chip: GPU-seconds and operations, with the run's peak ops/s that day
    (for chip shares and threshold crossing dates)."""
    return f"""{_head(default_utilisation, gap_seconds, filters, rates)},
  day_ops AS (
    SELECT account, run_no, day, chip,
      sum(gpu_seconds) AS gpu_seconds,
      sum(CASE WHEN status = 'review' THEN gpu_seconds ELSE 0.0 END) AS review_seconds,
      sum(CASE WHEN status = 'unclassified' THEN gpu_seconds ELSE 0.0 END)
        AS unclassified_seconds,
      sum(ops) AS ops, max(end_s) AS last_end, min(start_s) AS first_start
    FROM numbered GROUP BY account, run_no, day, chip
  ),
  day_peaks AS (
    SELECT account, run_no, day, max(opss) AS peak_ops_per_second
    FROM concurrency GROUP BY account, run_no, day
  )
SELECT d.*, coalesce(p.peak_ops_per_second, 0.0) AS peak_ops_per_second
FROM day_ops d LEFT JOIN day_peaks p
  ON d.account = p.account AND d.run_no = p.run_no AND d.day = p.day
ORDER BY d.account, d.run_no, d.day, d.chip"""
