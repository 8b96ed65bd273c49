"""The column-wise summary against the row-by-row one it replaced: the same figures, to the digit.

The reference below is the summary as it was first written (one Python dict per SQL row, one
queue per account for the cumulative thresholds); the column-wise code must give exactly its
answer — same keys in the same order, same floats bit for bit — on real stores and on random
data built to hit rounding ties, long groups, window pops and quarter boundaries."""

from __future__ import annotations

import json
import math
import random
from collections import deque
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computekyc.usage import (
    DuckDBEngine,
    Filters,
    Thresholds,
    UsageStore,
    accounting,
    figures,
    sql,
    summary,
)
from computekyc.usage.figures import PEAKS, TOTALS

EPOCH = date(1970, 1, 1)

# ------------------------------------------------------------------ the row-by-row reference


def _round(value: Any) -> Any:
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return value
        return float(f"{value:.12g}")
    return value


def _reference_tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    accounts: dict[str, dict[str, Any]] = {}
    days: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        account = row["account"]
        acct = accounts.get(account)
        if acct is None:
            acct = accounts[account] = {
                "account": account,
                **dict.fromkeys(TOTALS, 0.0),
                **dict.fromkeys(PEAKS, 0.0),
                "by_chip": {},
                "days": [],
            }
        key = (account, row["day"])
        day = days.get(key)
        if day is None:
            day = days[key] = {
                "date": (EPOCH + timedelta(days=row["day"])).isoformat(),
                **dict.fromkeys(TOTALS, 0.0),
                **dict.fromkeys(PEAKS, 0.0),
                "by_chip": {},
            }
        chip = row["chip"]
        values = [_round(row[k]) for k in TOTALS]
        day["by_chip"][chip] = dict(zip(TOTALS, values, strict=True))
        for key_, value in zip(TOTALS, values, strict=True):
            day[key_] += value
        by_chip = acct["by_chip"].get(chip)
        if by_chip is None:
            by_chip = acct["by_chip"][chip] = dict.fromkeys(TOTALS, 0.0)
        for key_, value in zip(TOTALS, values, strict=True):
            by_chip[key_] += value
            acct[key_] += value
        for peak in PEAKS:
            day[peak] = _round(row[peak] or 0.0)
    for (account, _), day in sorted(days.items()):
        acct = accounts[account]
        if len(day["by_chip"]) > 1:
            for key_ in TOTALS:
                day[key_] = _round(day[key_])
        acct["days"].append(day)
        for peak in PEAKS:
            acct[peak] = max(acct[peak], day[peak])
    for acct in accounts.values():
        for totals in (acct, *acct["by_chip"].values()):
            for key_ in TOTALS:
                totals[key_] = _round(totals[key_])
    return [accounts[k] for k in sorted(accounts)]


def _reference_daily(rows: list[dict[str, Any]]) -> dict[str, list[tuple[int, float, float]]]:
    days: dict[str, dict[int, list[float]]] = {}
    for row in rows:
        day = days.setdefault(row["account"], {}).setdefault(row["day"], [0.0, 0.0])
        day[0] += _round(row["estimated_operations"])
        day[1] = _round(row["peak_ops_per_second"] or 0.0)
    return {
        account: [(d, _round(v[0]), v[1]) for d, v in sorted(by_day.items())]
        for account, by_day in days.items()
    }


def _quarter_start(number: int) -> int:
    day = EPOCH + timedelta(days=number)
    return (date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) - EPOCH).days


def _reference_thresholds(
    days: list[tuple[int, float, float]], thresholds: Thresholds
) -> list[dict[str, Any]]:
    window = thresholds.window_days
    lowest = min(thresholds.operations, default=math.inf)
    rolling: deque[tuple[int, float]] = deque()
    rolling_sum = quarter_sum = 0.0
    quarter = -1
    best = {"window": 0.0, "quarter": 0.0}
    crossed: dict[tuple[str, float], int] = {}
    peak_day: int | None = None
    for number, ops, peak in days:
        rolling.append((number, ops))
        rolling_sum += ops
        while rolling[0][0] <= number - window:
            rolling_sum -= rolling.popleft()[1]
        if _quarter_start(number) != quarter:
            quarter, quarter_sum = _quarter_start(number), 0.0
        quarter_sum += ops
        best["window"] = max(best["window"], rolling_sum)
        best["quarter"] = max(best["quarter"], quarter_sum)
        if max(rolling_sum, quarter_sum) >= lowest * (1 - 1e-12):
            for limit in thresholds.operations:
                for basis, total in (("window", rolling_sum), ("quarter", quarter_sum)):
                    if total >= limit * (1 - 1e-12):
                        crossed.setdefault((basis, limit), number)
        if peak_day is None and peak >= thresholds.ops_per_second:
            peak_day = number
    out = []
    names = {"window": f"rolling {window} days", "quarter": "calendar quarter"}
    for limit in thresholds.operations:
        for basis in ("window", "quarter"):
            when = crossed.get((basis, limit))
            out.append(
                {
                    "kind": "operations",
                    "threshold": limit,
                    "basis": names[basis],
                    "label": accounting.threshold_label(limit, "operations"),
                    "status": "not reached" if when is None else "crossed",
                    "date": None if when is None else (EPOCH + timedelta(days=when)).isoformat(),
                    "max_operations": _round(best[basis]),
                }
            )
    out.append(
        {
            "kind": "ops_per_second",
            "threshold": thresholds.ops_per_second,
            "basis": "day: peak theoretical maximum",
            "label": accounting.threshold_label(thresholds.ops_per_second, "ops_per_second"),
            "status": "not reached" if peak_day is None else "crossed",
            "date": None if peak_day is None else (EPOCH + timedelta(days=peak_day)).isoformat(),
        }
    )
    return out


