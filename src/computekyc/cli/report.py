"""``computekyc report``: the group the report commands register on."""

from __future__ import annotations

import typer

report_app = typer.Typer(
    help="Reports for regulators and auditors: training runs, evidence packs, screening, "
    "certification.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
