"""``computekyc lists …``: load, update, inspect and diff restricted-party list snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from computekyc.cli import report_error
from computekyc.exc import ComputekycError, OptionError
from computekyc.lists.snapshots import SnapshotInfo, read_status
from computekyc.settings import Settings

if TYPE_CHECKING:
    # Imported where used: `lists status` must not pay for SQLAlchemy and the list readers.
    from computekyc.lists.diff import ListDiff
    from computekyc.lists.store import ListStore, LoadResult

lists_app = typer.Typer(
    help="Restricted-party lists: load, update, status, diff.", no_args_is_help=True
)
# markup=False: names, paths, options and cells may hold square brackets ("[red]x/dpl.txt").
console = Console(markup=False, highlight=False)


@contextmanager
def _store(settings: Settings, writes: bool = False) -> Iterator[ListStore]:
    """Open the store; a refused write says, after the error, that nothing was changed."""
    from computekyc.lists.store import ListStore

    store: ListStore | None = None
    try:
        if writes:
            from computekyc.services.lists import audited_list_store

            store = audited_list_store(settings)
        else:
            store = ListStore.open(settings.sqlalchemy_url)
        yield store
    except ComputekycError as exc:
        if not writes:
            raise
        report_error(exc)
        typer.echo("Nothing was changed.", err=True)
        raise typer.Exit(exc.exit_code) from exc
    finally:
        if store is not None:
            store.close()


def _print_load(result: LoadResult) -> None:
    snap = result.snapshot
    for note in result.notes:
        console.print(Text.assemble(("note ", "cyan"), note), soft_wrap=True)
    if not result.created:
        console.print(f"Unchanged: the files are already active in snapshot {snap.id}.")
    else:
        console.print(
            f"Snapshot {snap.id}: loaded {', '.join(result.feeds_changed)}"
            + (f"; unchanged {', '.join(result.feeds_unchanged)}" if result.feeds_unchanged else "")
        )
    if not result.files:
        return  # recognised by content hash: nothing was parsed
    table = Table("file", "format", "feed", "rows", "parties", "problems")
    for item in result.files:
        severe = sum(1 for p in item.problems if p.severity == "error")
        table.add_row(
            item.name,
            item.format,
            item.feed,
            f"{item.rows:,}",
            f"{len(item.parties):,}",
            f"{len(item.problems):,}" + (f" ({severe} bad rows)" if severe else ""),
        )
    console.print(table)
    for problem in [p for p in result.problems if p.severity == "error"][:20]:
        console.print(Text.assemble(("skipped ", "yellow"), str(problem)))


@lists_app.command("update")
def update_cmd(
    from_dir: Path | None = typer.Option(
        None, "--from", help="Load an offline mirror folder laid out like shared/data/lists."
    ),
    force: bool = typer.Option(False, "--force", help="Accept a drop of more than 20%."),
) -> None:
    """Download the current official lists (CSL, OFAC, UN), or load a mirror with --from."""
    settings = Settings.from_env()
    with _store(settings, writes=True) as store:
        if from_dir is not None:
            result = store.load_mirror(from_dir, force=force)
        else:
            from computekyc.services.lists import download_lists

            result = download_lists(settings, store, force=force)
        _print_load(result)


@lists_app.command("load")
def load_cmd(
    files: list[Path] = typer.Argument(..., help="List files (any supported layout)."),
    force: bool = typer.Option(False, "--force", help="Accept a drop of more than 20%."),
) -> None:
    """Load single list files; each replaces its feed in a new snapshot."""
    with _store(Settings.from_env(), writes=True) as store:
        _print_load(store.load_files(files, force=force))


def _snapshot_json(info: SnapshotInfo | None) -> dict[str, Any] | None:
    return info.to_dict() if info is not None else None


@lists_app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The active snapshot and the party count of each source list."""
    status = read_status(Settings.from_env().sqlalchemy_url)  # read-only, no SQLAlchemy on SQLite
    info, counts = status.snapshot, status.sources
    if as_json:
        typer.echo(json.dumps({"snapshot": _snapshot_json(info), "sources": counts}, indent=2))
        return
    if info is None:
        console.print("No list snapshot yet: run `computekyc lists update`.")
        return
    console.print(f"Active snapshot {info.id}, created {info.created_at}, {info.parties:,} parties")
    feeds = Table("feed", "loaded", "files", "rows", "parties")
    for feed in info.feeds.values():
        feeds.add_row(
            feed.feed,
            feed.loaded_at,
            ", ".join(f.name for f in feed.files),
            f"{feed.rows:,}",
            f"{feed.parties:,}",
        )
    console.print(feeds)
    sources = Table("source", "parties")
    for code, count in counts.items():
        sources.add_row(code, f"{count:,}")
    console.print(sources)


