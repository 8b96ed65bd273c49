"""Compute accounting per account and day, and training-run detection, on either engine.

The SQL in :mod:`computekyc.usage.sql` does the heavy lifting on DuckDB or Spark; this module only
shapes its small results (per account-day, per run) and applies the classification rules and
thresholds, so both engines go through one definition of the logic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from computekyc.bulk import gc_paused
from computekyc.usage import sql
from computekyc.usage.engines import Engine

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Thresholds:
    """Reporting thresholds: total operations of a run, and peak operations per second."""

    operations: tuple[float, ...] = (1e26, 1e25, 1e23)
    ops_per_second: float = 1e20


@dataclass(frozen=True)
class Settings:
    """Accounting knobs. ``default_utilisation`` applies when no tensor-active telemetry exists."""

    default_utilisation: float = 0.4
    run_gap_seconds: int = 3600
    thresholds: Thresholds = field(default_factory=Thresholds)
    # Training rules (see classify()); from usage-formats.md §2.2.
    min_training_gpus: float = 8
    min_training_hours: float = 6
    min_shape_only_gpus: float = 32
    min_shape_only_hours: float = 12
    min_steady_fill: float = 0.85
    min_training_tensor: float = 0.25
    min_training_gpu_util: float = 0.6


_ROUNDED: dict[float, float] = {}
_ROUNDED_MAX = 1 << 18


def _round(value: Any) -> Any:
    """Floats to 12 significant digits: DuckDB and Spark add doubles in different orders."""
    kind = type(value)
    # Exact-type fast paths first: a summary rounds about a million values, and hasattr() on
    # text raises (slowly) inside.
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        cached = _ROUNDED.get(value)
        if cached is not None:
            return cached
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return value
        rounded = float(f"{value:.12g}")
        if kind is float:
            # Billing data repeats the same figures (same instance, same hours) across accounts
            # and days: formatting dominates a big summary, a lookup is far cheaper.
            if len(_ROUNDED) >= _ROUNDED_MAX:
                _ROUNDED.clear()
            _ROUNDED[value] = rounded
        return rounded
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int):
        return _round(float(value))
    return value


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _round(v) for k, v in row.items()}


def day_of(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat().replace("+00:00", "Z")


_TOTALS = ("gpu_hours", "controlled_gpu_hours", "h100_equivalent_hours", "estimated_operations")


def summary(
    engine: Engine, settings: Settings | None = None, filters: sql.Filters | None = None
) -> list[dict[str, Any]]:
    """Per account: totals, by chip, and per day, over the filtered range.

    Each figure the SQL returns is rounded once (:func:`_round`); only sums made here (a day over
    its chips, an account over its days) are rounded again, so both engines agree to the digit."""
    settings = settings or Settings()
    filters = filters or sql.Filters()
    # The answer is a tree of small dicts (a few per account-day): building it with the cyclic
    # collector paused is a third faster on a big summary.
    with gc_paused():
        rows = engine.query(sql.summary_sql(settings.default_utilisation, filters))
        return _summary_tree(rows)


def _summary_tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    accounts: dict[str, dict[str, Any]] = {}
    days: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        account = row["account"]
        acct = accounts.get(account)
        if acct is None:
            acct = accounts[account] = _empty_account(account)
        key = (account, row["day"])
        day = days.get(key)
        if day is None:
            day = days[key] = _empty_day(row["day"])
        chip = row["chip"]
        values = [_round(row[k]) for k in _TOTALS]
        day["by_chip"][chip] = dict(zip(_TOTALS, values, strict=True))
        _add(day, values)
        by_chip = acct["by_chip"].get(chip)
        if by_chip is None:
            by_chip = acct["by_chip"][chip] = dict.fromkeys(_TOTALS, 0.0)
        _add(by_chip, values)
        _add(acct, values)
        day["peak_gpus"] = _round(row["peak_gpus"] or 0.0)
        day["peak_ops_per_second"] = _round(row["peak_ops_per_second"] or 0.0)
    for (account, _), day in sorted(days.items()):
        acct = accounts[account]
        if len(day["by_chip"]) > 1:
            _round_totals(day)
        acct["days"].append(day)
        acct["peak_gpus"] = max(acct["peak_gpus"], day["peak_gpus"])
        acct["peak_ops_per_second"] = max(acct["peak_ops_per_second"], day["peak_ops_per_second"])
    for acct in accounts.values():
        _round_totals(acct)
        for by_chip in acct["by_chip"].values():
            _round_totals(by_chip)
    return [accounts[k] for k in sorted(accounts)]


def _add(totals: dict[str, Any], values: list[float]) -> None:
    for key, value in zip(_TOTALS, values, strict=True):
        totals[key] += value


def _round_totals(totals: dict[str, Any]) -> None:
    for key in _TOTALS:
        totals[key] = _round(totals[key])


def _empty_account(account: str) -> dict[str, Any]:
    return {
        "account": account,
        **dict.fromkeys(_TOTALS, 0.0),
        "peak_gpus": 0.0,
        "peak_ops_per_second": 0.0,
        "by_chip": {},
        "days": [],
    }


def _empty_day(number: int) -> dict[str, Any]:
    return {
        "date": day_of(number).isoformat(),
        **dict.fromkeys(_TOTALS, 0.0),
        "peak_gpus": 0.0,
        "peak_ops_per_second": 0.0,
        "by_chip": {},
    }


# ---------------------------------------------------------------------------------------------
# Runs


@dataclass
class Run:
    """A contiguous use of GPUs by one account, classified and costed, with its evidence."""

    account: str
    run: int
    cls: str
    gpus: float
    chip: str
    chips: dict[str, float]
    start: str
    end: str
    hours: float
    gpu_hours: float
    controlled_gpu_hours: float
    h100_equivalent_hours: float
    estimated_operations: float
    peak_ops_per_second: float
    in_progress: bool
    thresholds: list[dict[str, Any]]
    features: dict[str, Any]
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["class"] = data.pop("cls")
        return data


def _supporting_evidence(features: dict[str, Any]) -> list[str]:
    """Telemetry that supports a reading without deciding it (usage-formats.md §2.2)."""
    notes: list[str] = []
    link = features.get("interconnect_bytes_per_s")
    if link:
        notes.append(f"NVLink/PCIe traffic {link / 1e9:.1f} GB/s per GPU (all-reduce when high)")
    fb = features.get("fb_used_frac")
    if fb is not None:
        notes.append(f"framebuffer {fb:.0%} used (training runs near full)")
    power = features.get("power_w")
    if power:
        notes.append(f"mean board power {power:.0f} W")
    nodes = features.get("max_nodes")
    if nodes and nodes > 1:
        notes.append(f"{nodes} nodes in one job (gang-scheduled)")
    return notes


def classify(features: dict[str, Any], settings: Settings) -> tuple[str, list[str]]:
    """training / inference / other / unknown from a run's features, with the reasons.

    Rules follow usage-formats.md §2.2: large training is many gang-scheduled GPUs, held steadily
    for hours, with the tensor pipe busy; inference is replicas with load-following allocation and
    moderate tensor use; a busy GPU with an idle tensor pipe is not neural-network work.
    """
    gpus = features["peak_gpus"]
    hours = features["hours"]
    fill = features["fill"]
    tensor = features.get("tensor_active")
    util = features.get("gpu_util")
    reasons: list[str] = []
    big = gpus >= settings.min_training_gpus and hours >= settings.min_training_hours
    steady = fill >= settings.min_steady_fill
    reasons.append(
        f"{gpus:g} GPUs at peak for {hours:.1f} h; allocation fill {fill:.2f} "
        f"({'steady' if steady else 'varying'})"
    )
    reasons.extend(_supporting_evidence(features))
    if tensor is not None and tensor < 0.05 and util is not None and util >= 0.7:
        reasons.append(
            f"GPU busy ({util:.0%}) but tensor pipe idle ({tensor:.0%}): not neural-network work"
        )
        return "other", reasons
    if tensor is not None:
        reasons.append(f"tensor-active {tensor:.0%} (DCGM_FI_PROF_PIPE_TENSOR_ACTIVE)")
        if big and steady and tensor >= settings.min_training_tensor:
            reasons.append("many GPUs held steadily with the tensor pipe busy: training")
            return "training", reasons
        if tensor >= 0.05:
            reasons.append("tensor use without a steady large gang: inference")
            return "inference", reasons
        return "other", [*reasons, "tensor pipe idle"]
    if util is not None:
        reasons.append(f"GPU utilisation {util:.0%} (GPU_UTIL / gres/gpuutil)")
        if big and steady and util >= settings.min_training_gpu_util:
            reasons.append("many GPUs held steadily and busy: training")
            return "training", reasons
        if features["jobs"] > 1 and features["scheduler_rows"] == 0:
            # Replicas outside any batch scheduler (pods), not busy enough to be training.
            reasons.append(f"{features['jobs']} replicas outside a batch scheduler: serving")
            return "inference", reasons
        if big and steady:
            reasons.append(
                f"steady gang but GPUs busy only {util:.0%} "
                f"(< {settings.min_training_gpu_util:.0%}): not training"
            )
        else:
            reasons.append("small, short or intermittent allocation: not a large training run")
        return "other", reasons
    reasons.append("no utilisation telemetry: classified on allocation shape only")
    if gpus >= settings.min_shape_only_gpus and hours >= settings.min_shape_only_hours and steady:
        reasons.append(
            f"≥{settings.min_shape_only_gpus:g} GPUs held steadily ≥"
            f"{settings.min_shape_only_hours:g} h: training (shape only)"
        )
        return "training", reasons
    if not steady and features["jobs"] > 2:
        reasons.append("replicas coming and going: inference (shape only)")
        return "inference", reasons
    return "unknown", reasons


def _thresholds(
    run: dict[str, Any],
    days: list[dict[str, Any]],
    in_progress: bool,
    settings: Settings,
) -> list[dict[str, Any]]:
    """Crossing dates for each threshold; projected dates at the current rate if in progress."""
    out: list[dict[str, Any]] = []
    cumulative = 0.0
    crossed: dict[float, str] = {}
    for day in days:
        cumulative += day["ops"]
        for limit in settings.thresholds.operations:
            if limit not in crossed and cumulative >= limit:
                crossed[limit] = day_of(day["day"]).isoformat()
    total = run["estimated_operations"]
    rate = 0.0
    if days:
        last = days[-1]
        covered = last["last_end"] - max(last["first_start"], last["day"] * 86400)
        rate = last["ops"] / covered if covered > 0 else 0.0
    for limit in settings.thresholds.operations:
        entry: dict[str, Any] = {"kind": "operations", "threshold": limit}
        if limit in crossed:
            entry.update(status="crossed", date=crossed[limit])
        elif in_progress and rate > 0:
            days_left = (limit - total) / rate / 86400
            # Past year 9999 a date is meaningless (and unrepresentable): give the days only.
            date_text = _iso(run["end_s"] + days_left * 86400)[:10] if days_left < 2.9e6 else None
            entry.update(
                status="projected",
                date=date_text,
                days_from_end=_round(days_left),
                rate_ops_per_second=_round(rate),
            )
        else:
            entry.update(status="not reached", date=None)
        out.append(entry)
    peak_limit = settings.thresholds.ops_per_second
    first = next((d for d in days if d["peak_ops_per_second"] >= peak_limit), None)
    out.append(
        {
            "kind": "ops_per_second",
            "threshold": peak_limit,
            "status": "crossed" if first else "not reached",
            "date": day_of(first["day"]).isoformat() if first else None,
        }
    )
    return out


def _run_days(
    rows: list[dict[str, Any]],
) -> tuple[dict[tuple[str, int], dict[str, float]], dict[tuple[str, int], list[dict[str, Any]]]]:
    """Chip GPU-hours per run, and each run's days (ops, first start, last end, peak ops/s)."""
    chips: dict[tuple[str, int], dict[str, float]] = {}
    days: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        key = (r["account"], r["run_no"])
        run_chips = chips.setdefault(key, {})
        run_chips[r["chip"]] = run_chips.get(r["chip"], 0.0) + r["gpu_seconds"] / 3600.0
        run_days = days.setdefault(key, [])
        if run_days and run_days[-1]["day"] == r["day"]:
            last = run_days[-1]
            last["ops"] += r["ops"]
            last["first_start"] = min(last["first_start"], r["first_start"])
            last["last_end"] = max(last["last_end"], r["last_end"])
        else:
            run_days.append(
                {k: r[k] for k in ("day", "ops", "first_start", "last_end", "peak_ops_per_second")}
            )
    return chips, days


