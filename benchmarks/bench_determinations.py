"""Determinations per second: N generated customers with 3-level ownership trees (seeded).

Each customer has 2 owners, each owner 2 owners, each of those 1–2 owners (up to 15 nodes); 2%
of owner slots carry a real SDN / Entity List name so the 50% engine has real work. Screening
uses the real engine over the real mirror when ``computekyc.screening`` provides one (``--matcher
auto``), else the exact name/identifier matcher. Prints figures; not a test.

    .venv/bin/python benchmarks/bench_determinations.py [--customers 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from computekyc.ownership import CachedScreener, determine, load_rules, parse_customer, resolve_item
from computekyc.ownership.screener import Screener
from computekyc.ownership.sources import (
    ListData,
    build_graph,
    engine_screener,
    exact_screener,
    load_list_data,
)
from computekyc.settings import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "shen",
    "zhou",
    "tek",
    "nova",
    "vel",
    "tor",
    "an",
    "bel",
    "cor",
    "dex",
    "fin",
    "gal",
    "hua",
    "jin",
    "lu",
    "ming",
]
SUFFIXES = ["Ltd", "LLC", "Pte Ltd", "GmbH", "AB", "Holdings", "Technology Co Ltd", "FZE"]
COUNTRIES = ["SG", "US", "DE", "AE", "GB", "JP", "CN", "HK", "IN", "SE", "RU", "VG"]


def company_name(rng: random.Random) -> str:
    words = [
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).title()
        for _ in range(rng.randint(1, 2))
    ]
    return f"{' '.join(words)} {rng.choice(SUFFIXES)}"


def owners(
    rng: random.Random, depth: int, pool: list[str], listed: list[str], above: tuple[str, ...]
) -> list[dict[str, Any]]:
    if depth > 3:
        return []
    count = 2 if depth < 3 else rng.randint(1, 2)
    shares = [rng.randint(10, 60) for _ in range(count)]
    scale = min(1.0, 100.0 / sum(shares))
    out = []
    for share in shares:
        name = rng.choice(listed) if rng.random() < 0.02 else rng.choice(pool)
        while name in above:  # a company cannot own itself: customers.py rejects such lines
            name = rng.choice(pool)
        country = rng.choice(COUNTRIES)
        out.append(
            {
                "name": name,
                "type": "entity",
                "country": country,
                "headquarters_country": country,
                "share": round(share * scale, 2),
                "owners": owners(rng, depth + 1, pool, listed, (*above, name)),
            }
        )
    return out


def generate(n: int, seed: int, listed: list[str]) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    pool = [company_name(rng) for _ in range(max(1000, n // 4))]
    out = []
    for i in range(n):
        country = rng.choice(COUNTRIES)
        name = company_name(rng)
        out.append(
            {
                "id": f"cust-{i:06d}",
                "name": name,
                "type": "entity",
                "country": country,
                "headquarters_country": country,
                "owners": owners(rng, 1, pool, listed, (name,)),
            }
        )
    return out


def count_nodes(record: dict[str, Any]) -> int:
    return 1 + sum(count_nodes(o) for o in record.get("owners", []))


def pick_screener(data: ListData, matcher: str, home: Path) -> tuple[Screener, str]:
    if matcher in {"auto", "engine"}:
        try:
            return engine_screener(data, home), "engine"
        except (AttributeError, ImportError) as exc:
            if matcher == "engine":
                raise
            print(f"screening engine unavailable ({exc}); using the exact matcher")
    return exact_screener(data, home), "exact"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--matcher", choices=["auto", "engine", "exact"], default="auto")
    parser.add_argument("--lists", type=Path, default=SHARED / "data" / "lists")
    args = parser.parse_args()

    t0 = time.perf_counter()
    settings = Settings.from_env()
    data = load_list_data(settings.sqlalchemy_url, args.lists)
    listed = [p.name for p in data.parties if p.source in {"SDN", "EL", "MEU"}]
    inner, used = pick_screener(data, args.matcher, settings.ensure_home())
    screener = CachedScreener(inner)
    graph = build_graph(data.parties, SHARED / "data" / "ownership")
    rules = load_rules()
    item = resolve_item("H100")
    t1 = time.perf_counter()
    records = generate(args.customers, args.seed, listed)
    customers = [parse_customer(r) for r in records]
    nodes = sum(count_nodes(r) for r in records)
    t2 = time.perf_counter()
    statuses: Counter[str] = Counter()
    on = date(2026, 7, 1)
    for cust in customers:
        statuses[str(determine(cust, item, on, screener, rules, graph).status)] += 1
    t3 = time.perf_counter()
    print(
        f"parties {len(data.parties):,}; graph nodes {len(graph):,}, edges {graph.edge_count():,}"
    )
    print(f"setup (lists, {used} screener, graph): {t1 - t0:.1f}s; generate+parse: {t2 - t1:.1f}s")
    print(f"customers {len(customers):,} (seed {args.seed}); ownership nodes {nodes:,}")
    print(f"determinations: {t3 - t2:.1f}s = {len(customers) / (t3 - t2):,.0f} per second")
    print("statuses:", dict(statuses.most_common()))


if __name__ == "__main__":
    main()
