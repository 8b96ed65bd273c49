"""Disk caches and command outputs are replaced only once they are whole (computekyc.bulk)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from computekyc.bulk import (
    Staged,
    after_commit,
    atomic_file,
    beside,
    lines_beside,
    save_pickle,
    stage_pickle,
)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "index.pickle"
    save_pickle(target, {"version": 1})
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write(b"half a pickle")
        raise RuntimeError("interrupted")
    assert pickle.loads(target.read_bytes()) == {"version": 1}
    assert sorted(p.name for p in target.parent.iterdir()) == ["index.pickle"]


def test_a_new_cache_is_written_whole_in_a_new_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "graph.pickle"
    save_pickle(target, [1, 2, 3])
    assert pickle.loads(target.read_bytes()) == [1, 2, 3]
    assert [p.name for p in target.parent.iterdir()] == ["graph.pickle"]


@pytest.mark.parametrize("fork", [True, False])
def test_work_beside_is_done_when_waited_for(tmp_path: Path, fork: bool) -> None:
    target = tmp_path / "register.pickle"
    pids: list[int] = []

    def work() -> None:
        save_pickle(target, {"written by": os.getpid()})

    join = beside(work, fork)
    pids.append(os.getpid())
    join()
    written = pickle.loads(target.read_bytes())["written by"]
    assert (written != pids[0]) if fork else (written == pids[0])


def test_work_a_forked_process_failed_is_done_again_here_with_its_error(tmp_path: Path) -> None:
    target = tmp_path / "register.pickle"
    parent = os.getpid()

    def work() -> None:
        if os.getpid() != parent:
            raise OSError("disk full in the child")
        with atomic_file(target) as handle:
            handle.write(b"whole")
        raise PermissionError("and here")

    join = beside(work, True)
    with pytest.raises(PermissionError, match="and here"):
        join()
    assert target.read_bytes() == b"whole"


@pytest.mark.parametrize("fork", [True, False])
def test_lines_made_beside_come_back_whole_and_in_order(fork: bool) -> None:
    lines = ['{"name":"Ål\u2028and\x85"}', "", "zürich", *(str(n) for n in range(20000))]
    assert lines_beside(lambda: iter(lines), fork)() == lines
    assert lines_beside(lambda: [], fork)() == []


def test_lines_a_forked_process_failed_to_make_are_made_here() -> None:
    parent = os.getpid()

    def make() -> list[str]:
        if os.getpid() != parent:
            raise MemoryError("in the child")
        return ["made", "here"]

    assert lines_beside(make, True)() == ["made", "here"]


def _tail(folder: Path, made_in: list[int] | None = None) -> Callable[[], Callable[[int], Staged]]:
    """Work beside a transaction: a file named by the id the transaction tells, written under a
    temporary name (with the process that prepared it) and kept when it committed."""

    def prepare() -> Callable[[int], Staged]:
        prepared_by = os.getpid()
        if made_in is not None and prepared_by != made_in[0]:
            raise OSError("disk full in the child")

        def stage(scan_id: int) -> Staged:
            return stage_pickle(folder / f"scan-{scan_id}.pickle", {"by": prepared_by})

        return stage

    return prepare


@pytest.mark.parametrize("fork", [True, False])
def test_work_beside_a_transaction_is_kept_once_it_committed(tmp_path: Path, fork: bool) -> None:
    with after_commit(_tail(tmp_path), fork) as tail:
        tail.send(7)
    assert not (tmp_path / "scan-7.pickle").exists()  # not before the commit
    tail.commit()
    assert [p.name for p in tmp_path.iterdir()] == ["scan-7.pickle"]
    by = pickle.loads((tmp_path / "scan-7.pickle").read_bytes())["by"]
    assert (by != os.getpid()) if fork else (by == os.getpid())


@pytest.mark.parametrize("fork", [True, False])
@pytest.mark.parametrize("told", [True, False])
def test_work_beside_a_failed_transaction_leaves_nothing(
    tmp_path: Path, fork: bool, told: bool
) -> None:
    with pytest.raises(RuntimeError), after_commit(_tail(tmp_path), fork) as tail:
        if told:
            tail.send(7)
        raise RuntimeError("the commit failed")
    assert list(tmp_path.iterdir()) == []


def test_work_a_forked_process_failed_beside_a_transaction_is_done_here(tmp_path: Path) -> None:
    with after_commit(_tail(tmp_path, [os.getpid()]), True) as tail:
        tail.send(3)
    tail.commit()
    assert pickle.loads((tmp_path / "scan-3.pickle").read_bytes()) == {"by": os.getpid()}
    assert [p.name for p in tmp_path.iterdir()] == ["scan-3.pickle"]
