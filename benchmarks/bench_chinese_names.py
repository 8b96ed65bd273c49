"""Chinese-script names against the English listings: recall, precision, false alerts, speed.

Prints, for the engine in this checkout (run it on two checkouts for a before/after):

* **listed Chinese names**: ``tests/screening/data/chinese_listed_names.csv`` — the registered
  Chinese names of Chinese parties on the Entity List, NS-CMIC and 1260H lists, each with the
  English name the list carries. Every name is screened against the whole list mirror; *found*
  means the listed party is among the hits at the alerting threshold, *top-1* that it is the
  best hit. Rows are split by a hash of the Chinese name into ``tune`` (looked at while building
  the tables; ``--verbose`` prints their misses) and ``holdout`` (never looked at row by row);
  both are printed, and the found rate again without the table of listed firms' Chinese names
  (``zh_listed_names.csv``, built from the lists, not from these rows) and without any alias
  table;
* **pairs**: every listed name against its own English name (positive) and against the most
  similar other English name of the set and a random one (negatives): precision, recall, F1;
* **counter-sanctions pairs** (``lists-archive/cn_countersanctions.csv`` in ../shared, read at
  run time): the Chinese names the PRC gives foreign firms and people (US, Japanese, Taiwanese)
  against their own names — a set the tables were not built from;
* **false alerts** on names that are on no list: the Chinese names of the counter-sanctions
  file, Chinese renderings of foreign names (``wikidata_chinese_latin.tsv``), generated names of
  unlisted Chinese firms, and the generated unlisted Latin company names of bench_screening;
* name_bench F1, throughput (names/s) of Chinese and Latin names, import and first-use cost.

Usage: .venv/bin/python benchmarks/bench_chinese_names.py [--shared ../shared] [--split all]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from computekyc.lists import Party, parties_from, read_mirror
from computekyc.screening import (
    DEFAULT_THRESHOLD,
    ScreeningIndex,
    analyze,
    compare,
    evaluate_pairs,
    vocab,
)
from computekyc.screening.text import clear_caches

REPO = Path(__file__).resolve().parents[1]
LISTED = REPO / "tests" / "screening" / "data" / "chinese_listed_names.csv"

# Parts of names of Chinese firms that are on no list (places, trade names, lines of business).
_PLACES = ("深圳市", "广州", "宁波", "苏州", "佛山市", "温州", "东莞市", "义乌", "青岛", "厦门")
_STEMS = ("顺达", "金鹏", "海天", "美菱", "瑞信", "新星", "恒达", "永丰", "鑫源", "宏发", "福田",
          "天成", "华美", "嘉禾", "佳乐", "明珠", "锦程", "万通", "兴旺", "富源")  # fmt: skip
_FIELDS = ("服装", "食品", "家具", "物流", "纺织", "印刷", "陶瓷", "塑料制品", "餐饮管理", "贸易",
           "电子商务", "包装材料", "五金制品", "文化传媒", "农业科技")  # fmt: skip
_FORMS = ("有限公司", "股份有限公司", "有限责任公司", "集团有限公司")


def split_of(zh: str) -> str:
    """``tune`` or ``holdout``, from the name itself, so that nobody chooses a row's side."""
    return "tune" if hashlib.sha256(zh.encode()).digest()[0] % 2 == 0 else "holdout"


def listed_rows(path: Path = LISTED) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    for row in rows:
        row["split"] = split_of(row["zh"])
    return rows


def _fold(name: str) -> str:
    return " ".join(name.casefold().replace("’", "'").split())


def parties_named(parties: list[Party]) -> dict[str, set[str]]:
    """Folded listed name -> party ids carrying it (a 1260H party appears once per tranche)."""
    out: dict[str, set[str]] = {}
    for party in parties:
        for name in party.all_names():
            out.setdefault(_fold(name), set()).add(party.party_id)
    return out


def countersanction_pairs(shared: Path) -> list[tuple[str, str, str, str]]:
    """(Chinese name, own name, schema, country) from the PRC counter-sanctions table."""
    path = shared / "data" / "lists-archive" / "cn_countersanctions.csv"
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            zh, name = row["Chinese name"].strip(), row["Name"].strip()
            if zh and name:
                out.append((zh, name, row["Type"], row["Country"]))
    return list(dict.fromkeys(out))


