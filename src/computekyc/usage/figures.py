"""The per-account summary tree built column-wise: the same figures, to the digit, as adding the
summary rows one by one in Python, at a fraction of the cost.

A big summary is about a million (account, day, chip) rows. Going through them one Python dict at
a time cost more than the SQL; here the rounding and the sums run over NumPy columns, and Python
only builds the answer's dicts. Two rules keep every digit the same:

* :func:`round_figures` gives exactly ``float(f"{x:.12g}")`` (correctly rounded: a scaled
  integer divided by an exact power of ten), and falls back to that very expression for the few
  values whose scaled form lies too close to a rounding tie to decide in doubles;
* :func:`fold` adds (or takes the maximum of) each group's values in row order starting from
  0.0 — the very sequence of additions a Python loop makes. NumPy's own ``sum`` adds pairwise,
  which differs in the last bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TOTALS = (
    "gpu_hours",
    "controlled_gpu_hours",
    "review_gpu_hours",
    "unclassified_gpu_hours",
    "h100_equivalent_hours",
    "estimated_operations",
)
PEAKS = ("peak_gpus", "peak_ops_per_second", "peak_training_ops_per_second")
SIGNIFICANT = 12
EPOCH = date(1970, 1, 1)

# Powers of ten that are exact doubles (10^22 is the last).
_POW10 = np.array([10.0**i for i in range(23)])
_LOW, _HIGH = 10.0 ** (SIGNIFICANT - 1), 10.0**SIGNIFICANT
# A scaled value this close to a .5 could round either way once the exact product is known:
# left to Python's own formatting. The product's own error is at most half a unit in the last
# place, 2^-14 below 10^12.
_TIE_MARGIN = 1e-3
# Group sizes past this many rows fold their remainder one group at a time (a summary's groups
# are an account's days and chips: thousands of rows at most).
_STEPS = 1024


def round_figure(value: float) -> float:
    """A double to 12 significant digits (zero, infinities and NaN as they are)."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{SIGNIFICANT}g}")


def round_figures(values: FloatArray) -> FloatArray:
    """:func:`round_figure` of every element, vectorised, identical to the digit."""
    out = np.array(values, dtype=np.float64, copy=True)
    flat = out.reshape(-1)  # a view: the copy is contiguous
    wanted = np.flatnonzero(np.isfinite(flat) & (flat != 0))
    if not wanted.size:
        return out
    magnitude = np.abs(flat[wanted])
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        shift = (SIGNIFICANT - 1) - np.floor(np.log10(magnitude)).astype(np.int64)
        scaled = _scale(magnitude, shift)
        # log10 can be one off next to a power of ten: bring the scaled value into
        # [10^11, 10^12).
        shift = shift + (scaled < _LOW) - (scaled >= _HIGH)
        scaled = _scale(magnitude, shift)
        whole = np.rint(scaled)
        exact = (
            (np.abs(shift) <= 22)
            & (scaled >= _LOW)
            & (scaled < _HIGH)
            & (np.abs(scaled - np.floor(scaled) - 0.5) > _TIE_MARGIN)
        )
        # An integer below 2^53 and an exact power of ten: one correctly rounded operation
        # gives the double nearest the 12-digit decimal, as float() of its text does.
        power = _POW10[np.clip(np.abs(shift), 0, 22)]
        rounded = np.where(shift >= 0, whole / power, whole * power)
    rounded = np.copysign(rounded, flat[wanted])
    for i in np.flatnonzero(~exact).tolist():
        rounded[i] = round_figure(float(flat[wanted[i]]))
    flat[wanted] = rounded
    return out


def _scale(magnitude: FloatArray, shift: IntArray) -> FloatArray:
    """``magnitude * 10^shift`` in one correctly rounded operation (NaN where 10^|shift| is not
    an exact double)."""
    power = _POW10[np.clip(np.abs(shift), 0, 22)]
    scaled = np.where(shift >= 0, magnitude * power, magnitude / power)
    return np.where(np.abs(shift) <= 22, scaled, np.nan)


