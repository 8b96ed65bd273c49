"""``computekyc report training-runs|certification``: the reports for a regulator or an auditor.

Both read the provider folder (the customer book), the ingested usage and the workflow
database, record themselves in the audit log with a signed checkpoint, and write JSON, HTML
(charts inline) or PDF — the format from ``--format``, else from the output's suffix.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from computekyc.audit import Actor
from computekyc.cli._io import check_output, is_stdio
from computekyc.cli.report import report_group, write_bytes
from computekyc.exc import OptionError
from computekyc.settings import Settings
from computekyc.users import local_operator

PROVIDER_OPTION = typer.Option(
    ..., "--provider", help="The provider folder (customers, accounts, usage) the scans read."
)
FORMAT_OPTION = typer.Option(
    None, "--format", help="json, html or pdf (default: from the output's suffix, else json)."
)
OUTPUT_OPTION = typer.Option(..., "--output", "-o", help="The file to write (- for stdout).")
USER_OPTION = typer.Option(None, "--user", help="Act as this user (default: the local operator).")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"{option} must be a date YYYY-MM-DD, not {value!r}") from None


def _format(value: str | None, output: str, allowed: tuple[str, ...]) -> str:
    from computekyc.reports import FORMATS

    if value is None:
        suffix = Path(output).suffix.lower().lstrip(".")
        value = suffix if suffix in FORMATS and not is_stdio(output) else "json"
    if value not in allowed:
        raise OptionError(f"--format must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _actor(settings: Settings, user: str | None) -> Actor:
    from computekyc.services.casework import acting_user

    return local_operator() if user is None else acting_user(settings, user)


def _provider(path: Path) -> Path:
    if not path.is_dir():
        raise OptionError(f"--provider: {path} is not a folder")
    return path


def training_runs_command(
    ctx: typer.Context,
    provider: Path = PROVIDER_OPTION,
    first: str = typer.Option(..., "--from", help="First day of the period (YYYY-MM-DD)."),
    last: str = typer.Option(..., "--to", help="Last day of the period (YYYY-MM-DD)."),
    fmt: str | None = FORMAT_OPTION,
    output: str = OUTPUT_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Runs and cumulative threshold crossings of a period, with who ran them and why reported."""
    from computekyc.reports import render, training_runs_html
    from computekyc.services.reports_runs import training_runs_report

    settings: Settings = ctx.obj
    start, end = _day(first, "--from"), _day(last, "--to")
    kind = _format(fmt, output, ("json", "html", "pdf"))
    check_output(output, "--output")
    report = training_runs_report(
        settings, _provider(provider), start, end, actor=_actor(settings, user)
    )
    write_bytes(output, render(report, kind, training_runs_html))
    if not is_stdio(output):
        typer.echo(f"report: {len(report['runs'])} entries written to {output}", err=True)


def certification_command(
    ctx: typer.Context,
    provider: Path = PROVIDER_OPTION,
    year: int = typer.Option(..., "--year", help="The calendar year (YYYY)."),
    fmt: str | None = FORMAT_OPTION,
    output: str = OUTPUT_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """The annual program summary: identification, resellers, alerts, decisions, lists, audit."""
    from computekyc.reports import certification_html, render
    from computekyc.services.reports_runs import certification_report

    settings: Settings = ctx.obj
    kind = _format(fmt, output, ("json", "html", "pdf"))
    check_output(output, "--output")
    report = certification_report(settings, _provider(provider), year, actor=_actor(settings, user))
    write_bytes(output, render(report, kind, certification_html))
    if not is_stdio(output):
        typer.echo(f"report: certification {year} written to {output}", err=True)


def register(app: typer.Typer) -> None:
    group = report_group(app)
    group.command("training-runs")(training_runs_command)
    group.command("certification")(certification_command)
