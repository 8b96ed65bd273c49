"""Screening benchmark: accuracy against OpenSanctions logic-v2, throughput, latency, memory.

Prints, in one run and side by side:

* precision / recall / F1 on nomenklatura's name_bench pairs for computekyc (at its default
  alerting threshold) and for logic-v2 (at yente's default 0.7). logic-v2 runs live from
  ``nomenklatura`` in the benchmark venv ``.venv-bench`` (``pip install -r
  benchmarks/requirements-bench.txt``); without it the frozen scores in
  ``nomenklatura_logicv2_scores.csv`` are used and the output says so;
* batch throughput (names/s) screening 20,000 names against the whole mirror loaded together,
  in one process and in two worker processes; p50/p99 single-name latency; peak memory;
* logic-v2's pairs/s on the same machine.

Usage: .venv/bin/python benchmarks/bench_screening.py [--names 20000] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from computekyc.lists import parties_from, read_mirror
from computekyc.screening import (
    DEFAULT_THRESHOLD,
    ScreeningIndex,
    analyze,
    compare,
    evaluate_pairs,
)

REPO = Path(__file__).resolve().parents[1]
BENCH_PYTHON = REPO / ".venv-bench" / "bin" / "python"
LOGIC_V2_THRESHOLD = 0.7

# Words for names of companies that are on no list: common trading-name stems, places and forms.
_STEMS = (
    "Blue River", "Northwind", "Evergreen", "Golden Gate", "Silverline", "Redwood", "Summit",
    "Harbor", "Pioneer", "Lakeside", "Sunrise", "Maple", "Granite", "Oakridge", "Crescent",
    "Falcon", "Meridian", "Atlas", "Beacon", "Cedar", "Horizon", "Keystone", "Liberty", "Orchid",
    "Pinnacle", "Quantum", "Riverside", "Sapphire", "Trident", "Vista", "Willow", "Zenith",
    "Anhui Xinda", "Ningbo Haitian", "Foshan Meiling", "Wuxi Jinpeng", "Suzhou Ruixin",
    "Kazan Volga", "Tver Meridian", "Dubai Crescent", "Lagos Delta", "Sao Paulo Verde",
)  # fmt: skip
_FIELDS = (
    "Logistics", "Foods", "Textiles", "Bakery", "Plastics", "Consulting", "Furniture",
    "Printing", "Dental", "Paper", "Garments", "Tiles", "Packaging", "Ceramics", "Software",
    "Trading", "Technology", "Digital", "Electronics", "Cloud Services", "Data Systems",
)  # fmt: skip
_FORMS = ("Ltd", "LLC", "Co., Ltd.", "GmbH", "Inc.", "S.A.", "JSC", "Pte. Ltd.", "")


def _perturb(name: str, rng: random.Random) -> str:
    """A listed name as a customer might type it: a typo, case, punctuation, dropped words."""
    choice = rng.random()
    if choice < 0.3 and len(name) > 6:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1 :]  # dropped letter
    if choice < 0.5 and len(name) > 6:
        i = rng.randrange(1, len(name) - 2)
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # swapped letters
    if choice < 0.65:
        return name.upper() if rng.random() < 0.5 else name.lower()
    if choice < 0.8:
        words = name.replace(",", " ").split()
        if len(words) > 2:
            words.pop(rng.randrange(len(words)))
        return " ".join(words)
    return name.replace(",", "").replace(".", "")


def make_queries(listed: list[str], n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    queries = [_perturb(rng.choice(listed), rng) for _ in range(n // 2)]
    while len(queries) < n:
        name = f"{rng.choice(_STEMS)} {rng.choice(_FIELDS)} {rng.choice(_FORMS)}".strip()
        queries.append(name)
    rng.shuffle(queries)
    return queries


def accuracy(pairs: Path) -> dict[str, float]:
    result = evaluate_pairs(pairs)
    return {**result.metrics(), "threshold": result.threshold}


def by_schema(pairs: Path) -> dict[str, dict[str, float]]:
    with pairs.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    groups: dict[str, list[tuple[float, bool]]] = {}
    for row in rows:
        kind = "Person" if row["schema"] == "Person" else "Organisations/other"
        score = compare(row["name1"], row["name2"]).score
        groups.setdefault(kind, []).append((score, row["is_match"] == "true"))
    return {kind: _prf(scored, DEFAULT_THRESHOLD) for kind, scored in sorted(groups.items())}


def logic_v2(pairs: Path, frozen: Path) -> dict[str, object]:
    if BENCH_PYTHON.exists():
        run = subprocess.run(
            [
                str(BENCH_PYTHON),
                str(REPO / "benchmarks" / "bench_screening_logicv2.py"),
                str(pairs),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode == 0:
            data = json.loads(run.stdout)
            scored = list(zip(data["scores"], data["labels"], strict=True))
            return {**_prf(scored, LOGIC_V2_THRESHOLD), "how": "live (nomenklatura)",
                    "pairs_per_s": data["pairs_per_s"]}  # fmt: skip
        print(f"logic-v2 live run failed, using frozen scores: {run.stderr[-300:]}")
    with frozen.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    scored = [(float(r["score"]), r["is_match"] == "true") for r in rows]
    return {**_prf(scored, LOGIC_V2_THRESHOLD), "how": "frozen scores CSV", "pairs_per_s": None}


def _prf(scored: list[tuple[float, bool]], threshold: float) -> dict[str, float]:
    tp = sum(1 for s, y in scored if s >= threshold and y)
    fp = sum(1 for s, y in scored if s >= threshold and not y)
    fn = sum(1 for s, y in scored if s < threshold and y)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "threshold": threshold}  # fmt: skip


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def throughput(index: ScreeningIndex, queries: list[str], workers: int) -> tuple[float, float]:
    """Names per wall-clock second, and names per CPU-second of all processes involved (the
    second does not depend on what else the shared machine is running)."""
    analyze.cache_clear()  # every run starts cold: no name analysed by an earlier run
    cpu, start = _cpu(), time.perf_counter()
    index.screen_many(queries, workers=workers)
    wall, used = time.perf_counter() - start, _cpu() - cpu
    return len(queries) / wall, len(queries) / used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", type=int, default=20_000)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    names_dir = args.shared / "data" / "eval" / "names"
    pairs = names_dir / "nomenklatura_name_bench.csv"

    ours = accuracy(pairs)
    theirs = logic_v2(pairs, names_dir / "nomenklatura_logicv2_scores.csv")
    print(f"Accuracy on {pairs.name} (826 labelled pairs)")
    print(f"  {'':24}{'precision':>10}{'recall':>10}{'F1':>8}{'threshold':>11}")
    for label, m in (("computekyc", ours), (f"logic-v2 [{theirs['how']}]", theirs)):
        print(f"  {label:24}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>8.3f}"
              f"{m['threshold']:>11}")  # fmt: skip

    print("  computekyc by schema, same threshold (one calibration for people and companies):")
    for schema, m in by_schema(pairs).items():
        print(f"  {schema:24}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>8.3f}")

    start = time.perf_counter()
    parties = parties_from(read_mirror(args.shared / "data" / "lists"))
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    index = ScreeningIndex.build(parties)
    built = time.perf_counter() - start
    listed = [name for _, name, _ in index.names]
    queries = make_queries(listed, args.names)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nMachine load average before timing: {load} (shared cores depress the figures)")
    print(f"Mirror: {len(parties):,} parties, {len(index.names):,} names "
          f"(read {loaded:.1f}s, index built {built:.1f}s; cores: {os.cpu_count()})")  # fmt: skip

    latencies = []
    for name in queries[:2000]:
        t0 = time.perf_counter()
        index.screen(name)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    one = throughput(index, queries, 1)
    two = throughput(index, queries, 2)
    hits = sum(1 for name in queries[:2000] if index.screen(name))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Batch of {len(queries):,} names (half perturbed listed names, half unlisted companies):"
    )
    print(f"  throughput: {one[0]:,.0f} names/s on 1 process, {two[0]:,.0f} names/s on 2 processes")
    print(f"  CPU cost: {one[1]:,.0f} names per CPU-second (1 process), {two[1]:,.0f} (2 processes)"
          f" -> {2 * two[1]:,.0f} names/s on 2 idle cores")  # fmt: skip
    print(f"  single-name latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"  alert rate at threshold {DEFAULT_THRESHOLD}: {hits / 20:.1f}% of the first 2,000")
    print(f"  peak memory (this process): {peak:,.0f} MiB")
    rate = theirs["pairs_per_s"]
    if isinstance(rate, float):
        print(f"logic-v2 speed on this machine: {rate:,.0f} pairs/s (one name pair per compare)")
    else:
        print("logic-v2 speed: not measured (nomenklatura absent)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
