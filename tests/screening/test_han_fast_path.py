"""The memoised Han-name path (segments, glosses, readings, derived tables, explanations kept
across a batch) gives exactly what the straightforward path gives, on real names."""

from __future__ import annotations

import csv
from pathlib import Path

from computekyc.screening import Hit, Query, ScreeningIndex
from computekyc.screening.memo import uncached

LISTED = Path(__file__).parent / "data" / "chinese_listed_names.csv"


def _names(shared: Path) -> list[str]:
    with LISTED.open(encoding="utf-8", newline="") as fh:
        listed = [r["zh"] for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    path = shared / "data" / "lists-archive" / "cn_countersanctions.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        foreign = [r["Chinese name"].strip() for r in csv.DictReader(fh)]
    return sorted(set(listed) | {n for n in foreign if n})


def _seen(hits: list[list[Hit]]) -> list[list[tuple[object, ...]]]:
    return [
        [(h.party_id, h.score, h.matched_name, h.explanation.to_dict()) for h in row]
        for row in hits
    ]


def test_fast_and_uncached_paths_agree(mirror_index: ScreeningIndex, shared: Path) -> None:
    names = _names(shared)
    assert len(names) > 500
    # Each name three times, once with a country: the batch explains a name once and copies
    # the explanation, or the whole hits of a repeated bare name.
    queries = [Query(n) for n in names] * 2 + [Query(n, country="CN") for n in names]
    fast = mirror_index.screen_many(queries)
    with uncached():
        slow = [mirror_index.screen_query(q) for q in queries]
    assert sum(map(len, fast)) > 100  # the listed names do find their parties
    assert _seen(fast) == _seen(slow)