Combine = Callable[[FloatArray, FloatArray], FloatArray]


def add(total: FloatArray, value: FloatArray) -> FloatArray:
    return total + value


def larger(best: FloatArray, value: FloatArray) -> FloatArray:
    """Python's ``max(best, value)``: ``value`` only when it is greater (NaN never is)."""
    return np.where(value > best, value, best)


def fold(groups: IntArray, count: int, values: FloatArray, combine: Combine = add) -> FloatArray:
    """Per group (ids 0..count-1): 0.0 combined with each of its rows' values in row order.

    ``values`` is (rows, k); the answer (count, k). Step ``s`` combines the ``s``-th row of
    every group that has one, so the work is vectorised across groups and sequential within
    each, exactly as a Python loop over the rows would combine them."""
    width = values.shape[1]
    result = np.zeros((count, width))
    if not len(groups):
        return result
    order = np.argsort(groups, kind="stable")
    ordered = values[order]
    sizes = np.bincount(groups, minlength=count)
    starts = np.cumsum(sizes) - sizes
    # Largest groups first: the groups still combining at step s are a prefix.
    rank = np.argsort(-sizes, kind="stable")
    ranked_sizes, ranked_starts = sizes[rank], starts[rank]
    active = np.searchsorted(-ranked_sizes, -np.arange(min(int(ranked_sizes[0]), _STEPS)), "left")
    acc = np.zeros((count, width))
    for step, live in enumerate(active.tolist()):
        acc[:live] = combine(acc[:live], ordered[ranked_starts[:live] + step])
    for pos in np.flatnonzero(ranked_sizes > _STEPS).tolist():
        rest = ordered[ranked_starts[pos] + _STEPS : ranked_starts[pos] + ranked_sizes[pos]]
        if combine is add:  # accumulate adds one row after the other, as the loop does
            acc[pos] = np.add.accumulate(np.vstack([acc[pos : pos + 1], rest]), axis=0)[-1]
        else:
            total = acc[pos]
            for row in rest:
                total = combine(total, row)
            acc[pos] = total
    result[rank] = acc
    return result


def factorize(values: npt.NDArray[Any]) -> tuple[list[Any], IntArray]:
    """(sorted distinct values, each element's index among them). Summary rows come sorted, so
    comparing neighbours is enough; otherwise a full sort."""
    if not len(values):
        return [], np.zeros(0, dtype=np.int64)
    if bool(np.all(values[:-1] <= values[1:])):
        change = np.empty(len(values), dtype=bool)
        change[0] = False
        change[1:] = values[1:] != values[:-1]
        codes = np.cumsum(change, dtype=np.int64)
        return values[np.flatnonzero(np.r_[True, change[1:]])].tolist(), codes
    distinct, codes = np.unique(values, return_inverse=True)
    return distinct.tolist(), codes.astype(np.int64).ravel()


class _Days:
    """The (account, day) groups of some summary rows, in (account, day) order; within a group
    the rows keep their order."""

    def __init__(self, account: IntArray, day: IntArray) -> None:
        self.order = np.lexsort((day, account))  # stable
        sorted_account, sorted_day = account[self.order], day[self.order]
        change = np.ones(len(self.order), dtype=bool)
        change[1:] = (sorted_account[1:] != sorted_account[:-1]) | (
            sorted_day[1:] != sorted_day[:-1]
        )
        self.first = np.flatnonzero(change)  # positions in ``order``
        self.last = np.append(self.first[1:], len(self.order)) - 1
        self.count = len(self.first)
        self.of_row = np.empty(len(self.order), dtype=np.int64)
        self.of_row[self.order] = np.cumsum(change) - 1
        self.account = sorted_account[self.first]
        self.day = sorted_day[self.first]

    def account_bounds(self, accounts: int) -> list[int]:
        """Where each account's days start (and the last one ends), in group order."""
        bounds: list[int] = np.searchsorted(self.account, np.arange(accounts + 1)).tolist()
        return bounds


