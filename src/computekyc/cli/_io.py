"""Input and output helpers every command uses: ``-`` for stdin/stdout, outputs checked before
the work starts, written atomically, and strict JSON.

``--output`` is checked up front (its folder exists, it is not a folder, it is not one of the
inputs) so a long run never ends in an error after the work was done, and a file is only
replaced once it is whole.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from computekyc.exc import InputError, OptionError

STDIO = "-"


def is_stdio(path: str | Path | None) -> bool:
    return path is not None and str(path) == STDIO


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
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def strict_json(value: Any, *, indent: int | None = None) -> str:
    """JSON that every parser accepts: no NaN or Infinity (those are refused, not printed)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent, default=str)
    except ValueError as exc:
        raise InputError(f"a value is not finite and cannot be written as JSON ({exc})") from exc
