"""``computekyc usage …``: ingest provider usage files, account for compute, list runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from computekyc.cli._io import day_option, strict_json
from computekyc.exc import ComputekycError, OptionError
from computekyc.usage import (
    FORMATS,
    Engine,
    Filters,
    Settings,
    UsageStore,
    generate,
    ingest_file,
    make_engine,
    runs,
    summary,
)

if TYPE_CHECKING:
    from computekyc.settings import Settings as ProcessSettings

usage_app = typer.Typer(
    help="Compute usage: ingest FOCUS/CUR/sacct/DCGM files, accounting, training runs.",
    no_args_is_help=True,
)
console = Console()

_ENGINE = typer.Option("duckdb", "--engine", help="duckdb (default) or spark")
_MASTER = typer.Option(
    None,
    "--spark-master",
    help="Spark master URL (default $COMPUTEKYC_SPARK_MASTER, else local[2])",
)
_UTIL = typer.Option(
    0.4, "--default-utilisation", help="utilisation assumed where no tensor-active telemetry"
)


def register(app: typer.Typer) -> None:
    app.add_typer(usage_app, name="usage")


def _settings() -> ProcessSettings:
    from computekyc.settings import Settings as ProcessSettings

    return ProcessSettings.from_env()


def _store() -> UsageStore:
    """The usage store of the process settings' home (``$COMPUTEKYC_HOME/usage``)."""
    from computekyc.services.linking import usage_store

    return usage_store(_settings())


def _engine(name: str, master: str | None) -> Engine:
    """The engine asked for; Spark on ``--spark-master``, else the settings' master."""
    return make_engine(name, _store(), master or _settings().spark_master)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@usage_app.command("ingest")