def runs(
    engine: Engine, settings: Settings | None = None, filters: sql.Filters | None = None
) -> list[Run]:
    """Every run of the filtered accounts, classified, with features, thresholds and reasons."""
    settings = settings or Settings()
    filters = filters or sql.Filters()
    util, gap = settings.default_utilisation, settings.run_gap_seconds
    rows = [_clean(r) for r in engine.query(sql.runs_sql(util, gap, filters))]
    chips, days = _run_days([_clean(r) for r in engine.query(sql.run_days_sql(util, gap, filters))])
    out: list[Run] = []
    for r in rows:
        data_end = float(r["data_end"])
        key = (r["account"], r["run_no"])
        hours = (r["end_s"] - r["start_s"]) / 3600.0
        peak = float(r["peak_gpus"] or 0.0)
        fill = r["gpu_seconds"] / (peak * (r["end_s"] - r["start_s"])) if peak and hours else 1.0
        features = {
            "peak_gpus": peak,
            "hours": round(hours, 3),
            "fill": _round(min(fill, 1.0)),
            "jobs": int(r["jobs"]),
            "scheduler_rows": int(r["row_count"] - r["stateless_rows"]),
            "max_job_gpus": r["max_job_gpus"],
            "max_nodes": r["max_nodes"],
            "telemetry_coverage": r["telemetry_coverage"],
            "tensor_active": r["tensor_active"],
            "gpu_util": r["gpu_util"],
            "fb_used_frac": r["fb_used_frac"],
            "fb_used_cv": r["fb_used_cv"],
            "power_w": r["power_w"],
            "interconnect_bytes_per_s": r["interconnect_bytes_per_s"],
        }
        cls, reasons = classify(features, settings)
        # In progress: a job still RUNNING; or, for sources without job states (billing,
        # telemetry), activity up to the dataset's last instant.
        near_end = r["end_s"] >= data_end - settings.run_gap_seconds
        in_progress = bool(r["running"]) or (r["stateless_rows"] > 0 and near_end)
        run_chips = chips.get(key, {})
        main_chip = max(sorted(run_chips), key=lambda c: run_chips[c]) if run_chips else "(unknown)"
        out.append(
            Run(
                account=r["account"],
                run=int(r["run_no"]),
                cls=cls,
                gpus=peak,
                chip=main_chip,
                chips={k: _round(v) for k, v in sorted(run_chips.items())},
                start=_iso(r["start_s"]),
                end=_iso(r["end_s"]),
                hours=round(hours, 3),
                gpu_hours=_round(r["gpu_seconds"] / 3600.0),
                controlled_gpu_hours=r["controlled_gpu_hours"],
                h100_equivalent_hours=r["h100_equivalent_hours"],
                estimated_operations=r["estimated_operations"],
                peak_ops_per_second=r["peak_ops_per_second"],
                in_progress=in_progress,
                thresholds=_thresholds(r, days.get(key, []), in_progress, settings),
                features=features,
                reasons=reasons,
            )
        )
    return out