class SummaryColumns:
    """The summary SQL's answer as columns: account, day, chip, :data:`TOTALS`, :data:`PEAKS`.

    Each figure is rounded once as it is read (:func:`round_figures`), as the row-wise
    summary rounds each figure the SQL returns."""

    def __init__(self, columns: Mapping[str, npt.NDArray[Any]]) -> None:
        self.account = _plain(columns["account"])
        self.day = np.asarray(_plain(columns["day"]), dtype=np.int64)
        self.chip = _plain(columns["chip"])
        if any(np.ma.is_masked(columns[k]) for k in TOTALS):
            raise ValueError("usage summary: a total is NULL")
        totals = [np.ma.getdata(columns[k]).astype(np.float64) for k in TOTALS]
        self.totals = round_figures(np.column_stack(totals).reshape(len(self.day), len(TOTALS)))
        peaks = []
        for k in PEAKS:
            column = columns[k]
            data = np.ma.getdata(column).astype(np.float64)
            # ``peak or 0.0``: no peak, and a zero of either sign, read as 0.0.
            peaks.append(np.where(np.ma.getmaskarray(column) | (data == 0), 0.0, data))
        self.peaks = round_figures(np.column_stack(peaks).reshape(len(self.day), len(PEAKS)))

    def __len__(self) -> int:
        return len(self.day)

    def summary(self, first_day: int | None) -> tuple[list[dict[str, Any]], DailyOperations]:
        """(per account, sorted: totals, peaks, by chip, per day with its chips — over the rows
        from ``first_day`` on; per account and day: operations and peak ops/s — over every row,
        for the cumulative thresholds)."""
        if first_day is None:
            return self._tree(np.arange(len(self)))
        tree, _ = self._tree(np.flatnonzero(self.day >= first_day))
        names, account = factorize(self.account)
        days = _Days(account, self.day)
        operations = round_figures(fold(days.of_row, days.count, self.totals[:, 5:6]))[:, 0]
        peaks = self.peaks[days.order[days.last], 1]
        return tree, DailyOperations(names, days.account, days.day, operations, peaks)

    def _tree(self, rows: IntArray) -> tuple[list[dict[str, Any]], DailyOperations]:
        if not len(rows):
            return [], DailyOperations.of({})
        names, account = factorize(self.account[rows])
        chip_names, chip = factorize(self.chip[rows])
        totals, peaks = self.totals[rows], self.peaks[rows]
        days = _Days(account, self.day[rows])
        bounds = days.account_bounds(len(names))
        day_texts = _date_texts(days.day)
        day_peaks = peaks[days.order[days.last]]  # the last row's (a day's rows share them)
        day_totals = fold(days.of_row, days.count, totals)
        rounded_day_totals = round_figures(day_totals)
        daily = DailyOperations(
            names, days.account, days.day, rounded_day_totals[:, 5], day_peaks[:, 1]
        )
        # A day's totals are rounded again only when it adds up more than one chip.
        width = max(len(chip_names), 1)
        cells = np.unique(days.of_row * width + chip)
        several = np.bincount(cells // width, minlength=days.count) > 1
        day_figures = np.column_stack(
            [np.where(several[:, None], rounded_day_totals, day_totals), day_peaks]
        ).tolist()
        # Rows in day-group order: each day's chips are one slice.
        ordered_chips = [chip_names[c] for c in chip[days.order].tolist()]
        ordered_figures = [
            {
                "gpu_hours": a,
                "controlled_gpu_hours": b,
                "review_gpu_hours": c,
                "unclassified_gpu_hours": d,
                "h100_equivalent_hours": e,
                "estimated_operations": f,
            }
            for a, b, c, d, e, f in totals[days.order].tolist()
        ]
        day_list = []
        for number, (a, b, c, d, e, f, g, h, i), lo, hi in zip(
            days.day.tolist(),
            day_figures,
            days.first.tolist(),
            days.last.tolist(),
            strict=True,
        ):
            if lo == hi:
                by_chip = {ordered_chips[lo]: ordered_figures[lo]}
            else:
                by_chip = dict(
                    zip(ordered_chips[lo : hi + 1], ordered_figures[lo : hi + 1], strict=True)
                )
            day_list.append(
                {
                    "date": day_texts[number],
                    "gpu_hours": a,
                    "controlled_gpu_hours": b,
                    "review_gpu_hours": c,
                    "unclassified_gpu_hours": d,
                    "h100_equivalent_hours": e,
                    "estimated_operations": f,
                    "peak_gpus": g,
                    "peak_ops_per_second": h,
                    "peak_training_ops_per_second": i,
                    "by_chip": by_chip,
                }
            )
        account_figures = np.column_stack(
            [
                round_figures(fold(account, len(names), totals)),
                fold(days.account, len(names), day_peaks, larger),
            ]
        ).tolist()
        accounts = [
            {
                "account": name,
                **dict(zip(TOTALS, figures[:6], strict=True)),
                **dict(zip(PEAKS, figures[6:], strict=True)),
                "by_chip": {},
                "days": day_list[bounds[n] : bounds[n + 1]],
            }
            for n, (name, figures) in enumerate(zip(names, account_figures, strict=True))
        ]
        # Each account's chips, in the order they first appear.
        pairs, first_seen, pair_ids = np.unique(
            account * width + chip, return_index=True, return_inverse=True
        )
        pair_totals = round_figures(fold(pair_ids.ravel(), len(pairs), totals)).tolist()
        pair_account, pair_chip = (pairs // width).tolist(), (pairs % width).tolist()
        for pos in np.lexsort((first_seen, pairs // width)).tolist():
            by_chip_total = accounts[pair_account[pos]]["by_chip"]
            by_chip_total[chip_names[pair_chip[pos]]] = dict(
                zip(TOTALS, pair_totals[pos], strict=True)
            )
        return accounts, daily


def _date_texts(days: IntArray) -> dict[int, str]:
    """ISO text per epoch day (one string per date, shared by every account's day)."""
    return {d: (EPOCH + timedelta(days=d)).isoformat() for d in np.unique(days).tolist()}


def _plain(column: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A column without NULLs as a plain array (the key columns never hold NULL)."""
    if np.ma.is_masked(column):
        raise ValueError("usage summary: a key column is NULL")
    return np.asarray(np.ma.getdata(column))


def columns_of(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, npt.NDArray[Any]]:
    """Rows (dicts, as an engine returns them) as columns: text as objects, numbers as doubles
    (masked where NULL)."""
    out: dict[str, npt.NDArray[Any]] = {}
    for name in names:
        values = [row[name] for row in rows]
        if name in ("account", "chip"):
            out[name] = np.array(values, dtype=object)
        elif name == "day":
            out[name] = np.array([int(v) for v in values], dtype=np.int64)
        else:
            missing = [v is None for v in values]
            data = np.array([0.0 if v is None else float(v) for v in values], dtype=np.float64)
            out[name] = np.ma.masked_array(data, mask=missing) if any(missing) else data
    return out


_NONE = np.iinfo(np.int64).min  # no crossing day


@dataclass(frozen=True)
class DailyOperations:
    """Per name (an account, an entity) and day: operations and peak ops/s. ``group`` indexes
    ``names``; a name's rows are in day order."""

    names: list[str]
    group: IntArray
    day: IntArray
    operations: FloatArray
    peak: FloatArray

    @classmethod
    def of(cls, by_name: Mapping[str, Iterable[tuple[int, float, float]]]) -> DailyOperations:
        names = list(by_name)
        group: list[int] = []
        rows: list[tuple[int, float, float]] = []
        for number, name in enumerate(names):
            found = list(by_name[name])
            rows.extend(found)
            group.extend([number] * len(found))
        days, operations, peaks = zip(*rows, strict=True) if rows else ((), (), ())
        return cls(
            names,
            np.array(group, dtype=np.int64),
            np.array(days, dtype=np.int64),
            np.array(operations, dtype=np.float64),
            np.array(peaks, dtype=np.float64),
        )


@dataclass(frozen=True)
class Crossings:
    """Per name: the largest operations summed over the rolling window and over a calendar
    quarter (``best``: names x 2), the first day each (limit, basis) was reached (``crossed``:
    names x limits x 2, :data:`_NONE` when never), the first day the peak ops/s reached its
    threshold (``peak_day``)."""

    best: FloatArray
    crossed: IntArray
    peak_day: IntArray

    @staticmethod
    def reached(day: int) -> bool:
        return day != _NONE


def quarter_starts(days: IntArray) -> IntArray:
    """The epoch day each epoch day's calendar quarter starts on."""
    months = (np.datetime64("1970-01-01", "D") + days).astype("datetime64[M]").astype(np.int64)
    starts = (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")
    found: IntArray = starts.astype(np.int64)
    return found


def threshold_crossings(
    daily: DailyOperations, window: int, limits: Sequence[float], per_second: float
) -> Crossings:
    """Each name's days walked in order, all names at once: operations summed over a rolling
    window of ``window`` days (the days that fall out subtracted one by one, oldest first) and
    per calendar quarter, their maxima, the first day each limit is reached (with a hair of
    float slack: engines add in different orders), the first day the peak reaches
    ``per_second``. The same float operations, in the same order, as walking one name's days
    with a queue."""
    count = len(daily.names)
    width = len(limits)
    best = np.zeros((count, 2))
    crossed = np.full((count, width, 2), _NONE, dtype=np.int64)
    peak_day = np.full(count, _NONE, dtype=np.int64)
    if not len(daily.group):
        return Crossings(best, crossed, peak_day)
    order = np.argsort(daily.group, kind="stable")
    day, ops, peak = daily.day[order], daily.operations[order], daily.peak[order]
    quarter = quarter_starts(day)
    sizes = np.bincount(daily.group, minlength=count)
    rank = np.argsort(-sizes, kind="stable")  # largest first: the live names are a prefix
    ranked_sizes, starts = sizes[rank], (np.cumsum(sizes) - sizes)[rank]
    rolling, quarter_sum = np.zeros(count), np.zeros(count)
    current = np.full(count, -1, dtype=np.int64)
    head = starts.copy()
    best_window, best_quarter = np.zeros(count), np.zeros(count)
    hit = np.full((count, width, 2), _NONE, dtype=np.int64)
    first_peak = np.full(count, _NONE, dtype=np.int64)
    slack = [limit * (1 - 1e-12) for limit in limits]
    lowest = min(limits, default=math.inf) * (1 - 1e-12)
    steps = int(ranked_sizes[0]) if count else 0
    live_counts = np.searchsorted(-ranked_sizes, -np.arange(steps), "left").tolist()
    for step, live in enumerate(live_counts):
        at = starts[:live] + step
        number, value = day[at], ops[at]
        window_sum, quarter_total = rolling[:live], quarter_sum[:live]  # views
        window_sum += value
        oldest = head[:live]
        while True:
            expired = np.flatnonzero(day[oldest] <= number - window)
            if not expired.size:
                break
            window_sum[expired] -= ops[oldest[expired]]
            oldest[expired] += 1
        new_quarter = np.flatnonzero(quarter[at] != current[:live])
        current[new_quarter] = quarter[at][new_quarter]
        quarter_total[new_quarter] = 0.0
        quarter_total += value
        best_window[:live] = larger(best_window[:live], window_sum)
        best_quarter[:live] = larger(best_quarter[:live], quarter_total)
        gate = larger(window_sum, quarter_total) >= lowest  # max(window, quarter)
        if gate.any():
            for i, limit in enumerate(slack):
                for basis, total in enumerate((window_sum, quarter_total)):
                    first = hit[:live, i, basis]
                    now = np.flatnonzero(gate & (total >= limit) & (first == _NONE))
                    first[now] = number[now]
        peaked = np.flatnonzero((first_peak[:live] == _NONE) & (peak[at] >= per_second))
        first_peak[peaked] = number[peaked]
    best[rank, 0], best[rank, 1] = best_window, best_quarter
    crossed[rank] = hit
    peak_day[rank] = first_peak
    return Crossings(best, crossed, peak_day)