def _reference_summary(engine: DuckDBEngine, filters: Filters) -> list[dict[str, Any]]:
    usage = accounting.Settings()
    table = accounting.hardware_rates(engine)
    wide = accounting._lookback(filters, usage.thresholds.window_days)
    rows = engine.query(sql.summary_sql(usage.default_utilisation, wide, table))
    first = sql.day_number(filters.first_day) if filters.first_day else None
    shown = rows if first is None else [r for r in rows if r["day"] >= first]
    accounts = _reference_tree(shown)
    history = _reference_daily(rows)
    by_chip = accounting._rates_by_chip(table)
    for acct in accounts:
        acct["thresholds"] = _reference_thresholds(
            history.get(acct["account"], []), usage.thresholds
        )
        accounting._annotate(acct, acct["by_chip"], by_chip)
    return accounts


def _same(found: Any, expected: Any) -> None:
    """Equal, keys in the same order, floats bit for bit (JSON text shows all three)."""
    assert found == expected
    assert json.dumps(found) == json.dumps(expected)


# ------------------------------------------------------------------ real stores


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(first_day=date(2024, 6, 2)), Filters(last_day=date(2024, 6, 1))],
    ids=["all", "from", "to"],
)
def test_summary_equals_row_by_row_on_hand_files(hand_store: UsageStore, filters: Filters) -> None:
    engine = DuckDBEngine(hand_store)
    expected = _reference_summary(engine, filters)
    assert expected
    _same(summary(engine, filters=filters), expected)


