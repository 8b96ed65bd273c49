"""The screening shortcuts answer exactly as the straightforward code they stand in for.

The index drops names under the candidate floor before ranking votes (``index.PREFILTER``) and
the scorer lets the joined-name edit distance stop under the similarity that could count
(``scoring.JOINED_FLOOR``). Both are switched off here to compute the straightforward answers,
on a few thousand real names: every hit, score and explanation must be the same.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from computekyc.lists import Party
from computekyc.screening import ScreeningIndex, compare, index, scoring, text


@contextmanager
def straightforward() -> Iterator[None]:
    """The code without its shortcuts (and with cold caches)."""
    saved = index.PREFILTER, scoring.JOINED_FLOOR
    index.PREFILTER, scoring.JOINED_FLOOR = False, 0.0
    text.clear_caches()
    try:
        yield
    finally:
        index.PREFILTER, scoring.JOINED_FLOOR = saved
        text.clear_caches()


def _typo(name: str, rng: random.Random) -> str:
    """Two neighbouring letters of the longest word swapped: a near miss of a listed name."""
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) >= 4:
        at = rng.randrange(1, len(word) - 2)
        words[longest] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)


@pytest.fixture(scope="module")
def real_names(names_dir: Path, mirror_parties: list[Party]) -> list[str]:
    """Names of the nomenklatura name bench, listed names, and listed names with a typo."""
    with (names_dir / "nomenklatura_name_bench.csv").open(encoding="utf-8") as handle:
        bench = [n for row in csv.DictReader(handle) for n in (row["name1"], row["name2"])]
    rng = random.Random(7)
    listed = [p.name for p in rng.sample(mirror_parties, 2400) if p.name.strip()]
    typos = [_typo(n, rng) for n in listed[:1600]]
    return list(dict.fromkeys(bench + listed[1600:] + typos))


def _answers(mirror_index: ScreeningIndex, names: list[str]) -> list[list[dict[str, Any]]]:
    found = mirror_index.screen_many(names, threshold=0.6)
    return [[hit.to_dict() for hit in hits] for hits in found]


def test_index_shortcuts_give_the_same_hits(
    mirror_index: ScreeningIndex, real_names: list[str]
) -> None:
    assert len(real_names) >= 3000
    fast = _answers(mirror_index, real_names)
    with straightforward():
        plain = _answers(mirror_index, real_names)
    assert sum(map(len, plain)) > 1000  # the comparison is about real hits, not empty lists
    for name, got, expected in zip(real_names, fast, plain, strict=True):
        assert got == expected, name


def test_scorer_shortcuts_give_the_same_scores(names_dir: Path) -> None:
    with (names_dir / "nomenklatura_name_bench.csv").open(encoding="utf-8") as handle:
        pairs = [(row["name1"], row["name2"]) for row in csv.DictReader(handle)]
    fast = [compare(a, b) for a, b in pairs]
    with straightforward():
        plain = [compare(a, b) for a, b in pairs]
    joined = 0
    for (a, b), got, expected in zip(pairs, fast, plain, strict=True):
        assert got.score == expected.score, (a, b)
        assert got.explanation.to_dict() == expected.explanation.to_dict(), (a, b)
        joined += any(m.how == "joined" for m in expected.explanation.matches)
    assert joined  # merged and split words are among the pairs
