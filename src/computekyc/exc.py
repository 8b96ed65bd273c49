"""The one exception root of computekyc and its kinds.

Every error a user can act on is a :class:`ComputekycError`. Each kind carries the exit code the
command line maps it to (documented in the README), the same in every command:

===========  ==============================================================================
exit code    meaning
===========  ==============================================================================
0            done
1            findings, when ``--fail-on`` asks for them to fail the command
2            bad usage or bad input (:class:`OptionError`, :class:`InputError`)
3            environment or state (:class:`StateError`, :class:`ConfigError`)
70           an internal error (a bug): reported in one line, never as a traceback
===========  ==============================================================================

Input errors name where the problem is (file, line, field) so a user can find it; they never
echo secrets (card numbers are masked before they reach a message).
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_STATE = 3
EXIT_INTERNAL = 70


class ComputekycError(Exception):
    """Root of every error computekyc raises on purpose."""

    exit_code: int = EXIT_INPUT


class InputError(ComputekycError):
    """Bad input data: a file, a record or a field that cannot be used as given.

    ``InputError("not a number", file="usage.csv", line=12, field="GpuCount")`` reads
    ``usage.csv:12: GpuCount: not a number``.
    """

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.field:
            where += f"{self.field}: "
        return where + self.message


class OptionError(ComputekycError):
    """A command-line option or API parameter with a value that cannot be used."""

    exit_code = EXIT_INPUT


class NotFoundError(ComputekycError, LookupError):
    """Something asked for by id or name does not exist."""

    exit_code = EXIT_INPUT


class StateError(ComputekycError):
    """The environment or stored state does not allow the operation (no snapshot, busy store…)."""

    exit_code = EXIT_STATE


class ConfigError(StateError):
    """A setting (environment variable, configuration value) is unusable."""


class ConflictError(StateError):
    """The operation conflicts with the current state (already decided, concurrent change…)."""


class PermissionDenied(ComputekycError):
    """The acting user's role does not allow the operation."""

    exit_code = EXIT_INPUT
