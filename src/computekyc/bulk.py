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
  while this one does other work; :func:`after_commit` — files that depend on a transaction,
  made by a forked process while this one writes it, kept only once it committed.
"""

from __future__ import annotations

import copyreg
import csv
import gc
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO, Generic, Protocol, TypeVar

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


# Whether objects made while the collector was paused are frozen when it resumes (see
# ``frozen_after_pauses``).
_freezing = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while acyclic objects are built or unpickled."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if _freezing:
                gc.freeze()
            gc.enable()


@contextmanager
def frozen_after_pauses() -> Iterator[None]:
    """Within the block, what was made while the collector was paused (:func:`gc_paused`) is
    set aside from it when it resumes: resuming would otherwise walk those millions of objects
    at once. For a process that keeps them to the end of the block (a scan on the command
    line), which unfreezes them."""
    global _freezing
    before = _freezing
    _freezing = True
    try:
        yield
    finally:
        _freezing = before


def _temporary_beside(path: Path) -> tuple[int, Path]:
    """A new temporary file of this process's own beside ``path`` (its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    return fd, Path(temp)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file written whole or not at all: into a temporary file of its own beside
    ``path`` (two processes writing the same cache at once never rename each other's
    half-written file), renamed over ``path`` when the block ends; an error removes it."""
    fd, temp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A file written whole under a temporary name beside ``path``: :meth:`keep` puts it in
    place (atomically; failing, it removes it), :meth:`drop` removes it."""

    temp: Path
    path: Path

    def keep(self) -> None:
        try:
            os.replace(self.temp, self.path)
        except BaseException:
            self.drop()
            raise

    def drop(self) -> None:
        self.temp.unlink(missing_ok=True)


def stage_file(path: Path, write: Callable[[BinaryIO], object]) -> StagedFile:
    """``write`` the file's content into a temporary file beside ``path``, kept later (or not:
    a file that depends on a transaction is put in place only once it committed)."""
    fd, temp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return StagedFile(temp, path)


def _positionally(
    kind: type, strings: dict[str, str]
) -> Callable[[Any], tuple[Any, tuple[Any, ...]]]:
    names = [field.name for field in fields(kind)]  # in the order __init__ takes them

    def reduce(value: Any) -> tuple[Any, tuple[Any, ...]]:
        values = [getattr(value, name) for name in names]
        for at, item in enumerate(values):
            if type(item) is str:  # equal texts (countries, types, relations) pickled once
                values[at] = strings.setdefault(item, item)
        return (kind, tuple(values))

    return reduce


class Prepickled:
    """A value pickled ahead of the file it goes into (while its process waits for the rest
    of that file): written into the file as its bytes, read back as the value itself."""

    __slots__ = ("data",)

    def __init__(self, value: object) -> None:
        with gc_paused():
            self.data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def __reduce__(self) -> tuple[Callable[[bytes], Any], tuple[bytes]]:
        return (pickle.loads, (self.data,))


def stage_pickle(path: Path, value: object, positional: Iterable[type] = ()) -> StagedFile:
    """``value`` pickled into a staged file for ``path`` (the collector paused, see
    :func:`save_pickle`); objects of the ``positional`` classes (slotted dataclasses whose
    ``__init__`` takes every field) are pickled as ``cls(*fields)``, as
    :class:`PositionalPickle` does, for this file only, their equal texts pickled once."""
    strings: dict[str, str] = {}
    table = {
        **copyreg.dispatch_table,
        **{kind: _positionally(kind, strings) for kind in positional},
    }

    def write(handle: BinaryIO) -> None:
        pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = table
        pickler.dump(value)

    with gc_paused():
        return stage_file(path, write)


def save_pickle(path: Path, value: object, positional: Iterable[type] = ()) -> None:
    """Our own disk cache: ``value`` pickled into ``path`` atomically (the collector paused:
    pickling makes many short-lived containers, each full collection rescans every live one)."""
    stage_pickle(path, value, positional).keep()


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


class Staged(Protocol):
    """Files made under temporary names: put in place (:meth:`keep`) or removed (:meth:`drop`)."""

    def keep(self) -> None: ...

    def drop(self) -> None: ...


M = TypeVar("M")


class AfterCommit(Generic[M]):
    """Files that depend on a transaction, made by a forked process while this one writes it,
    kept only once it committed (see :func:`after_commit`)."""

    def __init__(self, prepare: Callable[[], Callable[[M], Staged]], fork: bool) -> None:
        self._prepare = prepare
        self._message: tuple[M] | None = None
        self._pid = -1
        self._pipe: BinaryIO | None = None
        if not (fork and hasattr(os, "fork")):
            return
        read, write = os.pipe()
        pid = _forked(lambda: self._child(read, write), True)
        os.close(read)
        if pid < 0:
            os.close(write)
            return
        self._pid, self._pipe = pid, os.fdopen(write, "wb")

    def _child(self, read: int, write: int) -> None:  # pragma: no cover - in the child
        os.close(write)  # only this process's end: the parent closing its own ends the input
        with os.fdopen(read, "rb") as pipe:
            stage = self._prepare()
            try:
                message: M = pickle.load(pipe)
            except EOFError:
                return  # the transaction failed before it told anything: nothing made
            staged = stage(message)
            try:
                committed = pickle.load(pipe) is True
            except EOFError:
                committed = False
            except BaseException:
                staged.drop()
                raise
            if committed:
                staged.keep()
            else:
                staged.drop()

    def _tell(self, value: object) -> None:
        if self._pipe is None:
            return
        try:
            pickle.dump(value, self._pipe, protocol=pickle.HIGHEST_PROTOCOL)
            self._pipe.flush()
        except OSError:  # the child is gone: the work is done here once committed
            self._close()

    def _close(self) -> None:
        if self._pipe is not None:
            with suppress(OSError):
                self._pipe.close()
            self._pipe = None

    def send(self, message: M) -> None:
        """What the transaction tells the work (its ids), sent as soon as it is known."""
        self._message = (message,)
        self._tell(message)

    def commit(self) -> None:
        """The transaction committed: the files are put in place (made here, from the message
        sent, when there is no child or it failed — an error then raised here)."""
        if self._message is None:
            raise RuntimeError("after_commit: commit() before send()")
        self._tell(True)
        self._close()
        if self._pid >= 0 and _succeeded(self._pid):
            return
        self._pid = -1
        with gc_paused():
            self._prepare()(self._message[0]).keep()

    def abandon(self) -> None:
        """The transaction failed: the child makes nothing, or removes what it made."""
        self._close()
        if self._pid >= 0:
            _succeeded(self._pid)
            self._pid = -1

    def __enter__(self) -> AfterCommit[M]:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.abandon()


def after_commit(prepare: Callable[[], Callable[[M], Staged]], fork: bool) -> AfterCommit[M]:
    """Start, in a forked process, files that depend on a transaction this one is about to
    write: ``prepare()`` computes at once what needs nothing of the transaction and returns
    ``stage``; ``stage(message)`` — the message :meth:`AfterCommit.send` passes from inside the
    transaction — writes the files under temporary names; they are put in place when
    :meth:`AfterCommit.commit` says the transaction committed, removed when it failed (leaving
    the ``with`` block by an error, or :meth:`AfterCommit.abandon`).

    Without ``fork`` (or where the system cannot fork, or when the child failed) the files are
    all made by ``commit`` here, as a plain sequence would: prepared, staged, kept."""
    return AfterCommit(prepare, fork)


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
