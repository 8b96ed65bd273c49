"""``computekyc scan PROVIDER_DIR``: the daily job over a provider's customer book."""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path

import typer
from rich.console import Console

from computekyc.cli._io import day_option
from computekyc.services import run_scan
from computekyc.settings import Settings

err = Console(stderr=True, soft_wrap=True)


def scan_command(
    provider: Path = typer.Argument(..., help="Provider folder: customers, accounts, usage/."),
    lists: Path | None = typer.Option(
        None,
        "--lists",
        help="Offline list mirror folder (else the active snapshot, else download).",
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: today)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on the last line."),
) -> None:
    """Screen, determine and link a provider's book; raise and update alerts."""
    on = day_option(as_of, "--as-of")
    settings = Settings.from_env()
    terminal = sys.stderr.isatty()

    def progress(message: str) -> None:
        if terminal:
            err.print("scan: " + message, markup=False, highlight=False)
        else:
            print(f"scan: {message}", file=sys.stderr, flush=True)

    with err.status("Scanning…") if terminal else nullcontext():
        result = run_scan(
            settings,
            provider,
            lists=lists,
            as_of=on,
            progress=progress,
            workers=min(os.cpu_count() or 1, 4),
        )
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    data = result.to_json()
    typer.echo(
        f"scan {result.scan_id}: {data['customers']:,} customers, {data['accounts']:,} accounts "
        f"on {data['snapshot']}; screened {data['screened']['full']:,} names in full, "
        f"{data['screened']['delta']:,} against list changes; alerts: {data['alerts']['new']} new, "
        f"{data['alerts']['updated']} updated, {data['alerts']['resolved']} resolved, "
        f"{data['alerts']['open']} open ({data['seconds']:.1f} s)"
    )


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