def test_summary_equals_row_by_row_on_generated_data(generated_store: UsageStore) -> None:
    engine = DuckDBEngine(generated_store)
    expected = _reference_summary(engine, Filters())
    assert len(expected) > 10
    _same(summary(engine), expected)
    # From a day in the middle: the tree shows later days, the thresholds look back.
    middle = date.fromisoformat(expected[0]["days"][len(expected[0]["days"]) // 2]["date"])
    filters = Filters(first_day=middle)
    _same(summary(engine, filters=filters), _reference_summary(engine, filters))


def test_summary_of_an_empty_store(tmp_path: Any) -> None:
    assert summary(DuckDBEngine(UsageStore(tmp_path / "usage"))) == []


# ------------------------------------------------------------------ random data


def _random_rows(rng: random.Random, accounts: int, days: int) -> list[dict[str, Any]]:
    """Summary-shaped rows in the SQL's order, with figures at every scale and many repeats."""
    chips = ["H100-SXM", "A100-SXM-40GB", "(unclassified) x", "L4", "Ä-chip"]
    pool = [rng.uniform(0, 1) * 10.0 ** rng.randint(-14, 26) for _ in range(50)]
    pool += [0.0, -0.0, 1 / 3, 2 / 3, 0.1 + 0.2, 1.000000000005, 9.9999999999995e5]
    rows = []
    for a in range(accounts):
        start = rng.randint(19000, 19100)
        for d in sorted(rng.sample(range(start, start + days * 2), rng.randint(1, days))):
            peaks = [rng.choice([None, 0.0, *pool]) for _ in PEAKS]
            for chip in sorted(rng.sample(chips, rng.randint(1, 3))):
                row: dict[str, Any] = {"account": f"acct-{a:03d}", "day": d, "chip": chip}
                row.update({k: rng.choice(pool) * rng.choice([1, 3600.0, 1e12]) for k in TOTALS})
                row.update(zip(PEAKS, peaks, strict=True))
                rows.append(row)
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_tree_and_history_equal_row_by_row_on_random_rows(seed: int) -> None:
    rows = _random_rows(random.Random(seed), accounts=30, days=40)
    columns = figures.SummaryColumns(figures.columns_of(rows, accounting._SUMMARY_COLUMNS))
    first = rows[len(rows) // 2]["day"]
    for first_day in (None, first):
        shown = rows if first_day is None else [r for r in rows if r["day"] >= first_day]
        tree, daily = columns.summary(first_day)
        _same(tree, _reference_tree(shown))
        expected = _reference_daily(rows)
        found: dict[str, list[tuple[int, float, float]]] = {}
        for group, day, ops, peak in zip(
            daily.group.tolist(),
            daily.day.tolist(),
            daily.operations.tolist(),
            daily.peak.tolist(),
            strict=True,
        ):
            found.setdefault(daily.names[group], []).append((day, ops, peak))
        _same(found, expected)


@pytest.mark.parametrize("seed", range(8))
def test_thresholds_equal_the_queue_walk(seed: int) -> None:
    rng = random.Random(seed)
    limits = Thresholds(
        operations=tuple(sorted(rng.sample([1e3, 5e3, 2e4, 1e5], rng.randint(1, 3)))),
        ops_per_second=rng.choice([1e3, 5e4]),
        window_days=rng.choice([1, 7, 30, 90]),
    )
    histories = {}
    for n in range(40):
        day = rng.randint(19000, 19400)  # quarters start and end inside the range
        days = []
        for _ in range(rng.randint(0, 120)):
            day += rng.choice([1, 1, 2, 5, 31, 95])
            days.append((day, rng.choice([0.0, 1 / 3, rng.uniform(0, 2e3)]), rng.uniform(0, 1e5)))
        histories[f"n{n}"] = days
    found = accounting.thresholds_of(figures.DailyOperations.of(histories), limits)
    for name, days in histories.items():
        _same(found[name], _reference_thresholds(days, limits))
        _same(accounting.cumulative_thresholds(days, limits), found[name])


# ------------------------------------------------------------------ the two building blocks


_EDGES = [
    0.0,
    -0.0,
    math.inf,
    -math.inf,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    1e-12,
    1e22,
    1e23,
    1e34,
    1.000000000005,  # a 13th digit 5 that is not exactly a tie in binary
    1.0000000000005,
    0.5,
    2.5e-11,
    999999999999.5,
    99999999999.95,
    9.9999999999995e5,
    0.1 + 0.2,
    123456789012.5,
    -123456789012.5,
]


def test_round_figures_on_edges_and_scales() -> None:
    rng = random.Random(3)
    values = list(_EDGES)
    values += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-320, 300) for _ in range(20_000)]
    # Values that sit on a 12-digit rounding tie in decimal: n + 0.5 units, at many scales.
    values += [
        (rng.randint(10**11, 10**12 - 1) + 0.5) * 10.0 ** rng.randint(-25, 25) for _ in range(5_000)
    ]
    # Values that are already 12-digit decimals (rounding must give them back).
    values += [float(f"{rng.uniform(1, 10):.11f}e{rng.randint(-30, 30)}") for _ in range(5_000)]
    expected = [_round(v) for v in values]
    found = figures.round_figures(np.array(values)).tolist()
    assert [v.hex() for v in found] == [v.hex() for v in expected]
    assert math.isnan(figures.round_figures(np.array([math.nan]))[0])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False), min_size=1, max_size=40))
def test_round_figures_matches_formatting(values: list[float]) -> None:
    found = figures.round_figures(np.array(values)).tolist()
    assert [v.hex() for v in found] == [_round(v).hex() for v in values]


@pytest.mark.parametrize("steps", [1, 3, 1024])
def test_fold_adds_and_compares_in_row_order(monkeypatch: pytest.MonkeyPatch, steps: int) -> None:
    """Sums a Python loop makes (0.0 + a + b + ...), not NumPy's pairwise ones; the maximum as
    Python's max(best, value); groups longer than the step limit take the slower tail path."""
    monkeypatch.setattr(figures, "_STEPS", steps)
    rng = np.random.default_rng(5)
    rows = 3_000
    groups = rng.integers(0, 40, rows)
    values = rng.random((rows, 2)) * 10.0 ** rng.integers(-8, 20, (rows, 2))
    sums = [[0.0, 0.0] for _ in range(40)]
    best = [[0.0, 0.0] for _ in range(40)]
    for group, (a, b) in zip(groups.tolist(), values.tolist(), strict=True):
        sums[group] = [sums[group][0] + a, sums[group][1] + b]
        best[group] = [max(best[group][0], a), max(best[group][1], b)]
    found = figures.fold(groups, 41, values).tolist()
    assert found[:40] == sums and found[40] == [0.0, 0.0]
    assert figures.fold(groups, 41, values, figures.larger).tolist()[:40] == best
    # NumPy's own sum groups the additions differently: the test can tell the two apart.
    assert any(sums[g][0] != values[groups == g, 0].sum() for g in range(40))
