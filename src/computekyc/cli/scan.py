"""``computekyc scan PROVIDER_DIR``: the daily job over a provider's customer book."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from computekyc.exc import OptionError
from computekyc.services import run_scan
from computekyc.settings import Settings

err = Console(stderr=True, soft_wrap=True)


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"--as-of: expected YYYY-MM-DD, got {value!r}") from None


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
    on = _as_of(as_of)
    settings = Settings.from_env()
    terminal = sys.stderr.isatty()

    def progress(message: str) -> None:
        if terminal:
            err.print("scan: " + message, markup=False, highlight=False)
        else:
            print(f"scan: {message}", file=sys.stderr, flush=True)

    if terminal:
        with err.status("Scanning…"):
            result = run_scan(
                settings,
                provider,
                lists=lists,
                as_of=on,
                progress=progress,
                workers=min(os.cpu_count() or 1, 4),
            )
    else:
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
