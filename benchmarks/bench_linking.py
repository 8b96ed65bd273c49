"""Benchmark: link generated accounts on DuckDB (accounts/s, peak memory, accuracy) beside the
naive exact-key union-find baseline on the same data.

    .venv/bin/python benchmarks/bench_linking.py [--n 1000000] [--seed 7] [--shared ../shared]

Target: 1,000,000 accounts in ≤ 2 minutes on 2 cores, ≤ 4 GB. Peak memory is the
process's peak resident set size (Python objects plus DuckDB's native memory).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from computekyc.linking import accuracy, link_accounts, load_accounts, open_geoip
from computekyc.linking.baseline import exact_key_clusters
from computekyc.linking.generate import write_population

REPO = Path(__file__).resolve().parents[1]


def peak_rss_gb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    geoip_dir = Path(os.environ.get("COMPUTEKYC_GEOIP_DIR", args.shared / "data" / "ip"))

    with tempfile.TemporaryDirectory(prefix="bench-linking-") as tmp:
        accounts = Path(tmp) / "accounts.jsonl"
        start = time.perf_counter()
        truth = write_population(args.n, accounts, args.seed, geoip_dir)
        generated = time.perf_counter() - start
        size_mb = accounts.stat().st_size / 1e6
        print(f"generated {args.n:,} accounts ({size_mb:,.0f} MB JSONL) in {generated:.1f} s")

        start = time.perf_counter()
        records = load_accounts(accounts)
        loaded = time.perf_counter() - start
        print(
            f"load+validate: {loaded:.1f} s ({args.n / loaded:,.0f} accounts/s); "
            f"peak RSS {peak_rss_gb():.2f} GB; load average {os.getloadavg()[0]:.2f}"
        )

    geoip = open_geoip(geoip_dir)
    start = time.perf_counter()
    result = link_accounts(records, "duckdb", None, geoip)
    linked = time.perf_counter() - start
    ours = accuracy([e.accounts for e in result.entities], truth)
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    print(
        f"splink/duckdb link: {linked:.1f} s ({args.n / linked:,.0f} accounts/s; "
        f"load+link {args.n / (loaded + linked):,.0f} accounts/s) [{stages}]"
    )
    print(f"  entities {len(result.entities):,}; accuracy {ours.as_dict()}")
    print(f"  peak RSS so far: {peak_rss_gb():.2f} GB")

    start = time.perf_counter()
    naive = exact_key_clusters(records)
    baseline = time.perf_counter() - start
    print(f"baseline exact-key union-find: {baseline:.1f} s ({args.n / baseline:,.0f} accounts/s)")
    print(f"  clusters {len(naive):,}; accuracy {accuracy(naive, truth).as_dict()}")
    print(f"peak RSS (whole run): {peak_rss_gb():.2f} GB; cpus {os.cpu_count()}")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
