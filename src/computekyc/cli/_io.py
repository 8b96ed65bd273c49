"""Input and output helpers every command uses: ``-`` for stdin/stdout, outputs checked before
the work starts, written atomically, and strict JSON.

``--output`` is checked up front (its folder exists, it is not a folder, it is not one of the
inputs) so a long run never ends in an error after the work was done, and a file is only
replaced once it is whole.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, overload

from computekyc.bulk import atomic_file
from computekyc.exc import InputError, OptionError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

STDIO = "-"


def is_stdio(path: str | Path | None) -> bool:
    return path is not None and str(path) == STDIO


def display_name(path: str | Path, stdio: str = "<stdin>") -> str:
    """How messages name an input (or, with ``stdio="<stdout>"``, an output)."""
    return stdio if is_stdio(path) else str(path)


@overload
def day_option(value: str, option: str) -> date: ...
@overload
def day_option(value: None, option: str) -> None: ...
@overload
def day_option(value: str | None, option: str) -> date | None: ...
def day_option(value: str | None, option: str) -> date | None:
    """A day given to ``option`` (YYYY-MM-DD); None when the option was not given."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def check_input(path: str | Path, option: str) -> None:
    """An input file that exists and is a file (or ``-``)."""
    if is_stdio(path):
        return
    p = Path(path)
    if not p.exists():
        raise OptionError(f"{option}: {p} does not exist")
    if p.is_dir():
        raise OptionError(f"{option}: {p} is a folder, not a file")


def check_output(path: str | Path, option: str, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse an output that cannot be written, before any work is done."""
    if is_stdio(path):
        return
    p = Path(path)
    if p.is_dir():
        raise OptionError(f"{option}: {p} is a folder; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OptionError(f"{option}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OptionError(f"{option}: the folder {parent} is not writable")
    for source in inputs:
        if is_stdio(source):
            continue
        if p.exists() and Path(source).exists() and os.path.samefile(p, source):
            raise OptionError(f"{option}: {p} is also an input; it would be overwritten")


def read_text(path: str | Path) -> str:
    """A whole text input (``-`` for stdin) decoded as UTF-8, a BOM skipped. Bytes that are not
    UTF-8 are an :class:`InputError` naming the file, line and column, not a traceback."""
    name = display_name(path)
    try:
        data = sys.stdin.buffer.read() if is_stdio(path) else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=name) from exc
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {exc.start - line_start + 1});"
            " save the file as UTF-8",
            file=name,
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None


@contextmanager
def open_input(path: str | Path) -> Iterator[TextIO]:
    """A text input (``-`` for stdin), UTF-8 (a BOM is skipped)."""
    if is_stdio(path):
        yield sys.stdin
        return
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        yield handle


@contextmanager
def open_output(path: str | Path) -> Iterator[TextIO]:
    """A text output (``-`` for stdout), replaced atomically once it is whole."""
    if is_stdio(path):
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_file(Path(path)) as raw, io.TextIOWrapper(raw, "utf-8", newline="") as handle:
        yield handle


def write_bytes(path: str | Path, data: bytes) -> None:
    """A binary output (``-`` for stdout), replaced atomically once it is whole."""
    if is_stdio(path):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with atomic_file(Path(path)) as handle:
        handle.write(data)


def strict_json(value: Any, *, indent: int | None = None) -> str:
    """JSON that every parser accepts: no NaN or Infinity (those are refused, not printed)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent, default=str)
    except ValueError as exc:
        raise InputError(f"a value is not finite and cannot be written as JSON ({exc})") from exc


def print_table(console: Console, table: Table) -> None:
    """A Rich table where it fits the console without folding a cell, else the same rows as
    records (``column: value`` lines, long lines left to the terminal to wrap): a narrow
    terminal or a pipe never squeezes a column to nothing. Cells should be ``Text`` (or markup
    the caller wrote), never user data in a plain string."""
    from rich.measure import Measurement
    from rich.text import Text

    unbounded = console.options.update_width(1 << 20)  # measure, don't clamp to the console
    if Measurement.get(console, unbounded, table).maximum <= console.width:
        console.print(table)
        return
    if table.title:
        console.print(table.title, soft_wrap=True)
    headers = [_as_text(column.header) for column in table.columns]
    rows = zip(*(list(column.cells) for column in table.columns), strict=True)
    for number, row in enumerate(rows):
        if number:
            console.print()
        for header, cell in zip(headers, row, strict=True):
            lines = _as_text(cell).split("\n") or [Text()]
            console.print(Text.assemble(header, ": ", lines[0]), soft_wrap=True)
            for more in lines[1:]:
                console.print(Text.assemble("    ", more), soft_wrap=True)


def _as_text(cell: object) -> Text:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell
    return Text.from_markup(cell) if isinstance(cell, str) else Text(str(cell))
