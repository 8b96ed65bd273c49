"""The ``computekyc`` command line: a thin adapter over the domain packages.

Start-up is part of the interface: ``computekyc --help`` or ``chips classify H100`` must answer
at once, yet the commands behind ``link`` or ``usage`` need Splink, DuckDB and Arrow. So the root
group imports a command's module only when that command runs (or shows its own help); the root
``--help`` lists each command with the one-line help kept below, which a test holds equal to the
command's own.

Before any command runs, the root reads and checks the environment once (:class:`Settings`, exit 3
on a bad variable) and leaves the result in ``ctx.obj`` for commands that take it.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer._click import Command, Context
from typer._click.exceptions import ClickException
from typer.core import TyperCommand, TyperGroup

from computekyc import __version__
from computekyc.exc import EXIT_INTERNAL, ComputekycError
from computekyc.settings import Settings

# Command name → (module under computekyc.cli, one-line help for the root listing), in the order
# of the data flow. Each module has ``register(app)`` adding its commands to a Typer app.
COMMANDS: dict[str, tuple[str, str]] = {
    "lists": ("lists", "Restricted-party lists: load, update, status, diff."),
    "screen": ("screen", "Screen a name, or a CSV of names, against the active list snapshot."),
    "eval": ("screen", "Measure the matcher on labelled data."),
    "chips": (
        "chips",
        "Accelerator catalogue: classify chips, instance types and labels (3A090/4A090).",
    ),
    "determine": (
        "determine",
        "Status per customer: blocked, license_required, review or clear, with rules and evidence.",
    ),
    "usage": (
        "usage",
        "Compute usage: ingest FOCUS/CUR/sacct/DCGM files, accounting, training runs.",
    ),
    "link": ("link", "Account linking: resolve cloud accounts to the entities behind them."),
    "scan": ("scan", "Screen, determine and link a provider's book; raise and update alerts."),
    "alerts": ("alerts casework", "The alert queue raised by `computekyc scan`."),
    "customers": (
        "customers",
        "Customers of the book: record, determinations, accounts, links, alerts.",
    ),
    "cases": ("casework", "Cases: alerts of one subject worked together."),
    "users": ("casework", "Users, roles and API tokens."),
    "audit": ("casework", "The tamper-evident audit trail."),
    "report": (
        "report report_runs",
        "Reports for regulators and auditors: training runs, evidence packs, screening, "
        "certification.",
    ),
    "serve": (
        "serve",
        "Serve the HTTP API: yente-compatible /match, alerts, cases, audit (docs at /docs).",
    ),
}


def load_commands(module_names: str) -> dict[str, Command]:
    """The Click commands ``computekyc.cli`` modules register, by name. Several modules (named
    with spaces) register in order on one app, so a later one can add to an earlier's group."""
    scratch = typer.Typer()
    for module_name in module_names.split():
        importlib.import_module(f"computekyc.cli.{module_name}").register(scratch)
    group = typer.main.get_group(scratch)
    assert isinstance(group, TyperGroup)
    return dict(group.commands)


class _LazyCommands(MutableMapping[str, Command]):
    """The root's commands: every name is known up front, a module is imported on first use."""

    def __init__(self, eager: MutableMapping[str, Command]) -> None:
        self._loaded: dict[str, Command] = dict(eager)

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded and name in COMMANDS:
            self._loaded.update(load_commands(COMMANDS[name][0]))
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(name not in COMMANDS for name in self._loaded)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._loaded

    def summary(self, name: str) -> Command:
        """A stand-in carrying the command's name and one-line help, without importing it."""
        if name in self._loaded or name not in COMMANDS:
            return self[name]
        help_line = COMMANDS[name][1]
        return TyperCommand(name, help=help_line, short_help=help_line)


def report_error(exc: BaseException) -> None:
    """One plain line on stderr (no console markup: names may hold square brackets)."""
    typer.echo(f"error: {exc}", err=True)


class _Root(TyperGroup):
    """Maps every :class:`ComputekycError` to its documented exit code, in every command, and
    imports each command's module only when it is needed."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.lazy = _LazyCommands(self.commands)
        self.commands = self.lazy
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.lazy)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.lazy:
            return None
        return self.lazy.summary(cmd_name) if self._listing else self.lazy[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True  # the listing needs names and one-line helps only
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: Context) -> Any:
        try:
            # Every command checks the environment first: a bad variable is one line and exit 3
            # before any work, whichever command was asked for. Help needs no environment.
            if "--help" not in [*ctx._protected_args, *ctx.args]:
                ctx.obj = Settings.from_env()
            return super().invoke(ctx)
        except ComputekycError as exc:
            report_error(exc)
            raise typer.Exit(exc.exit_code) from exc
        except BrokenPipeError:
            # A pipe reader that stopped early (``| head``) is not an error.
            _silence_stdout()
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that flushing it at exit cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _debug() -> bool:
    return bool(os.environ.get("COMPUTEKYC_DEBUG"))


app = typer.Typer(
    cls=_Root,
    name="computekyc",
    help="Know who is really renting export-controlled AI compute.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Usage errors (unknown option, bad value) as Click's plain lines, exit 2: no box to squeeze
    # on a narrow terminal or to parse around in a log.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"computekyc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """computekyc: screening, ownership, chips, usage and account linking for GPU clouds."""


def main() -> None:
    app()
