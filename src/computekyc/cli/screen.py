"""``computekyc screen …`` and ``computekyc eval pairs …``: screening names against the lists."""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from computekyc.lists.model import Party
from computekyc.screening import (
    DEFAULT_THRESHOLD,
    Hit,
    HitGroup,
    NoSnapshotError,
    PairFileError,
    Query,
    ScreeningIndex,
    evaluate_pairs,
    group_hits,
    index_from_store,
)

console = Console()
err = Console(stderr=True, soft_wrap=True)  # keep file:line: field messages on one line
eval_app = typer.Typer(help="Measure the matcher on labelled data.", no_args_is_help=True)

_TYPES = ("entity", "individual")


@dataclass(slots=True)
class _Row:
    line: int
    id: str | None
    query: Query | None
    error: str | None


def _load_index() -> ScreeningIndex:
    try:
        with err.status("Loading the screening index of the active list snapshot…"):
            return index_from_store()
    except NoSnapshotError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


def _read_rows(path: Path) -> list[_Row]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        err.print(f"[red]error:[/] {path}: cannot read: {exc.strerror}")
        raise typer.Exit(2) from exc
    rows: list[_Row] = []
    with handle:
        reader = csv.DictReader(handle)
        if "name" not in (reader.fieldnames or []):
            err.print(f"[red]error:[/] {path}:1: header has no 'name' column")
            raise typer.Exit(2)
        for record in reader:
            rows.append(_parse_row(path, reader.line_num, record))
    return rows


def _parse_row(path: Path, line: int, record: dict[str, str | None]) -> _Row:
    ident = (record.get("id") or "").strip() or None
    name = (record.get("name") or "").strip()
    kind = (record.get("type") or "").strip().lower() or None
    dob = (record.get("date_of_birth") or "").strip() or None
    country = (record.get("country") or "").strip().upper() or None
    problem: str | None = None
    if not name:
        problem = "name: empty"
    elif kind is not None and kind not in _TYPES:
        problem = f"type: {kind!r} is not entity or individual"
    elif country is not None and (len(country) != 2 or not country.isalpha()):
        problem = f"country: {country!r} is not an ISO 3166 alpha-2 code"
    elif dob is not None:
        try:
            date.fromisoformat(dob) if len(dob) > 4 else int(dob)
        except ValueError:
            problem = f"date_of_birth: {dob!r} is not YYYY-MM-DD or YYYY"
    if problem:
        return _Row(line, ident, None, f"{path}:{line}: {problem}")
    return _Row(line, ident, Query(name, country, kind, dob), None)


def _party_map(index: ScreeningIndex) -> dict[str, Party]:
    """Party id → party, so each group member shows its listing and delisting dates."""
    return {party.party_id: party for party in index.parties}


def _hits_json(hits: list[Hit], parties: dict[str, Party]) -> list[dict[str, Any]]:
    # One record per listed entity (see screening.grouping): the best hit's keys, unchanged for
    # existing consumers, plus "entity_key" and every listed row as "members".
    return [group.to_dict() for group in group_hits(hits, parties)]


def _batch(input_file: Path, output: Path, threshold: float | None) -> None:
    rows = _read_rows(input_file)
    index = _load_index()
    good = [r for r in rows if r.query is not None]
    queries = [r.query for r in good if r.query is not None]
    with Progress(console=err, transient=True, disable=len(good) < 200) as progress:
        task = progress.add_task("Screening", total=len(good))
        found = index.screen_many(
            queries,
            threshold,
            progress=lambda n: progress.advance(task, n),
            workers=os.cpu_count() or 1,  # forked workers only for large files
        )
    results = {row.line: hits for row, hits in zip(good, found, strict=True)}
    parties = _party_map(index)
    alerted = 0
    with output.open("w", encoding="utf-8") as out:
        for row in rows:
            record: dict[str, Any] = {"id": row.id, "query": None, "hits": []}
            if row.query is None:
                record["error"] = row.error
                err.print(f"[yellow]skipped[/] {row.error}", highlight=False)
            else:
                record["query"] = row.query.name
                record["hits"] = _hits_json(results[row.line], parties)
                alerted += bool(record["hits"])
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    bad = len(rows) - len(good)
    err.print(
        f"Screened {len(good):,} names ({bad:,} bad rows): {alerted:,} with hits → {output}",
        highlight=False,
    )


