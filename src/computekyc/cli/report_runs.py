"""``computekyc report training-runs|certification``: the reports for a regulator or an auditor.

Both read the customer book as the latest scan imported it (or, with ``--provider DIR``, the
folder, saying of each record whether the scan imported it), the ingested usage and the workflow
database, record themselves in the audit log with a signed checkpoint, and write JSON, HTML
(charts inline) or PDF — the format from ``--format``, else from the output's suffix.
"""

from __future__ import annotations

from pathlib import Path

import typer

from computekyc.cli._io import check_output, day_option, is_stdio, write_bytes
from computekyc.cli.report import AS_OPTION, report_actor, report_group
from computekyc.exc import OptionError
from computekyc.settings import Settings

PROVIDER_OPTION = typer.Option(
    None,
    "--provider",
    help="The provider folder the scans read: show its records, each saying whether the latest "
    "scan imported it (default: the book as the latest scan imported it).",
)
FORMAT_OPTION = typer.Option(
    None, "--format", help="json, html or pdf (default: from the output's suffix, else json)."
)
REPORT_FORMATS = ("json", "html", "pdf")
OUTPUT_OPTION = typer.Option(..., "--output", "-o", help="The file to write (- for stdout).")


def _format(value: str | None, output: str) -> str:
    """The format asked for (else the output's suffix, else JSON), with the output checked:
    both before any work."""
    from computekyc.reports import FORMATS

    if value is None:
        suffix = Path(output).suffix.lower().lstrip(".")
        value = suffix if suffix in FORMATS and not is_stdio(output) else "json"
    if value not in REPORT_FORMATS:
        raise OptionError(f"--format must be one of {', '.join(REPORT_FORMATS)}, not {value!r}")
    check_output(output, "--output")
    return value


def _write(output: str, data: bytes, what: str) -> None:
    write_bytes(output, data)
    if not is_stdio(output):
        typer.echo(f"report: {what} written to {output}", err=True)


def _provider(path: Path | None) -> Path | None:
    if path is not None and not path.is_dir():
        raise OptionError(f"--provider: {path} is not a folder")
    return path


def training_runs_command(
    ctx: typer.Context,
    provider: Path | None = PROVIDER_OPTION,
    first: str = typer.Option(..., "--from", help="First day of the period (YYYY-MM-DD)."),
    last: str = typer.Option(..., "--to", help="Last day of the period (YYYY-MM-DD)."),
    fmt: str | None = FORMAT_OPTION,
    output: str = OUTPUT_OPTION,
    user: str | None = AS_OPTION,
) -> None:
    """Runs and cumulative threshold crossings of a period, with who ran them and why reported."""
    from computekyc.services.reports_runs import training_runs_file

    settings: Settings = ctx.obj
    start, end = day_option(first, "--from"), day_option(last, "--to")
    kind = _format(fmt, output)
    found = training_runs_file(
        settings, _provider(provider), start, end, kind, actor=report_actor(settings, user)
    )
    _write(output, found.data, f"{len(found.report['runs'])} entries")


def certification_command(
    ctx: typer.Context,
    provider: Path | None = PROVIDER_OPTION,
    year: int = typer.Option(..., "--year", help="The calendar year (YYYY)."),
    fmt: str | None = FORMAT_OPTION,
    output: str = OUTPUT_OPTION,
    user: str | None = AS_OPTION,
) -> None:
    """The annual program summary: identification, resellers, alerts, decisions, lists, audit."""
    from computekyc.services.reports_runs import certification_file

    settings: Settings = ctx.obj
    kind = _format(fmt, output)
    found = certification_file(
        settings, _provider(provider), year, kind, actor=report_actor(settings, user)
    )
    _write(output, found.data, f"certification {year}")


def register(app: typer.Typer) -> None:
    group = report_group(app)
    group.command("training-runs")(training_runs_command)
    group.command("certification")(certification_command)
