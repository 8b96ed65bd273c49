"""Disk caches and command outputs are replaced only once they are whole (computekyc.bulk)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from computekyc.bulk import atomic_file, save_pickle


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