def _listed_rows(group: HitGroup) -> str:
    """Every listed row of a group, one per line, with its delisting date when it lapsed."""
    return "\n".join(
        f"{m.party_id} (delisted {m.delisted_on})" if m.delisted_on else m.party_id
        for m in group.members
    )


def _table(name: str, groups: list[HitGroup]) -> None:
    if not groups:
        console.print(f"No listed party scores at or above the threshold for {name!r}.")
        return
    table = Table(title=f"Hits for {name!r}")
    for column in ("#", "score", "source", "listed party", "matched name", "programs"):
        table.add_column(column, overflow="fold")
    for number, group in enumerate(groups, 1):
        hit = group.best
        table.add_row(
            str(number),
            f"{hit.score:.2f}",
            hit.source,
            f"{hit.name}\n[dim]{_listed_rows(group)}[/]",
            hit.matched_name,
            ", ".join(hit.programs),
        )
    console.print(table)
    # The explanations are long: one paragraph per hit under the table reads better than a column.
    for number, group in enumerate(groups, 1):
        rows = len(group.members)
        tranches = f", tranches {', '.join(group.tranches)}" if group.tranches else ""
        listed = f" [dim]({rows} listed rows{tranches})[/]" if rows > 1 else ""
        console.print(
            f"[bold]#{number}[/] {group.best.explanation.summary()}{listed}", highlight=False
        )


def screen_cmd(
    name: str | None = typer.Argument(None, help="The name to screen (any script)."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166 alpha-2 country."),
    kind: str | None = typer.Option(None, "--type", help="entity or individual."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    input_file: Path | None = typer.Option(None, "--input", help="CSV with a 'name' column."),
    output: Path | None = typer.Option(None, "--output", help="JSON-lines output file."),
    threshold: float | None = typer.Option(
        None, "--threshold", help=f"Alert threshold (default {DEFAULT_THRESHOLD})."
    ),
) -> None:
    """Screen a name, or a CSV of names, against the active list snapshot."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        err.print("[red]error:[/] --threshold must be between 0 and 1")
        raise typer.Exit(2)
    if input_file is not None:
        if output is None or name is not None:
            err.print("[red]error:[/] use --input FILE.csv --output FILE.jsonl without a NAME")
            raise typer.Exit(2)
        _batch(input_file, output, threshold)
        return
    if not name:
        err.print("[red]error:[/] give a NAME, or --input FILE.csv --output FILE.jsonl")
        raise typer.Exit(2)
    if kind is not None and kind.lower() not in _TYPES:
        err.print(f"[red]error:[/] --type must be entity or individual, not {kind!r}")
        raise typer.Exit(2)
    index = _load_index()
    hits = index.screen(name, country=country, type=kind, threshold=threshold)
    parties = _party_map(index)
    if as_json:
        record = {"query": name, "hits": _hits_json(hits, parties)}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        _table(name, group_hits(hits, parties))


@eval_app.command("pairs")
def eval_pairs_cmd(
    file: Path = typer.Argument(..., help="CSV with name1,name2,is_match columns."),
    threshold: float | None = typer.Option(None, "--threshold", help="Match threshold."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Precision, recall and F1 of the matcher on labelled name pairs."""
    try:
        result = evaluate_pairs(file, threshold)
    except PairFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    for problem in result.problems:
        err.print(f"[yellow]skipped[/] {problem}", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict()) + "\n")
        return
    metrics, counts = result.metrics(), result.counts()
    table = Table(title=f"{file.name}: {len(result.pairs)} pairs at threshold {result.threshold}")
    for column in ("precision", "recall", "F1", "TP", "FP", "FN", "TN"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{metrics['precision']:.3f}",
        f"{metrics['recall']:.3f}",
        f"{metrics['f1']:.3f}",
        *(str(counts[k]) for k in ("tp", "fp", "fn", "tn")),
    )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("screen")(screen_cmd)
    app.add_typer(eval_app, name="eval")
