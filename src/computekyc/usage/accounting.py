"""Compute accounting per account and day, and training-run detection, on either engine.

The SQL in :mod:`computekyc.usage.sql` does the heavy lifting on DuckDB or Spark; this module only
shapes its small results (per account-day, per run) and applies the classification rules and
thresholds, so both engines go through one definition of the logic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from computekyc.bulk import gc_paused, load_yaml
from computekyc.exc import ConfigError
from computekyc.usage import figures, sql
from computekyc.usage.engines import Engine
from computekyc.usage.hardware import Rate, rates

EPOCH = date(1970, 1, 1)


THRESHOLDS_FILE = "thresholds.yaml"


@cache
def threshold_data() -> dict[str, Any]:
    """The thresholds data file: values, what each means (label) and its source."""
    text = resources.files("computekyc.usage").joinpath("data", THRESHOLDS_FILE).read_text("utf-8")
    data = load_yaml(text)
    try:
        ops = [
            (float(t["threshold"]), str(t["label"]), str(t["source"])) for t in data["operations"]
        ]
        rate = data["ops_per_second"]
        checked = {
            "operations": ops,
            "ops_per_second": (float(rate["threshold"]), str(rate["label"]), str(rate["source"])),
            "rolling_window_days": int(data["rolling_window_days"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{THRESHOLDS_FILE}: malformed ({exc!r})") from exc
    return checked


@cache
def threshold_label(value: float, kind: str = "operations") -> str:
    """What a threshold means, from the data file; custom values say they are custom."""
    data = threshold_data()
    known = data["operations"] if kind == "operations" else [data["ops_per_second"]]
    for threshold, label, _source in known:
        if math.isclose(threshold, value, rel_tol=1e-9):
            return str(label)
    unit = "operations" if kind == "operations" else "ops/s"
    return f"{value:.3g} {unit} (custom threshold)"


def _default_operations() -> tuple[float, ...]:
    return tuple(t for t, _label, _source in threshold_data()["operations"])


def _default_ops_per_second() -> float:
    return float(threshold_data()["ops_per_second"][0])


def _default_window() -> int:
    return int(threshold_data()["rolling_window_days"])


@dataclass(frozen=True)
class Thresholds:
    """Reporting thresholds (data: ``usage/data/thresholds.yaml``): total operations (per run,
    and cumulatively per account over a rolling window and per calendar quarter), and peak
    operations per second (theoretical maximum)."""

    operations: tuple[float, ...] = field(default_factory=_default_operations)
    ops_per_second: float = field(default_factory=_default_ops_per_second)
    window_days: int = field(default_factory=_default_window)


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


FLAG_UNCLASSIFIED = "unclassified-hardware"
FLAG_REVIEW = "review-hardware"
# How the two ops/s figures are costed (the per-chip precisions are in each answer).
OPERATIONS_BASIS = {
    "estimated_operations": "dense ops/s at the training precision (BF16, else FP16/TF32/FP32) x "
    "GPU-seconds x tensor-active (or the default utilisation)",
    "peak_ops_per_second": "theoretical maximum: dense ops/s at the chip's highest precision of "
    "8 bits or more (FP8 where it has it) x concurrent GPUs",
    "peak_training_ops_per_second": "dense ops/s at the training precision x concurrent GPUs",
}


def hardware_rates(engine: Engine) -> list[Rate]:
    """How each hardware name in the store counts, per rule period (``hardware.rates``)."""
    return rates((r["hardware_name"], r["chip"]) for r in engine.query(sql.HARDWARE_NAMES_SQL))


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _lookback(filters: sql.Filters, window_days: int) -> sql.Filters:
    """The filters widened back far enough that cumulative thresholds see a full window and
    quarter before the first day asked for."""
    if filters.first_day is None:
        return filters
    first = filters.first_day
    return replace(
        filters, first_day=min(first - timedelta(days=window_days - 1), _quarter_start(first))
    )


def summary(
    engine: Engine, settings: Settings | None = None, filters: sql.Filters | None = None
) -> list[dict[str, Any]]:
    """Per account: totals, by chip, per day, and cumulative thresholds, over the filtered range.

    Each row is classified and costed under the rules in force on its own day. Usage on hardware
    the catalogue does not know is ``unclassified_gpu_hours``, counted at an assumed chip and
    flagged (``flags``), never as uncontrolled. Cumulative thresholds look back a full window
    and quarter before ``filters.first_day``.

    Each figure the SQL returns is rounded once (:func:`_round`); only sums made here (a day over
    its chips, an account over its days) are rounded again, so both engines agree to the digit."""
    settings = settings or Settings()
    filters = filters or sql.Filters()
    table = hardware_rates(engine)
    wide = _lookback(filters, settings.thresholds.window_days)
    # The answer is a tree of small dicts (a few per account-day): building it with the cyclic
    # collector paused is a third faster on a big summary.
    with gc_paused():
        found = _summary_columns(engine, sql.summary_sql(settings.default_utilisation, wide, table))
        first = sql.day_number(filters.first_day) if filters.first_day else None
        accounts, daily = found.summary(first)
        crossed = thresholds_of(daily, settings.thresholds)
        by_chip = _rates_by_chip(table)
        for acct in accounts:
            acct["thresholds"] = crossed[acct["account"]]
            _annotate(acct, acct["by_chip"], by_chip)
        return accounts


_SUMMARY_COLUMNS = ("account", "day", "chip", *figures.TOTALS, *figures.PEAKS)


def _summary_columns(engine: Engine, text: str) -> figures.SummaryColumns:
    """The summary rows as columns: straight from DuckDB, or from any engine's rows."""
    fetch = getattr(engine, "query_columns", None)
    if fetch is not None:
        return figures.SummaryColumns(fetch(text, _SUMMARY_COLUMNS))
    return figures.SummaryColumns(figures.columns_of(engine.query(text), _SUMMARY_COLUMNS))