@lists_app.command("snapshots")
def snapshots_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every snapshot, oldest first."""
    with _store(Settings.from_env()) as store:
        infos = store.snapshots()
    if as_json:
        typer.echo(json.dumps([i.to_dict() for i in infos], indent=2))
        return
    table = Table("id", "created", "parties", "feeds", "forced")
    for info in infos:
        table.add_row(
            str(info.id),
            info.created_at,
            f"{info.parties:,}",
            ", ".join(info.feeds),
            "yes" if info.forced else "",
        )
    console.print(table)


_SEVERITIES = ("error", "warning", "note", "all")


@lists_app.command("problems")
def problems_cmd(
    severity: str = typer.Option(
        "error", "--severity", help="error (skipped rows), warning (orphans…), note, or all."
    ),
    limit: int = typer.Option(50, "--limit", help="Rows shown."),
) -> None:
    """Rows and fields of the active snapshot's files that were reported (file, line, field)."""
    if severity not in _SEVERITIES:
        raise OptionError(f"--severity {severity!r}: use one of {', '.join(_SEVERITIES)}")
    with _store(Settings.from_env()) as store:
        found = [p for p in store.problems() if severity == "all" or p.severity == severity]
    console.print(f"{len(found):,} problems (severity: {severity})")
    for problem in found[:limit]:
        console.print(f"[{problem.severity}] {problem}", soft_wrap=True)


def _diff_table(diff: ListDiff, limit: int) -> None:
    console.print(
        f"Snapshot {diff.old_snapshot} → {diff.new_snapshot}: "
        f"{len(diff.added):,} added, {len(diff.removed):,} removed, {len(diff.changed):,} changed"
    )
    per_source = Table("source", "added", "removed", "changed")
    for code, counts in diff.by_source().items():
        per_source.add_row(code, *(f"{counts[k]:,}" for k in ("added", "removed", "changed")))
    console.print(per_source)
    show: list[tuple[str, Callable[[], list[tuple[str, str, str, str]]]]] = [
        ("added", lambda: [(r.party_id, r.source, r.name, "") for r in diff.added]),
        ("removed", lambda: [(r.party_id, r.source, r.name, "") for r in diff.removed]),
        (
            "changed",
            lambda: [
                (c.party_id, c.source, c.name, ", ".join([*c.fields, *c.other_fields]))
                for c in diff.changed
            ],
        ),
    ]
    for title, rows in show:
        items = rows()
        if not items:
            continue
        table = Table("party", "source", "name", "fields", title=f"{title} (first {limit})")
        for row in items[:limit]:
            table.add_row(*row)
        console.print(table)


@lists_app.command("diff")
def diff_cmd(
    old: int | None = typer.Argument(None, help="Old snapshot id (default: the previous one)."),
    new: int | None = typer.Argument(None, help="New snapshot id (default: the active one)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    limit: int = typer.Option(20, "--limit", help="Rows shown per table."),
) -> None:
    """Parties added, removed and changed between two snapshots."""
    from computekyc.services.lists import diff_pair

    with _store(Settings.from_env()) as store:
        pair = diff_pair(store, old, new)
        diff = store.diff(pair.old, pair.new)
    if as_json:
        typer.echo(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False))
        return
    _diff_table(diff, limit)


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
