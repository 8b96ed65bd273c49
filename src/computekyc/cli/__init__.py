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


# Each domain's commands live in their own module and register themselves on `app`.
from computekyc.cli import lists as _lists  # noqa: E402

_lists.register(app)

from computekyc.cli import determine as _determine  # noqa: E402

_determine.register(app)

from computekyc.cli import chips as _chips  # noqa: E402

_chips.register(app)

from computekyc.cli import link as _link  # noqa: E402

_link.register(app)

from computekyc.cli import usage as _usage  # noqa: E402

_usage.register(app)

from computekyc.cli import screen as _screen  # noqa: E402

_screen.register(app)


def main() -> None:
    app()
