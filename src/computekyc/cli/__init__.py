"""The ``computekyc`` command line: a thin adapter over the domain packages."""

from __future__ import annotations

import typer

from computekyc import __version__

app = typer.Typer(
    name="computekyc",
    help="Know who is really renting export-controlled AI compute.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"computekyc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """computekyc: screening, ownership, chips, usage and account linking for GPU clouds."""


# Each domain's commands live in their own module and register themselves on `app`,
# in the order of the data flow (and of `computekyc --help`).
from computekyc.cli import chips, determine, link, lists, screen, usage  # noqa: E402

for _module in (lists, screen, chips, determine, usage, link):
    _module.register(app)


def main() -> None:
    app()
