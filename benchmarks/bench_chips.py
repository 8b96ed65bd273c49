"""Chip catalogue speed: cold load, then resolve + classify per second over real names.

The names are every instance type, label, gres and DCGM name the catalogue knows plus the GPU
model strings of the real Alibaba node inventories (unknown ones included, as a usage file would
have them). Prints figures; not a test.

    .venv/bin/python benchmarks/bench_chips.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import date
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _trace_models() -> list[str]:
    usage = SHARED / "data" / "usage" / "alibaba"
    names: list[str] = []
    for file, column in (
        ("v2026_spot_gpu_nodes.csv", "gpu_model"),
        ("v2023_gpu_nodes.csv", "model"),
    ):
        with (usage / file).open(newline="", encoding="utf-8") as handle:
            names.extend(row[column] for row in csv.DictReader(handle))
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    from computekyc import chips

    names = [name for group in chips.known_names().values() for name in group]
    load_s = time.perf_counter() - started
    names += _trace_models()

    started = time.perf_counter()
    resolved = unknown = 0
    for _ in range(args.rounds):
        for name in names:
            try:
                chips.resolve(name)
                resolved += 1
            except chips.UnknownHardware:
                unknown += 1
    resolve_s = time.perf_counter() - started

    allocations = [chips.resolve(n) for n in chips.known_names()["instance_type"]]
    day = date(2026, 7, 1)
    started = time.perf_counter()
    count = 0
    for _ in range(args.rounds):
        for allocation in allocations:
            chips.classify(allocation, day)
            count += 1
    classify_s = time.perf_counter() - started

    print(f"catalogue + name tables cold load: {load_s * 1000:.1f} ms")
    print(f"resolve: {resolved + unknown:,} names ({unknown:,} unknown) in {resolve_s:.3f} s")
    print(f"  = {(resolved + unknown) / resolve_s:,.0f} names/s")
    print(f"classify: {count:,} allocations in {classify_s:.3f} s = {count / classify_s:,.0f}/s")


if __name__ == "__main__":
    main()
