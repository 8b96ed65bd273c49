"""Time and peak memory to load the whole list mirror into a fresh store.

Usage: ``python benchmarks/bench_lists_load.py [MIRROR_DIR]`` (default ``../shared/data/lists``).
Prints: parse time, full load time (parse + write, fresh SQLite), idempotent reload time,
peak RSS, peak Python heap (tracemalloc, separate run), database size.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from computekyc.lists import read_mirror
from computekyc.lists.store import ListStore

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    default = Path(os.environ.get("COMPUTEKYC_SHARED", REPO.parent / "shared")) / "data" / "lists"
    mirror = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        parsed = read_mirror(mirror)
        parse_s = time.perf_counter() - started
        parties = sum(len(f.parties) for f in parsed)
        rows = sum(f.rows for f in parsed)
        del parsed

        db = Path(tmp) / "bench.db"
        store = ListStore.open(f"sqlite:///{db}")
        started = time.perf_counter()
        result = store.load_mirror(mirror)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        again = store.load_mirror(mirror)
        reload_s = time.perf_counter() - started
        started = time.perf_counter()
        read_back = len(store.parties())
        read_s = time.perf_counter() - started
        store.close()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        tracemalloc.start()
        store = ListStore.open(f"sqlite:///{Path(tmp) / 'traced.db'}")
        store.load_mirror(mirror)
        heap_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        store.close()

        print(f"mirror: {mirror}")
        print(f"files {len(result.files)}, rows {rows:,}, parties {parties:,}")
        print(f"parse only:            {parse_s:6.2f} s")
        print(f"load into fresh store: {load_s:6.2f} s  (snapshot {result.snapshot.id})")
        print(f"reload, unchanged:     {reload_s:6.2f} s  (new snapshot: {again.created})")
        print(f"read all parties back: {read_s:6.2f} s  ({read_back:,} parties)")
        print(f"peak RSS:              {rss_mb:6.0f} MB")
        print(f"peak Python heap:      {heap_mb:6.0f} MB  (tracemalloc, during one load)")
        print(f"database size:         {db.stat().st_size / 2**20:6.1f} MB")


if __name__ == "__main__":
    main()
