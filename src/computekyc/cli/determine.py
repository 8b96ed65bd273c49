"""``computekyc determine``: export-control determinations for customers in a JSONL file."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

import typer

from computekyc.cli._io import day_option
from computekyc.ownership import DEFAULT_ITEM
from computekyc.ownership import InputError as CustomerLineError
from computekyc.settings import Settings


def determine_command(
    customers: Path = typer.Option(..., "--customers", exists=True, dir_okay=False, help="JSONL"),
    item: str = typer.Option(DEFAULT_ITEM, "--item", help="chip, instance type or label"),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: today)"),
    output: Path | None = typer.Option(None, "--output", help="write JSONL here"),
    as_json: bool = typer.Option(False, "--json", help="print JSON lines instead of a summary"),
    lists: Path | None = typer.Option(
        None, "--lists", help="list mirror folder (default: the active stored snapshot)"
    ),
    list_file: list[Path] = typer.Option([], "--list-file", help="extra list file (repeatable)"),
    ownership: Path | None = typer.Option(
        None, "--ownership", help="folder with gleif-api/ and gleif-golden-copy/"
    ),
    ftm: list[Path] = typer.Option([], "--ftm", help="FollowTheMoney JSONL file (repeatable)"),
    rules_file: Path | None = typer.Option(None, "--rules", help="rule timeline YAML"),
    matcher: str = typer.Option(
        "engine", "--matcher", help="engine (fuzzy screening) or exact (names and identifiers)"
    ),
) -> None:
    """Status per customer: blocked, license_required, review or clear, with rules and evidence."""
    from computekyc.ownership.sources import NoListData
    from computekyc.services.batch_determination import (
        DeterminationSources,
        Matcher,
        batch_determiner,
    )

    on = day_option(as_of, "--as-of") or date.today()
    if matcher not in {m.value for m in Matcher}:
        raise typer.BadParameter(f"--matcher must be engine or exact, got {matcher!r}")
    sources = DeterminationSources(lists, list_file, ownership, ftm, rules_file, Matcher(matcher))
    try:
        determiner = batch_determiner(
            Settings.from_env(), item, on, sources, pin_snapshot=as_of is not None
        )
    except NoListData as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if determiner.note:
        typer.echo(determiner.note, err=True)  # which snapshot the answers come from
    sink: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
    errors = 0
    try:
        for result in determiner.determine_file(customers):
            if isinstance(result, CustomerLineError):
                errors += 1
                typer.echo(f"error: {result}", err=True)
                if output or as_json:
                    sink.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                continue
            if output or as_json:
                sink.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            else:
                typer.echo(f"{result.id}\t{result.status}\t{result.explanation}")
    finally:
        if output:
            sink.close()
    if errors:
        typer.echo(f"{errors} bad customer line(s); see errors above", err=True)
        raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    app.command("determine")(determine_command)
