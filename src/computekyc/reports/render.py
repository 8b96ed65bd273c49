"""Reports as HTML (Jinja2 templates, charts inline as SVG) and as PDF (WeasyPrint, same HTML).

Nothing is fetched: the page carries its own styles and charts, and the PDF renderer refuses
every URL that is not inline data, so a report renders the same offline as online.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from computekyc.exc import ConfigError, OptionError
from computekyc.reports import charts

FORMATS = ("json", "html", "pdf")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("computekyc.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sci"] = lambda v: "—" if v is None else f"{float(v):.3g}"
    env.filters["num"] = lambda v: "—" if v is None else f"{float(v):,.1f}"
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1)
    return env


def training_runs_html(report: dict[str, Any]) -> str:
    thresholds = [(float(t["threshold"]), str(t["label"])) for t in report["thresholds"]]
    usage: dict[str, str] = {}
    owners: dict[str, str] = {}
    for number, entry in enumerate(report["runs"]):
        usage[entry["id"]] = charts.usage_chart(
            entry.get("daily", []), thresholds, f"usage-{number}", entry["id"]
        )
        customer = entry["customer"]
        if customer is not None and customer["id"] not in owners:
            owners[customer["id"]] = charts.ownership_chart(customer, f"owners-{len(owners)}")
    template = _environment().get_template("training_runs.html")
    return template.render(report=report, usage_charts=usage, ownership_charts=owners)


def certification_html(report: dict[str, Any]) -> str:
    chart = charts.alerts_chart(report["alerts"]["by_month"], "alerts")
    template = _environment().get_template("certification.html")
    return template.render(report=report, alerts_chart=chart)


def pdf(html: str) -> bytes:
    """The PDF of a report page (WeasyPrint; no URL is fetched)."""
    try:
        from weasyprint import HTML, URLFetcher
    except OSError as exc:  # WeasyPrint loads Pango and HarfBuzz from the system
        raise ConfigError(
            f"PDF output needs Pango and HarfBuzz ({exc}); on Debian: apt-get install "
            "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 (or ask for --format html)"
        ) from exc

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    document: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return document


def render(report: dict[str, Any], fmt: str, html_of: Callable[[dict[str, Any]], str]) -> bytes:
    """The report in ``fmt`` (json, html or pdf) as bytes."""
    if fmt == "json":
        text = json.dumps(report, ensure_ascii=False, allow_nan=False, indent=1, default=str)
        return (text + "\n").encode("utf-8")
    if fmt == "html":
        return html_of(report).encode("utf-8")
    if fmt == "pdf":
        return pdf(html_of(report))
    raise OptionError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