def unlisted_chinese_firms(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    names = {
        rng.choice(_PLACES) + rng.choice(_STEMS) + rng.choice(_FIELDS) + rng.choice(_FORMS)
        for _ in range(n * 2)
    }
    return sorted(names)[:n]


def wikidata_native(shared: Path, n: int, seed: int = 5) -> list[str]:
    path = shared / "data" / "eval" / "names" / "wikidata_chinese_latin.tsv"
    natives = sorted(
        {line.split("\t")[1].replace(" ", "") for line in path.read_text("utf-8").splitlines()}
    )
    return random.Random(seed).sample(natives, min(n, len(natives)))


def _prf(scored: Iterable[tuple[float, bool]]) -> dict[str, float]:
    tp = fp = fn = 0
    for score, label in scored:
        hit = score >= DEFAULT_THRESHOLD
        tp += hit and label
        fp += hit and not label
        fn += (not hit) and label
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _similar(name: str, others: list[str]) -> str:
    words = set(_fold(name).split())
    return max(
        (o for o in others if _fold(o) != _fold(name)),
        key=lambda o: (len(words & set(_fold(o).split())), o),
    )


def pair_set(pairs: list[tuple[str, str]], seed: int = 3) -> list[tuple[str, str, bool]]:
    """Each positive pair, plus a hard negative (most similar other English name) and a random
    one."""
    rng = random.Random(seed)
    english = sorted({e for _, e in pairs})
    out = []
    for zh, name in pairs:
        out.append((zh, name, True))
        out.append((zh, _similar(name, english), False))
        other = rng.choice(english)
        if _fold(other) != _fold(name):
            out.append((zh, other, False))
    return out


def screen_listed(
    index: ScreeningIndex, rows: list[dict[str, str]], named: dict[str, set[str]]
) -> dict[str, object]:
    found = top = wrong_top = 0
    missing: list[str] = []
    misses: list[str] = []
    for row in rows:
        ids = named.get(_fold(row["listed"]))
        if not ids:
            missing.append(row["listed"])
            continue
        hits = index.screen(row["zh"])
        got = [h.party_id in ids for h in hits]
        found += any(got)
        top += bool(got and got[0])
        wrong_top += bool(got and not got[0] and not any(got))
        if not any(got):
            misses.append(f"{row['zh']} -> {row['listed']}")
    n = len(rows) - len(missing)
    return {"n": n, "found": found / n if n else 0.0, "top1": top / n if n else 0.0,
            "wrong_only": wrong_top / n if n else 0.0, "missing": missing,
            "misses": misses}  # fmt: skip


def found_with_tables(
    parties: list[Party],
    rows: list[dict[str, str]],
    named: dict[str, set[str]],
    tables: tuple[str, ...],
) -> dict[str, float]:
    """The found rate per split with only ``tables`` of the alias tables in force."""
    kept = vocab.ALIAS_FILES
    vocab.ALIAS_FILES = tables
    clear_vocabulary()
    try:
        index = ScreeningIndex.build(parties, snapshot_id="bench-without-aliases")
        out = {}
        for split in ("tune", "holdout", "all"):
            part = [r for r in rows if split in ("all", r["split"])]
            out[split] = float(screen_listed(index, part, named)["found"])  # type: ignore[arg-type]
        return out
    finally:
        vocab.ALIAS_FILES = kept
        clear_vocabulary()


def clear_vocabulary() -> None:
    vocab._load.cache_clear()
    clear_caches()


def alert_rate(index: ScreeningIndex, names: list[str]) -> tuple[float, list[str]]:
    alerted = [n for n in names if index.screen(n)]
    return len(alerted) / len(names), alerted


def names_per_second(index: ScreeningIndex, names: list[str]) -> tuple[float, float]:
    """Names per wall-clock second and per CPU-second (the second does not depend on what else
    the shared machine runs)."""
    analyze.cache_clear()
    start, cpu = time.perf_counter(), time.process_time()
    index.screen_many(names)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return len(names) / wall, len(names) / used


def import_cost() -> tuple[float, float]:
    """Seconds to import the screening package, and to analyse a first Han name, in a fresh
    interpreter (the dictionaries load on first use)."""
    code = (
        "import time; t=time.perf_counter(); import computekyc.screening as s; "
        "a=time.perf_counter(); s.analyze('中航光电科技股份有限公司'); "
        "print(a-t, time.perf_counter()-a)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = out.stdout.split()
    return float(first), float(second)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    shared: Path = args.shared

    imported, first_han = import_cost()
    parties = parties_from(read_mirror(shared / "data" / "lists"))
    index = ScreeningIndex.build(parties, snapshot_id="bench")
    named = parties_named(parties)
    rows = listed_rows()

    print(f"Listed Chinese names ({LISTED.name}), found at threshold {DEFAULT_THRESHOLD}:")
    print(f"  {'split':10}{'n':>5}{'found':>8}{'top-1':>8}{'only other parties':>20}")
    for split in ("tune", "holdout", "all"):
        part = [r for r in rows if split in ("all", r["split"])]
        res = screen_listed(index, part, named)
        print(f"  {split:10}{res['n']:>5}{res['found']:>8.3f}{res['top1']:>8.3f}"
              f"{res['wrong_only']:>20.3f}")  # fmt: skip
        if split == "all" and res["missing"]:
            print(f"  not in the mirror under that name (skipped): {res['missing']}")
        if split == "tune" and args.verbose:
            # Only the tune rows, one by one: the holdout rows are looked at as a figure only.
            for miss in res["misses"]:  # type: ignore[attr-defined]
                print(f"    miss: {miss}")

    print("  found without the alias tables (each index built again without them):")
    for label, tables in (
        (f"without {vocab.LISTED_ZH_FILE}", (vocab.ALIAS_FILE,)),
        ("without any alias table", ()),
    ):
        parts = found_with_tables(parties, rows, named, tables)
        print(f"    {label:40}" + "".join(f"  {k} {v:.3f}" for k, v in parts.items()))

    print("Pairs (positive + hard and random negatives):")
    for split in ("tune", "holdout"):
        pairs = [(r["zh"], r["listed"]) for r in rows if r["split"] == split]
        scored = [(compare(a, b).score, y) for a, b, y in pair_set(pairs)]
        m = _prf(scored)
        print(f"  listed names {split:8} {len(scored):>4} pairs  P {m['precision']:.3f}  "
              f"R {m['recall']:.3f}  F1 {m['f1']:.3f}")  # fmt: skip
    cs = countersanction_pairs(shared)
    for label, chosen in (
        ("companies", [(z, e) for z, e, t, _ in cs if t != "Person"]),
        ("people", [(z, e) for z, e, t, _ in cs if t == "Person"]),
        ("Japan", [(z, e) for z, e, _, c in cs if c in ("JP", "Japan")]),
        ("Taiwan", [(z, e) for z, e, _, c in cs if c == "TW"]),
    ):
        scored = [(compare(a, b).score, y) for a, b, y in pair_set(chosen)]
        m = _prf(scored)
        print(f"  counter-sanctions {label:10} {len(scored):>4} pairs  P {m['precision']:.3f}  "
              f"R {m['recall']:.3f}  F1 {m['f1']:.3f}")  # fmt: skip

    bench = evaluate_pairs(shared / "data" / "eval" / "names" / "nomenklatura_name_bench.csv")
    m = bench.metrics()
    print(f"name_bench: P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}")

    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench_screening as latin

    rng = random.Random(7)
    latin_unlisted = sorted(
        {
            f"{rng.choice(latin._STEMS)} {rng.choice(latin._FIELDS)} {rng.choice(latin._FORMS)}"
            for _ in range(3000)
        }
    )[:1000]
    print("False alerts on names on no list:")
    for label, names in (
        ("counter-sanctions Chinese names", sorted({z for z, _, _, _ in cs})),
        ("Wikidata Chinese renderings of foreign names", wikidata_native(shared, 2000)),
        ("generated unlisted Chinese firms", unlisted_chinese_firms(1000)),
        ("generated unlisted Latin firms (bench_screening)", latin_unlisted),
    ):
        rate, alerted = alert_rate(index, names)
        print(f"  {label:50} {len(names):>5} names  {100 * rate:5.2f}% alerted")
        if args.verbose:
            for name in alerted[:15]:
                print(f"    alert: {name} -> {index.screen(name)[0].name}")

    chinese = [r["zh"] for r in rows] * 12 + unlisted_chinese_firms(1000)
    latin_names = latin.make_queries([n for _, n, _ in index.names], 4000)
    zh_rate, latin_rate = names_per_second(index, chinese), names_per_second(index, latin_names)
    print(f"Throughput (1 process): {zh_rate[0]:,.0f} Chinese names/s "
          f"({zh_rate[1]:,.0f} per CPU-second), {latin_rate[0]:,.0f} Latin names/s "
          f"({latin_rate[1]:,.0f} per CPU-second)")  # fmt: skip
    print(f"Start-up: import computekyc.screening {imported:.2f}s; first Han name {first_han:.2f}s")


if __name__ == "__main__":
    main()
