"""The shortcuts of name analysis and vote ranking answer exactly as the general code.

An ASCII name skips Unicode normalisation, transliteration and the per-character script pass. A
trailing no-break space (NFKC: a space, which splitting drops) sends the same name down the
general path: both readings must be equal. Ranking votes with plain tuples must pick and order
the names as ``heapq.nlargest`` with the ranking key does.
"""

from __future__ import annotations

import heapq
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from computekyc.screening.index import MAX_EXAMINED, _rank_votes
from computekyc.screening.text import analyze, fold_words

GENERAL = "\u00a0"  # not ASCII; folds to a space
WORDS = st.sampled_from(
    [
        "Acme", "GmbH", "LLC", "Co.", "Ltd", "S.A.", "4th", "forty", "four", "XIV", "Vi", "II",
        "b3ta", "l33t", "O'Brien", "John's", "&", "%", "Abd", "al-Aziz", "bin", "Mr.", "The",
        "Holdings", "de", "la", "J.P.", "7", "21st", "ovich", "Petrovich", "AG", "a",
    ]
)  # fmt: skip
ASCII_NAMES = st.one_of(
    st.lists(WORDS, min_size=1, max_size=6).map(" ".join),
    st.text(alphabet=string.printable, max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(ASCII_NAMES)
def test_ascii_names_fold_as_the_general_path_does(name: str) -> None:
    assert fold_words(name) == fold_words(name + GENERAL)


@settings(max_examples=400, deadline=None)
@given(ASCII_NAMES)
def test_ascii_names_analyse_as_the_general_path_does(name: str) -> None:
    fast, general = analyze(name), analyze(name + GENERAL)
    assert fast.forms == general.forms
    assert fast.ignored == general.ignored


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 199), st.sampled_from([0.6, 1.0, 1.35, 1.6, 2.0, 10.6]), max_size=300
    ),
    st.lists(st.sampled_from([0.5, 1.0, 1.35, 2.0]), min_size=200, max_size=200),
    st.sampled_from([0.0, 1.0, 1.35, 2.0]),
)
def test_vote_ranking_is_nlargest_by_vote_then_weight(
    votes: dict[int, float], weights: list[float], size: float
) -> None:
    expected = heapq.nlargest(
        MAX_EXAMINED, votes.items(), key=lambda kv: (kv[1], -abs(weights[kv[0]] - size))
    )
    assert _rank_votes(votes.items(), weights, size) == expected
