"""``computekyc lists …``: load, update, inspect and diff restricted-party list snapshots."""

from __future__ import annotations

import typer

lists_app = typer.Typer(
    help="Restricted-party lists: load, update, status, diff.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(lists_app, name="lists")