def ingest_cmd(
    files: list[Path] = typer.Argument(..., help="usage files (CSV, Parquet, Prometheus text)"),
    fmt: str = typer.Option("auto", "--format", help="focus|cur|sacct|dcgm|alibaba|auto"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest files into $COMPUTEKYC_HOME/usage (idempotent; atomic per file).

    A file that cannot be read is reported on one line (``error: FILE…``) and stores nothing;
    the other files are still ingested, and the exit code is that of the error (2)."""
    if fmt not in ("auto", *FORMATS):
        raise OptionError(f"--format {fmt!r}: use {', '.join(FORMATS)} or auto")
    store = _store()
    reports: list[dict[str, Any]] = []
    failure: ComputekycError | None = None
    for path in files:
        try:
            report = ingest_file(path, fmt, store).to_dict()
        except ComputekycError as exc:
            failure = failure or exc
            report = {"source_file": str(path), "status": "error", "error": str(exc)}
            if not as_json:
                typer.echo(f"error: {exc}", err=True)
        reports.append(report)
        if not as_json and report["status"] != "error":
            _print_report(report)
    if as_json:
        typer.echo(strict_json(reports, indent=2))
    if failure is not None:
        raise typer.Exit(failure.exit_code)


def _print_report(r: dict[str, Any]) -> None:
    """One ingest report for people. Names, paths and reasons come from the files: printed as
    plain text (``markup=False``), never read as Rich markup."""
    _say(
        f"{r['source_file']}: {r['format']} {r['status']} — read {r['rows_read']}, "
        f"stored {r['rows_stored']}, rejected {r['rows_rejected']}, "
        f"{r['gpu_hours']:,.1f} GPU-h"
    )
    for why, n in sorted(r["rows_skipped"].items()):
        _say(f"  skipped {n}: {why}")
    for rej in r["rejects"]:
        _say(f"  line {rej['line']}: {rej['reason']}", "yellow")
    if r["rows_rejected"] > len(r["rejects"]):
        _say(f"  … {r['rows_rejected'] - len(r['rejects'])} more rejects in the rejects view")
    for u in r["unknown_hardware"]:
        _say(
            f"  unknown hardware {u['name']!r}: {u['rows']} rows "
            f"({u['kept_rows']} kept with GPU count, chip unknown)",
            "yellow",
        )
    for warning in r.get("warnings", []):
        _say(f"  warning: {warning}", "yellow")


def _say(text: str, style: str | None = None) -> None:
    console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


@usage_app.command("summary")
def summary_cmd(
    account: str | None = typer.Option(None, "--account"),
    first: str | None = typer.Option(None, "--from", help="first day (YYYY-MM-DD)"),
    last: str | None = typer.Option(None, "--to", help="last day (YYYY-MM-DD)"),
    as_json: bool = typer.Option(False, "--json"),
    engine: str = _ENGINE,
    spark_master: str | None = _MASTER,
    default_utilisation: float = _UTIL,
) -> None:
    """Per account: GPU-hours (controlled, review, unclassified), H100-eq hours, operations,
    peaks, by chip; cumulative thresholds (rolling window, calendar quarter); flags."""
    filters = Filters(account, day_option(first, "--from"), day_option(last, "--to"))
    eng = _engine(engine, spark_master)
    result = summary(eng, Settings(default_utilisation=default_utilisation), filters)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table(title="Compute usage per account")
    for col in (
        "account",
        "chip",
        "GPU-h",
        "controlled GPU-h",
        "review GPU-h",
        "unclassified GPU-h",
        "H100-eq h",
        "est. ops",
        "peak GPUs",
        "peak ops/s (max / training)",
        "thresholds",
    ):
        table.add_column(col)
    for acct in result:
        table.add_row(
            escape(acct["account"]),
            "all",
            *_hours(acct),
            f"{acct['peak_gpus']:g}",
            f"{acct['peak_ops_per_second']:.3g} / {acct['peak_training_ops_per_second']:.3g}",
            escape(_marks(acct["thresholds"])),
        )
        for chip, c in acct["by_chip"].items():
            table.add_row("", escape(chip), *_hours(c), "", "", "")
    console.print(table)
    _print_flags((acct["account"], acct["flags"]) for acct in result)


def _hours(totals: dict[str, Any]) -> tuple[str, ...]:
    return (
        f"{totals['gpu_hours']:,.1f}",
        f"{totals['controlled_gpu_hours']:,.1f}",
        f"{totals['review_gpu_hours']:,.1f}",
        f"{totals['unclassified_gpu_hours']:,.1f}",
        f"{totals['h100_equivalent_hours']:,.1f}",
        f"{totals['estimated_operations']:.3g}",
    )


def _marks(thresholds: list[dict[str, Any]]) -> str:
    """Crossed or projected thresholds, each with its basis and what it means."""
    return "\n".join(
        f"{t['status']} {t['date'] or ''} ({t['basis']}): {t['label']}"
        for t in thresholds
        if t["status"] != "not reached"
    )


def _print_flags(flagged: Any) -> None:
    for owner, flags in flagged:
        for flag in flags:
            console.print(
                f"{flag['flag']}: {owner} {flag['chip']} {flag['gpu_hours']:,.1f} GPU-h: "
                f"{flag['reason']}",
                markup=False,
            )


@usage_app.command("runs")
def runs_cmd(
    account: str | None = typer.Option(None, "--account"),
    as_json: bool = typer.Option(False, "--json"),
    engine: str = _ENGINE,
    spark_master: str | None = _MASTER,
    default_utilisation: float = _UTIL,
    gap: int = typer.Option(3600, "--gap", help="idle seconds that end a run"),
) -> None:
    """Runs (contiguous GPU use per account), classified, with thresholds and reasons."""
    eng = _engine(engine, spark_master)
    settings = Settings(default_utilisation=default_utilisation, run_gap_seconds=gap)
    found = runs(eng, settings, Filters(account))
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in found], indent=2))
        return
    table = Table(title="Runs")
    for col in (
        "account",
        "class",
        "gpus",
        "chip",
        "start",
        "end",
        "est. ops",
        "thresholds",
        "reasons",
    ):
        table.add_column(col)
    for r in found:
        table.add_row(
            escape(r.account),
            r.cls,
            f"{r.gpus:g}",
            escape(r.chip),
            r.start,
            r.end,
            f"{r.estimated_operations:.3g}",
            escape(_marks(r.thresholds)),
            escape("\n".join(r.reasons)),
        )
    console.print(table)
    _print_flags((f"{r.account} run {r.run}", r.flags) for r in found)


@usage_app.command("generate")
def generate_cmd(
    outdir: Path = typer.Argument(..., help="folder for the generated files"),
    seed: int = typer.Option(0, "--seed"),
    scale: float = typer.Option(1.0, "--scale", help="multiplies the background workload"),
) -> None:
    """Write realistic FOCUS, CUR, sacct and DCGM files with planted runs (truth.json)."""
    made = generate(outdir, seed=seed, scale=scale, shared=_settings().shared_dir)
    for fmt, path in made.files.items():
        typer.echo(f"{fmt}: {path}")
    typer.echo(f"truth: {outdir / 'truth.json'} ({len(made.truth)} planted runs)")