def _annotate(
    totals: dict[str, Any],
    chip_hours: Mapping[str, Mapping[str, float]],
    by_chip: Mapping[str, list[Rate]],
) -> None:
    """Precisions per chip, and a flag (with the reason) for each chip with hours counted as
    unclassified or review: the answer says which hours were not a clear, and why. ``by_chip``:
    the rate table by chip label (:func:`_rates_by_chip`)."""
    totals["precisions"] = {
        chip: {"training": rated[0].training_precision, "peak": rated[0].peak_precision}
        for chip in chip_hours
        if (rated := by_chip.get(chip))
    }
    totals["operations_basis"] = OPERATIONS_BASIS
    flags = []
    for chip, hours in chip_hours.items():
        rated = by_chip.get(chip, [])
        if hours.get("unclassified_gpu_hours"):
            reason = (
                rated[0].reason
                if rated
                else "hardware name ingested after this report's rate table was built: counted "
                "as the assumed minimum chip"
            )
            flags.append(
                {
                    "flag": FLAG_UNCLASSIFIED,
                    "chip": chip,
                    "gpu_hours": hours["unclassified_gpu_hours"],
                    "reason": reason,
                }
            )
        if hours.get("review_gpu_hours"):
            # The reason under the latest text that made it review.
            reason = next((r.reason for r in reversed(rated) if r.status == "review"), "")
            flags.append(
                {
                    "flag": FLAG_REVIEW,
                    "chip": chip,
                    "gpu_hours": hours["review_gpu_hours"],
                    "reason": reason,
                }
            )
    totals["flags"] = flags


def _rates_by_chip(table: list[Rate]) -> dict[str, list[Rate]]:
    out: dict[str, list[Rate]] = {}
    for rate in table:
        out.setdefault(rate.chip, []).append(rate)
    return out


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
    review_gpu_hours: float = 0.0
    unclassified_gpu_hours: float = 0.0
    peak_training_ops_per_second: float = 0.0
    precisions: dict[str, dict[str, str]] = field(default_factory=dict)
    operations_basis: dict[str, str] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)

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
        entry = _entry("operations", limit, "run")
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
    peak = _entry("ops_per_second", peak_limit, "run: peak concurrent theoretical maximum")
    peak.update(
        status="crossed" if first else "not reached",
        date=day_of(first["day"]).isoformat() if first else None,
    )
    out.append(peak)
    return out


def _entry(kind: str, threshold: float, basis: str) -> dict[str, Any]:
    """The common head of a threshold answer (runs, accounts, entities alike)."""
    return {
        "kind": kind,
        "threshold": threshold,
        "basis": basis,
        "label": threshold_label(threshold, kind),
    }


def cumulative_thresholds(
    days: Iterable[tuple[int, float, float]], thresholds: Thresholds | None = None
) -> list[dict[str, Any]]:
    """Thresholds that splitting a job cannot dodge: operations summed over a rolling window
    (``thresholds.window_days``) and per calendar quarter, with the first day each was crossed;
    and the first day the peak ops/s reached the cluster threshold.

    ``days``: (epoch day, operations, peak ops/s), one per day with usage, in day order."""
    return thresholds_of(figures.DailyOperations.of({"": days}), thresholds)[""]


