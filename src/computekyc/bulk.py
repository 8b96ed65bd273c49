"""Helpers for building and loading very many small objects fast (list parties, screening index
tokens, linking records).

* :class:`PositionalPickle` — the generic ``__setstate__`` that ``dataclass(slots=True)``
  generates looks up the fields on every object; re-creating them positionally through
  ``__init__`` loads the screening index cache several times faster.
* :func:`gc_paused` — each full cyclic collection rescans every live object, which makes building
  millions of acyclic objects superlinear.
* :func:`read_cache` — our own pickled caches under the state folder, read with the collector
  paused (None when missing or unreadable: rebuilt by the caller); written by :func:`save_pickle`.
* :func:`load_yaml` — the shipped data files (chip catalogue, rules) through libyaml's C parser
  when present: the pure-Python one took a quarter of a second of every CLI command.
* :func:`atomic_file`, :func:`save_pickle` — files (disk caches, command outputs) replaced only
  once they are whole, through a temporary file of their own.
* :func:`csv_field_limit`, :func:`check_columns` — CSV readers: a field limit put back after
  use, and a header naming a column twice refused (a reader would keep only the last).
* :func:`beside`, :func:`lines_beside` — files written, or lines made, by a forked process
  while this one does other work.
"""

from __future__ import annotations

import csv
import gc
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from computekyc.exc import InputError

# Same safe semantics as yaml.safe_load; the C implementation ships with PyYAML's wheels.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PositionalPickle:
    """Mixin: pickle a slotted dataclass as ``cls(*fields)``. Field order = ``__slots__`` order."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        names: tuple[str, ...] = type(self).__slots__
        return (type(self), tuple(getattr(self, name) for name in names))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while acyclic objects are built or unpickled."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file written whole or not at all: into a temporary file of its own beside
    ``path`` (two processes writing the same cache at once never rename each other's
    half-written file), renamed over ``path`` when the block ends; an error removes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def save_pickle(path: Path, value: object) -> None:
    """Our own disk cache: ``value`` pickled into ``path`` atomically (the collector paused:
    pickling makes many short-lived containers, each full collection rescans every live one)."""
    with gc_paused(), atomic_file(path) as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _forked(work: Callable[[], object], fork: bool) -> int:
    """The id of a forked process doing ``work`` (-1: not forked, or this system cannot fork).

    The child leaves through ``os._exit`` (status 0 once the work is done): it never flushes or
    closes what it inherited (database connections, output streams), and its collector stays
    paused (collecting would touch, and so copy, every page it shares with this process)."""
    if not (fork and hasattr(os, "fork")):
        return -1
    try:
        pid = os.fork()
    except OSError:
        return -1
    if pid == 0:  # pragma: no cover - the child: its result is the parent's to check
        code = 1
        try:
            gc.disable()
            work()
            code = 0
        finally:
            os._exit(code)
    return pid


def _succeeded(pid: int) -> bool:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def beside(work: Callable[[], object], fork: bool) -> Callable[[], None]:
    """Start ``work`` (writing files of its own, nothing else) in a forked process and return
    the call that waits for it: this process does other work meanwhile, on another core.

    When the child did not finish its work, the returned call does the work here, so that an
    error is raised in this process with its own message (files are written whole or not at
    all: a child that failed leaves nothing half-written). Without ``fork``, or where the system
    cannot fork, the work is done at once."""
    pid = _forked(work, fork)
    if pid < 0:
        with gc_paused():
            work()
        return lambda: None

    def join() -> None:
        if not _succeeded(pid):
            with gc_paused():
                work()

    return join


def lines_beside(make: Callable[[], Iterable[str]], fork: bool) -> Callable[[], list[str]]:
    """``make()`` — lines without a line break in them — made by a forked process while this one
    does other work (see :func:`beside`); the returned call waits and gives them, read from a
    spool file the child wrote (made here when the child failed)."""
    if not (fork and hasattr(os, "fork")):
        with gc_paused():
            made = list(make())
        return lambda: made
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the returned call

    def work() -> None:
        spool.write("".join(f"{line}\n" for line in make()).encode("utf-8"))
        spool.flush()

    pid = _forked(work, True)

    def join() -> list[str]:
        with spool:
            if pid >= 0 and _succeeded(pid):
                spool.seek(0)
                return spool.read().decode("utf-8").split("\n")[:-1]
        with gc_paused():
            return list(make())

    return join


def read_cache(path: Path) -> Any | None:
    """A pickled cache file of our own (under the state folder); None when absent or broken."""
    if not path.is_file():
        return None
    try:
        with gc_paused(), path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        return None


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, with libyaml's C parser when PyYAML was built with it."""
    return yaml.load(text, Loader=_LOADER)


@contextmanager
def csv_field_limit(limit: int) -> Iterator[None]:
    """Read CSV with ``limit`` as the longest field, and put the previous limit back.

    ``csv.field_size_limit`` is one setting for the whole process: a reader that raised it and
    left it raised would silently change what every other reader accepts."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def check_columns(file: str, header: Sequence[str], used: Iterable[str]) -> None:
    """Refuse a header that names a column the command reads more than once: a CSV reader
    keeps only the last of them, silently."""
    twice = {
        column: [i + 1 for i, name in enumerate(header) if name == column]
        for column in used
        if header.count(column) > 1
    }
    if twice:
        listed = "; ".join(
            f"{column!r} is columns {', '.join(map(str, places))}"
            for column, places in twice.items()
        )
        raise InputError(
            f"the header names a column more than once ({listed}); keep one of each",
            file=file,
            line=1,
        )
