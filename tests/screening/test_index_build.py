"""The index build (keys made once per word, weights once per name) equals the index made
plainly, entry by entry, on the real lists."""

from __future__ import annotations

from collections import Counter
from typing import Any

from computekyc.lists import Party
from computekyc.screening import ScreeningIndex
from computekyc.screening.index import _WEIGHED, COMMON_DF, _clean_id
from computekyc.screening.text import DISTINCTIVE, LEGAL, NUMBER


def _plain_keys(tokens: tuple[Any, ...]) -> set[str]:
    """The blocking keys of a form as the module docstring defines them."""
    keys: set[str] = set()
    distinctive = [t for t in tokens if t.kind in DISTINCTIVE and t.kind != NUMBER]
    for t in distinctive:
        keys.add("t:" + t.text)
        if len(t.text) >= 5:
            keys.update("d:" + t.text[:i] + t.text[i + 1 :] for i in range(len(t.text)))
        if len(t.skel) >= 2:
            keys.add("s:" + t.skel)
    if not distinctive:
        keys.update("g:" + t.text for t in tokens if t.kind != LEGAL)
    joined = "".join(t.text.replace(" ", "") for t in tokens if t.kind != LEGAL)
    if len(joined) >= 5:
        keys.add("j:" + joined)
    return keys


def test_build_equals_the_plain_index(
    mirror_parties: list[Party], mirror_index: ScreeningIndex
) -> None:
    postings: dict[str, list[int]] = {}

    def post(key: str, entry: int) -> None:
        bucket = postings.setdefault(key, [])
        if not bucket or bucket[-1] != entry:  # entries come in order
            bucket.append(entry)

    freq: Counter[str] = Counter()
    entry = 0
    for p_idx, party in enumerate(mirror_parties):
        first = entry
        for name in party.all_names():
            if not name or not name.strip():
                continue
            owner, listed, analysis = mirror_index.names[entry]
            assert (owner, listed) == (p_idx, name)
            words: set[str] = set()
            for form in analysis.forms:
                for key in _plain_keys(form.tokens):
                    post(key, entry)
                words.update(t.text for t in form.tokens if t.kind in DISTINCTIVE)
            freq.update(words)
            entry += 1
        if entry > first:
            for ident in party.identifiers:
                if ident.value:
                    post("i:" + _clean_id(ident.value), first)
    assert entry == len(mirror_index.names)
    assert mirror_index.postings == postings
    assert any(len(b) > 1 for k, b in postings.items() if k.startswith("i:"))
    assert mirror_index.doc_freq == {w: n for w, n in freq.items() if n > COMMON_DF}
    weights = [
        min(
            sum(mirror_index._token_weight(t) for t in form.tokens if t.kind in _WEIGHED)
            for form in analysis.forms
        )
        for _, _, analysis in mirror_index.names
    ]
    assert mirror_index.weights == weights

    # Built again with the analyses of an index already made: the same index.
    again = ScreeningIndex.build(mirror_parties, "mirror", previous=mirror_index)
    assert again == mirror_index
