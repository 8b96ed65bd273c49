"""``computekyc screen …`` and ``computekyc eval pairs …``: screening names against the lists.

Names, cells and paths are user data: they reach the console only as ``rich.text.Text`` or with
``markup=False``, never as console markup (a name may hold square brackets).
"""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from computekyc.bulk import check_columns
from computekyc.cli._io import (
    check_input,
    check_output,
    display_name,
    is_stdio,
    open_output,
    print_table,
    read_text,
    strict_json,
)
from computekyc.exc import InputError, OptionError

if TYPE_CHECKING:
    from computekyc.screening import HitGroup, ScreeningIndex

console = Console()
err = Console(stderr=True, soft_wrap=True)  # keep file:line: field messages on one line
eval_app = typer.Typer(help="Measure the matcher on labelled data.", no_args_is_help=True)

PAIR_COLUMNS = ("name1", "name2", "is_match")


def _load_index() -> ScreeningIndex:
    from computekyc.services.indexes import screening_index
    from computekyc.settings import Settings

    settings = Settings.from_env()
    with err.status("Loading the screening index of the active list snapshot…"):
        # NoSnapshotError is a StateError: exit 3
        return screening_index(settings)


def _check_type(kind: str | None, option: str) -> str | None:
    """``entity`` or ``individual`` for any word of the product's party-type vocabulary."""
    from computekyc.lists import holder_type

    if kind is None:
        return None
    try:
        return str(holder_type(kind.strip()))
    except InputError as error:
        raise OptionError(f"{option}: {error.message}") from None


def _hits_json(groups: list[HitGroup]) -> list[dict[str, Any]]:
    # One record per listed entity (see screening.grouping): the best hit's keys, unchanged for
    # existing consumers, plus "entity_key" and every listed row as "members".
    return [group.to_dict() for group in groups]


def _batch(input_file: Path, output: Path, threshold: float | None) -> None:
    from computekyc.services.screening import read_screen_csv, screen_batch

    check_input(input_file, "--input")
    check_output(output, "--output", [input_file])  # before any work
    rows = read_screen_csv(read_text(input_file), display_name(input_file))
    index = _load_index()
    good = sum(r.query is not None for r in rows)
    with Progress(console=err, transient=True, disable=good < 200) as progress:
        task = progress.add_task("Screening", total=good)
        result = screen_batch(
            index,
            rows,
            threshold,
            progress=lambda n: progress.advance(task, n),
            workers=os.cpu_count() or 1,  # forked workers only for large files
        )
    with open_output(output) as out:
        for row in result.rows:
            record: dict[str, Any] = {"id": row.id, "query": None, "hits": []}
            if row.query is None:
                record["error"] = row.error
                err.print(Text.assemble(("skipped", "yellow"), " ", row.error or ""))
            else:
                record["query"] = row.query.name
                record["hits"] = _hits_json(result.groups[row.line])
            out.write(strict_json(record) + "\n")
    err.print(
        f"Screened {good:,} names ({result.bad:,} bad rows): {result.with_hits:,} with hits → "
        f"{display_name(output, '<stdout>')}",
        markup=False,
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
        console.print(
            f"No listed party scores at or above the threshold for {name!r}.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    table = Table(title=Text(f"Hits for {name!r}"))
    for column in ("#", "score", "source", "listed party", "matched name", "programs"):
        table.add_column(column, overflow="fold")
    for number, group in enumerate(groups, 1):
        hit = group.best
        table.add_row(
            Text(str(number)),
            Text(f"{hit.score:.2f}"),
            Text(hit.source),
            Text.assemble(hit.name, "\n", (_listed_rows(group), "dim")),
            Text(hit.matched_name),
            Text(", ".join(hit.programs)),
        )
    print_table(console, table)
    # The explanations are long: one paragraph per hit under the table reads better than a column.
    for number, group in enumerate(groups, 1):
        rows = len(group.members)
        tranches = f", tranches {', '.join(group.tranches)}" if group.tranches else ""
        listed = (f" ({rows} listed rows{tranches})", "dim") if rows > 1 else ""
        console.print(
            Text.assemble((f"#{number}", "bold"), " ", group.best.explanation.summary(), listed),
            soft_wrap=True,
        )


def screen_cmd(
    name: str | None = typer.Argument(None, help="The name to screen (any script)."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166 alpha-2 country."),
    kind: str | None = typer.Option(
        None, "--type", help="entity or individual (also company, organization, person…)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    input_file: Path | None = typer.Option(
        None, "--input", help="CSV with a 'name' column ('-' for stdin)."
    ),
    output: Path | None = typer.Option(
        None, "--output", help="JSON-lines output file ('-' for stdout)."
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", help="Alert threshold, 0 to 1 (default: the engine's calibrated one)."
    ),
) -> None:
    """Screen a name, or a CSV of names, against the active list snapshot."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise OptionError(f"--threshold must be between 0 and 1, not {threshold}")
    kind = _check_type(kind, "--type")
    if input_file is not None:
        if output is None or name is not None:
            raise OptionError("use --input FILE.csv --output FILE.jsonl without a NAME")
        if country is not None or kind is not None:
            raise OptionError(
                "--country and --type apply to one NAME; in an --input file give them "
                "as the 'country' and 'type' columns"
            )
        _batch(input_file, output, threshold)
        return
    if output is not None:
        raise OptionError("--output goes with --input FILE.csv (for one NAME use --json)")
    if not name or not name.strip():
        raise OptionError("give a NAME, or --input FILE.csv --output FILE.jsonl")
    from computekyc.services.screening import screen_name

    groups = screen_name(_load_index(), name, country, kind, threshold)
    if as_json:
        record = {"query": name, "hits": _hits_json(groups)}
        sys.stdout.write(strict_json(record) + "\n")
    else:
        _table(name, groups)


@eval_app.command("pairs")
def eval_pairs_cmd(
    file: Path = typer.Argument(..., help="CSV with name1,name2,is_match columns ('-' for stdin)."),
    threshold: float | None = typer.Option(None, "--threshold", help="Match threshold."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Precision, recall and F1 of the matcher on labelled name pairs."""
    from computekyc.screening import evaluate_pairs
    from computekyc.services.indexes import use_screening_settings
    from computekyc.settings import Settings

    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise OptionError(f"--threshold must be between 0 and 1, not {threshold}")
    check_input(file, "FILE")
    text = read_text(file)
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    check_columns(display_name(file), [column.strip() for column in header], PAIR_COLUMNS)
    label = display_name(file) if is_stdio(file) else file
    use_screening_settings(Settings.from_env())  # the analyst's own aliases count too
    result = evaluate_pairs(label, threshold, text=text)  # PairFileError is an InputError
    for problem in result.problems:
        err.print(Text.assemble(("skipped", "yellow"), " ", problem))
    if as_json:
        sys.stdout.write(strict_json(result.to_dict()) + "\n")
        return
    metrics, counts = result.metrics(), result.counts()
    title = f"{Path(label).name}: {len(result.pairs)} pairs at threshold {result.threshold}"
    table = Table(title=Text(title))
    for column in ("precision", "recall", "F1", "TP", "FP", "FN", "TN"):
        table.add_column(column, justify="right")
    table.add_row(
        Text(f"{metrics['precision']:.3f}"),
        Text(f"{metrics['recall']:.3f}"),
        Text(f"{metrics['f1']:.3f}"),
        *(Text(str(counts[k])) for k in ("tp", "fp", "fn", "tn")),
    )
    print_table(console, table)


def register(app: typer.Typer) -> None:
    app.command("screen")(screen_cmd)
    app.add_typer(eval_app, name="eval")
