"""Charts for the HTML/PDF reports, drawn on the server as inline SVG with matplotlib.

No pyplot (no global figure state: safe in the API's threads); text kept as SVG text in the
report's font families (searchable in the PDF, and a page half the size and rendered by
WeasyPrint in a third of the time of text drawn as paths; Chinese names take the CJK face); a
fixed hash salt per chart (the same report gives the same bytes; two charts in one page never
share an element id); no date stamp.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any

import matplotlib
from matplotlib.dates import DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure

# Latin first, then a CJK face for Chinese names: only the installed ones (fonts-dejavu-core,
# fonts-wqy-microhei or Noto CJK), so matplotlib never warns about a missing family.
_WANTED_FONTS = ("DejaVu Sans", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC")
_COLOURS = ["#1f4e79", "#c0504d", "#4f8a3c", "#8064a2", "#f79646", "#4bacc6", "#7f7f7f"]


@cache
def _fonts() -> list[str]:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in _WANTED_FONTS if name in installed] or ["sans-serif"]


def _svg(figure: Figure, chart_id: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), ready to sit inline in HTML."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": chart_id, "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context({"font.family": _fonts(), "font.size": 8}):
        return Figure(figsize=(width, height), dpi=100)


def _day_number(day: str) -> float:
    return float(date2num(date.fromisoformat(day)))  # type: ignore[no-untyped-call]


def _day_axis(axis: Any, days: Sequence[float]) -> None:
    """Whole days on the x axis (usage is per day), at most about eight labels, at least a
    three-day span so that one day is a bar, not the whole width."""
    first, last = (min(days), max(days)) if days else (0.0, 0.0)
    pad = max(0.0, (3 - (last - first + 1)) / 2)
    axis.set_xlim(first - 0.5 - pad, last + 0.5 + pad)
    step = max(1, math.ceil((last - first + 1) / 8))
    axis.xaxis.set_major_locator(DayLocator(interval=step))  # type: ignore[no-untyped-call]
    axis.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]


def usage_chart(
    daily: Sequence[Mapping[str, Any]],
    thresholds: Sequence[tuple[float, str]],
    chart_id: str,
    title: str = "",
) -> str:
    """GPU-hours per day (bars) and cumulative estimated operations (line, log scale) with a
    dashed line at each operations threshold the total comes within reach of."""
    with matplotlib.rc_context({"font.family": _fonts(), "font.size": 8}):
        figure = _figure(7.0, 2.8)
        hours_axis = figure.add_subplot(1, 1, 1)
        days = [float(_day_number(str(d["date"]))) for d in daily]
        hours = [float(d["gpu_hours"]) for d in daily]
        cumulative: list[float] = []
        total = 0.0
        for d in daily:
            total += float(d["estimated_operations"])
            cumulative.append(total)
        hours_axis.bar(days, hours, color="#9dc3e6", label="GPU-hours per day", width=0.8)
        hours_axis.set_ylabel("GPU-hours per day")
        ops_axis = hours_axis.twinx()
        ops_axis.plot(days, cumulative, color="#1f4e79", marker="o", label="cumulative operations")
        ops_axis.set_yscale("log")
        ops_axis.set_ylabel("cumulative operations")
        top = max(cumulative, default=1.0)
        shown = [(v, label) for v, label in thresholds if v <= top * 1e3]
        for (value, label), colour in zip(shown, _COLOURS[1:], strict=False):
            ops_axis.axhline(value, color=colour, linestyle="--", linewidth=1)
            ops_axis.annotate(
                f"{value:.0e} ops: {label[:40]}",
                xy=(0.01, value),
                xycoords=("axes fraction", "data"),
                fontsize=6,
                color=colour,
                va="bottom",
            )
        low = min((c for c in cumulative if c > 0), default=1.0)
        bounds = [low] + [v for v, _ in shown]
        ops_axis.set_ylim(10 ** math.floor(math.log10(min(bounds))) / 2, max([top, *bounds]) * 5)
        if title:
            hours_axis.set_title(title)
        _day_axis(hours_axis, days)
        figure.autofmt_xdate()
        return _svg(figure, chart_id)


def _layout(owners: Sequence[Mapping[str, Any]], root: str) -> dict[str, tuple[float, float]]:
    """Layered positions: the customer at the bottom, each owner one row above its child."""
    levels: dict[int, list[str]] = {0: [root]}
    for owner in owners:
        path = str(owner["path"])
        depth = path.count(" > ")
        if path not in levels.setdefault(depth, []):
            levels[depth].append(path)
    positions = {}
    for depth, paths in levels.items():
        for i, path in enumerate(paths):
            positions[path] = ((i + 1) / (len(paths) + 1), float(depth))
    return positions


def ownership_chart(customer: Mapping[str, Any], chart_id: str) -> str:
    """The customer's declared ownership tree: owners above what they hold, shares on edges."""
    owners = list(customer.get("beneficial_owners", []))
    root = str(customer["name"])
    positions = _layout(owners, root)
    depth = max((y for _, y in positions.values()), default=0.0)
    with matplotlib.rc_context({"font.family": _fonts(), "font.size": 7}):
        figure = _figure(7.0, 1.2 + 1.0 * depth)
        axis = figure.add_subplot(1, 1, 1)
        axis.set_axis_off()
        axis.set_xlim(0, 1)
        axis.set_ylim(-0.5, depth + 0.5)
        for owner in owners:
            path = str(owner["path"])
            child = path.rsplit(" > ", 1)[0]
            x0, y0 = positions[child]
            x1, y1 = positions[path]
            axis.annotate(
                "",
                xy=(x0, y0 + 0.18),
                xytext=(x1, y1 - 0.18),
                arrowprops={"arrowstyle": "->", "color": "#555555"},
            )
            share = owner.get("share")
            relation = str(owner.get("relation") or "owner")
            axis.text(
                (x0 + x1) / 2,
                (y0 + y1) / 2,
                f"{share:g}%" if share is not None else relation,
                ha="center",
                va="center",
                fontsize=6,
                bbox={"boxstyle": "round", "fc": "white", "ec": "none"},
            )
        for path, (x, y) in positions.items():
            owner = next((o for o in owners if o["path"] == path), None)
            name = path.rsplit(" > ", 1)[-1]
            country = (owner or customer).get("country") or "?"
            axis.text(
                x,
                y,
                f"{name}\n({country})",
                ha="center",
                va="center",
                bbox={
                    "boxstyle": "round",
                    "fc": "#dbe7f3" if owner is None else "#f2f2f2",
                    "ec": "#1f4e79",
                },
            )
        return _svg(figure, chart_id)


def alerts_chart(by_month: Mapping[str, Mapping[str, int]], chart_id: str) -> str:
    """Alerts raised per month, stacked by type."""
    months = sorted(by_month)
    types = sorted({t for counts in by_month.values() for t in counts})
    with matplotlib.rc_context({"font.family": _fonts(), "font.size": 8}):
        figure = _figure(7.0, 2.8)
        axis = figure.add_subplot(1, 1, 1)
        bottom = [0] * len(months)
        for i, kind in enumerate(types):
            values = [int(by_month[m].get(kind, 0)) for m in months]
            axis.bar(months, values, bottom=bottom, label=kind, color=_COLOURS[i % len(_COLOURS)])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axis.set_ylabel("alerts raised")
        if types:
            axis.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        if not months:
            axis.text(0.5, 0.5, "no alerts in the year", ha="center", transform=axis.transAxes)
        return _svg(figure, chart_id)
