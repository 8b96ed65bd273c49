"""The ``computekyc`` command line: a thin adapter over the domain packages."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer._click import Context
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from computekyc import __version__
from computekyc.exc import EXIT_INTERNAL, ComputekycError


def report_error(exc: BaseException) -> None:
    """One plain line on stderr (no console markup: names may hold square brackets)."""
    typer.echo(f"error: {exc}", err=True)


class _Root(TyperGroup):
    """Maps every :class:`ComputekycError` to its documented exit code, in every command."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except ComputekycError as exc:
            report_error(exc)
            raise typer.Exit(exc.exit_code) from exc
        except BrokenPipeError:
            # A pipe reader that stopped early (``| head``) is not an error.
            sys.stderr.close()
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except Exception as exc:  # a bug: one line, the documented code, no traceback
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc} "
                "(please report it; set COMPUTEKYC_DEBUG=1 for the traceback)",
                err=True,
            )
            if _debug():
                raise
            raise typer.Exit(EXIT_INTERNAL) from exc


def _debug() -> bool:
    import os

    return bool(os.environ.get("COMPUTEKYC_DEBUG"))


app = typer.Typer(
    cls=_Root,
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
from computekyc.cli import (  # noqa: E402
    alerts,
    chips,
    determine,
    link,
    lists,
    scan,
    screen,
    usage,
)

for _module in (lists, screen, chips, determine, usage, link, scan, alerts):
    _module.register(app)


def main() -> None:
    app()
