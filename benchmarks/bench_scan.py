"""The daily scan at provider scale: first scan, re-scan after a list update, unchanged re-scan.

Generates a book (customers with owners and directors, two accounts each, usage in FOCUS) under
a temporary home, loads the list mirror minus 200 SDN parties, scans, then loads the whole mirror
(200 parties added) and scans again, then scans once more unchanged. Prints the figures beside
the targets (100,000 customers / 200,000 accounts / 1M usage rows on a 2-core box: first scan
≤ 10 min, re-scan after +200 parties ≤ 30 s, unchanged ≤ 10 s, determinations ≥ 2,000/s).
Prints figures; not a test.

    .venv/bin/python benchmarks/bench_scan.py [--customers 100000] [--usage-rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from computekyc.usage.generate import FOCUS_COLUMNS

SHARED = Path(os.environ.get("COMPUTEKYC_SHARED", Path(__file__).resolve().parents[2] / "shared"))
LISTS = SHARED / "data" / "lists"

PREFIX = [
    "Northern",
    "Blue",
    "Quantum",
    "Silver",
    "Harbor",
    "Summit",
    "Cedar",
    "Polar",
    "Vertex",
    "Lumen",
    "Apex",
    "Coral",
    "Nova",
]
CORE = [
    "Analytics",
    "Robotics",
    "Compute",
    "Labs",
    "Vision",
    "Systems",
    "Dynamics",
    "Logic",
    "Cloud",
    "Bio",
    "Media",
    "Data",
]
SUFFIX = ["Inc.", "GmbH", "Ltd", "LLC", "Pte Ltd", "SAS", "BV", "KK", "AB", "Oy", "S.p.A."]
FIRST = [
    "James",
    "Maria",
    "Wei",
    "Olga",
    "Ahmed",
    "Sofia",
    "Lukas",
    "Aiko",
    "Mateo",
    "Priya",
    "Noah",
    "Elena",
    "Kofi",
    "Hana",
    "Ivan",
]
LAST = [
    "Smith",
    "Garcia",
    "Chen",
    "Petrova",
    "Khan",
    "Rossi",
    "Brenner",
    "Sato",
    "Silva",
    "Raman",
    "Moreau",
    "Novak",
    "Mensah",
]
COUNTRIES = [
    "US",
    "DE",
    "GB",
    "FR",
    "JP",
    "SG",
    "CA",
    "NL",
    "SE",
    "FI",
    "IT",
    "AU",
    "KR",
    "IN",
    "BR",
    "CH",
    "ES",
    "NO",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "tas",
    "vo",
    "ul",
    "bri",
    "den",
    "sor",
    "pia",
    "qua",
    "zet",
    "hol",
    "mun",
    "ter",
    "vik",
    "ashi",
]
INSTANCES = ["p5.48xlarge", "p4d.24xlarge", "g5.xlarge", "g6.xlarge", "p5e.48xlarge"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {_word(rng)} {rng.choice(LAST)}"


def write_book(folder: Path, customers: int, usage_rows: int, seed: int = 1) -> None:
    """customers.jsonl, accounts.jsonl (two per customer) and usage/focus.csv."""
    rng = random.Random(seed)
    (folder / "usage").mkdir(parents=True, exist_ok=True)
    accounts: list[str] = []
    with (
        (folder / "customers.jsonl").open("w", encoding="utf-8") as cust,
        (folder / "accounts.jsonl").open("w", encoding="utf-8") as acct,
    ):
        for n in range(customers):
            country = rng.choice(COUNTRIES)
            name = f"{rng.choice(PREFIX)} {_word(rng)} {rng.choice(CORE)} {rng.choice(SUFFIX)}"
            owners = [
                {"name": _person(rng), "type": "person", "country": country, "share": 60},
                {
                    "name": f"{_word(rng)} Holdings {rng.choice(SUFFIX)}",
                    "type": "company",
                    "country": country,
                    "share": 40,
                    "owners": [{"name": _person(rng), "type": "person", "share": 100}],
                },
            ]
            record = {
                "id": f"c{n:07d}",
                "name": name,
                "type": "organization",
                "country": country,
                "headquarters_country": country,
                "owners": owners,
                "directors": [owners[0]["name"]],
            }
            cust.write(json.dumps(record) + "\n")
            domain = name.split()[1].lower() + ".example"
            for k in range(2):
                account = f"a{n:07d}-{k}"
                accounts.append(account)
                shared_token = rng.random() < 0.01
                acct.write(
                    json.dumps(
                        {
                            "account_id": account,
                            "customer_id": record["id"],
                            "name": name if k == 0 else f"{name} team {k}",
                            "type": "organization",
                            "country": country,
                            "emails": [f"ops{k}@{domain}"],
                            "payment_fingerprints": [
                                f"tok_{rng.randrange(500):04d}"
                                if shared_token
                                else f"tok_{account}"
                            ],
                            "created_at": "2026-01-05T00:00:00Z",
                        }
                    )
                    + "\n"
                )
    renters = rng.sample(accounts, max(1, len(accounts) // 5))
    start = datetime(2026, 11, 1)
    with (folder / "usage" / "focus.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FOCUS_COLUMNS)
        for i in range(usage_rows):
            account = renters[i % len(renters)]
            t0 = start + timedelta(days=rng.randrange(28), hours=rng.randrange(24))
            t1 = t0 + timedelta(hours=1)
            instance = rng.choice(INSTANCES)
            sku = json.dumps({"InstanceType": instance})
            writer.writerow(
                [
                    "10.00", "BA-1", "Bench Cloud", "USD", "2026-12-01T00:00:00Z",
                    "2026-11-01T00:00:00Z", "Usage", instance, f"{t1:%Y-%m-%dT%H:%M:%SZ}",
                    f"{t0:%Y-%m-%dT%H:%M:%SZ}", "1", "Hours", "10.00", "10.00", "Bench Cloud",
                    "Bench Cloud", "us-east", f"vm-{account}", "Virtual Machine", "Compute",
                    "GPU Cloud", f"SKU-{instance}", sku, account, account, "RunInstances",
                ]
            )  # fmt: skip


def mirror_minus(lists: Path, target: Path, drop: int) -> Path:
    """The mirror with the last ``drop`` SDN entries removed (the others symlinked)."""
    for path in lists.rglob("*"):
        if path.is_file():
            dest = target / path.relative_to(lists)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(path)
    sdn = target / "ofac" / "sdn.csv"
    sdn.unlink()
    lines = (lists / "ofac" / "sdn.csv").read_bytes().splitlines(keepends=True)
    sdn.write_bytes(b"".join(lines[:-drop]))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    args = parser.parse_args()

    from computekyc.services import run_scan
    from computekyc.settings import Settings

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scan-"))
    book = work / "provider"
    settings = Settings(home=work / "home")
    clock = time.perf_counter()
    write_book(book, args.customers, args.usage_rows)
    print(
        f"book: {args.customers:,} customers, {2 * args.customers:,} accounts, "
        f"{args.usage_rows:,} usage rows, written in {time.perf_counter() - clock:.1f} s"
    )
    on = date(2026, 11, 30)

    def scan(label: str, lists: Path, target: float) -> None:
        result = run_scan(settings, book, lists=lists, as_of=on, workers=os.cpu_count() or 1)
        t = result.timings
        rate = result.counts.customers / t["determinations"] if t["determinations"] else 0.0
        print(
            f"{label:<28} {result.seconds:8.1f} s (target ≤ {target:g} s)  "
            f"screened full {result.counts.screened_full:,} delta {result.counts.screened_delta:,}"
            f"  alerts new {result.sync.new:,} updated {result.sync.updated:,}  "
            f"determinations {rate:,.0f}/s (target ≥ 2,000/s)"
        )
        print(f"{'':<28} stages: " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()))

    older = mirror_minus(LISTS, work / "lists-minus-200", 200)
    scan("first scan", older, 600)
    scan("after +200 list parties", LISTS, 30)
    scan("unchanged re-scan", LISTS, 10)


if __name__ == "__main__":
    main()