def thresholds_of(
    daily: figures.DailyOperations, thresholds: Thresholds | None = None
) -> dict[str, list[dict[str, Any]]]:
    """:func:`cumulative_thresholds` of every name of ``daily`` at once."""
    thresholds = thresholds or Thresholds()
    window = thresholds.window_days
    found = figures.threshold_crossings(
        daily, window, thresholds.operations, thresholds.ops_per_second
    )
    best = figures.round_figures(found.best).tolist()
    crossed, peak_days = found.crossed.tolist(), found.peak_day.tolist()
    names = {"window": f"rolling {window} days", "quarter": "calendar quarter"}
    heads = [
        (basis, _entry("operations", limit, names[basis]))
        for limit in thresholds.operations
        for basis in ("window", "quarter")
    ]
    peak_head = _entry("ops_per_second", thresholds.ops_per_second, "day: peak theoretical maximum")
    texts: dict[int, str] = {}

    def when(day: int) -> str | None:
        if not figures.Crossings.reached(day):
            return None
        text = texts.get(day)
        if text is None:
            text = texts[day] = day_of(day).isoformat()
        return text

    out: dict[str, list[dict[str, Any]]] = {}
    for name, (window_best, quarter_best), hits, peak_day in zip(
        daily.names, best, crossed, peak_days, strict=True
    ):
        maxima = {"window": window_best, "quarter": quarter_best}
        days = [day for pair in hits for day in pair]  # limit-major, window before quarter
        entries = []
        for (basis, head), day in zip(heads, days, strict=True):
            date_text = when(day)
            entries.append(
                {
                    **head,
                    "status": "not reached" if date_text is None else "crossed",
                    "date": date_text,
                    "max_operations": maxima[basis],
                }
            )
        date_text = when(peak_day)
        entries.append(
            {
                **peak_head,
                "status": "not reached" if date_text is None else "crossed",
                "date": date_text,
            }
        )
        out[name] = entries
    return out


def entity_thresholds(
    accounts: Iterable[Mapping[str, Any]],
    entity_of: Mapping[str, str],
    thresholds: Thresholds | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Cumulative thresholds per linked entity: the daily operations of its accounts (``summary``
    output; ``entity_of`` maps account -> entity) added up. The entity's daily peak ops/s is the
    sum of its accounts' daily peaks, an upper bound (their peaks may not coincide). Accounts
    missing from the map count as entities of their own."""
    merged: dict[str, dict[int, list[float]]] = {}
    for acct in accounts:
        entity = entity_of.get(acct["account"], acct["account"])
        by_day = merged.setdefault(entity, {})
        for day in acct["days"]:
            number = sql.day_number(date.fromisoformat(day["date"]))
            totals = by_day.setdefault(number, [0.0, 0.0])
            totals[0] += day["estimated_operations"]
            totals[1] += day["peak_ops_per_second"]
    crossed = thresholds_of(
        figures.DailyOperations.of(
            {
                entity: [(d, ops, peak) for d, (ops, peak) in sorted(by_day.items())]
                for entity, by_day in merged.items()
            }
        ),
        thresholds,
    )
    return {entity: crossed[entity] for entity in sorted(merged)}


_CHIP_HOURS = ("gpu_hours", "review_gpu_hours", "unclassified_gpu_hours")


def _run_days(
    rows: list[dict[str, Any]],
) -> tuple[
    dict[tuple[str, int], dict[str, dict[str, float]]], dict[tuple[str, int], list[dict[str, Any]]]
]:
    """Chip GPU-hours (all, review, unclassified) per run, and each run's days (ops, first
    start, last end, peak ops/s)."""
    chips: dict[tuple[str, int], dict[str, dict[str, float]]] = {}
    days: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        key = (r["account"], r["run_no"])
        hours = chips.setdefault(key, {}).setdefault(r["chip"], dict.fromkeys(_CHIP_HOURS, 0.0))
        for name, column in zip(
            _CHIP_HOURS, ("gpu_seconds", "review_seconds", "unclassified_seconds"), strict=True
        ):
            hours[name] += r[column] / 3600.0
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
    table = hardware_rates(engine)
    by_chip = _rates_by_chip(table)
    rows = [_clean(r) for r in engine.query(sql.runs_sql(util, gap, filters, table))]
    chips, days = _run_days(
        [_clean(r) for r in engine.query(sql.run_days_sql(util, gap, filters, table))]
    )
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
        chip_hours = chips.get(key, {})
        run_chips = {chip: hours["gpu_hours"] for chip, hours in chip_hours.items()}
        main_chip = max(sorted(run_chips), key=lambda c: run_chips[c]) if run_chips else "(none)"
        run = Run(
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
            review_gpu_hours=r["review_gpu_hours"],
            unclassified_gpu_hours=r["unclassified_gpu_hours"],
            peak_training_ops_per_second=r["peak_training_ops_per_second"],
        )
        notes: dict[str, Any] = {}
        rounded = {c: {k: _round(v) for k, v in h.items()} for c, h in chip_hours.items()}
        _annotate(notes, rounded, by_chip)
        run.precisions, run.operations_basis, run.flags = (
            notes["precisions"],
            notes["operations_basis"],
            notes["flags"],
        )
        out.append(run)
    return out
