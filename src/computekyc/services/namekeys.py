"""The screened names' analyses, kept between scans as the index matches them.

Analysing a name (scripts, transliterations, legal forms, aliases) costs more than looking it up
in a small index. Delta screening must know, for every stored name, which posting keys of the
screening index it can meet and which of its words weigh by frequency; those facts depend only
on the name and on the code and tables that analyse it. They are kept under
``$COMPUTEKYC_HOME/screening/names-<vocabulary digest>.pickle`` (written atomically), made while
a name is screened against the whole snapshot (from the analysis the screening made anyway), and
read back on the next snapshot, so that a list update re-analyses no stored name. The stored
result key of each query of the last scan is kept in the same file: a book's worth of hashes
costs more than reading them back.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import pickle
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from computekyc.bulk import read_cache, save_pickle
from computekyc.screening import (
    WEIGHED_KINDS,
    Analysis,
    FormReach,
    Hit,
    Query,
    ScreeningIndex,
    analyze,
    vocab_digest,
)

NAMES_FORMAT = 4


class NameKeys(NamedTuple):
    """What delta screening needs of a name's analysis. A named tuple of tuples: a book's
    worth of them is read back at every list update, and tuples load several times faster
    than frozen dataclasses of sets (the set tests that read them take any iterable)."""

    # ScreeningIndex.reach_forms (what the candidate search reads), pickled: only the few names
    # whose terms meet a list change need them, and a book's worth of them as objects made
    # loading the kept keys cost seconds (see :attr:`forms`).
    packed_forms: bytes
    # The forms' lookup terms, for a quick test that none meets: those that are posting keys
    # themselves (joined names, generic words: met ones are always scored), and the ``w:``
    # terms of distinctive words (ScreeningIndex.term_entries finds what they meet). Each
    # tuple holds distinct strings.
    posting_terms: tuple[str, ...]
    word_terms: tuple[str, ...]
    words: tuple[str, ...]  # every token's text
    weighed: tuple[str, ...]  # the words whose weight depends on their frequency on the lists

    @property
    def forms(self) -> tuple[FormReach, ...]:
        forms: tuple[FormReach, ...] = pickle.loads(self.packed_forms)
        return forms


def _distinct(strings: Iterable[str]) -> tuple[str, ...]:
    intern = sys.intern  # the same words recur across names: one string each in the cache
    return tuple(dict.fromkeys(intern(s) for s in strings))


def name_keys(analysis: Analysis) -> NameKeys:
    tokens = [t for form in analysis.forms for t in form.tokens]
    forms = ScreeningIndex.reach_forms(analysis)
    return NameKeys(
        pickle.dumps(forms, protocol=pickle.HIGHEST_PROTOCOL),
        _distinct(term for form in forms for term in form.forced),
        _distinct(term for form in forms for term, _, _ in form.words),
        _distinct(t.text for t in tokens),
        _distinct(t.text for t in tokens if t.kind in WEIGHED_KINDS),
    )


@dataclass(slots=True)
class NameKeysCache:
    """Name → :class:`NameKeys`, for one version of the analysing code and tables."""

    path: Path | None  # None: kept in memory only
    keys: dict[str, NameKeys] = field(default_factory=dict)
    made: int = 0  # names analysed since loading (not found in the cache)
    format: int = NAMES_FORMAT
    # The stored-result key of each (name, country, type) screened: computing the keys of a
    # whole book (a hash each) costs more than reading them back.
    query_keys: dict[tuple[str, str | None, str | None], str] = field(default_factory=dict)
    query_keys_changed: bool = False
    # What book ``query_keys`` are all the distinct queries of, in the order asked (its files
    # and the code asking, see ``book_queries_key``): "" when not known.
    book: str = ""

    @classmethod
    def load(cls, home: Path) -> NameKeysCache:
        path = home / "screening" / f"names-{vocab_digest()}.pickle"
        found = read_cache(path)
        if isinstance(found, dict) and found.get("format") == NAMES_FORMAT:
            keys, query_keys = found.get("keys"), found.get("query_keys")
            book = found.get("book")
            if isinstance(keys, dict) and isinstance(query_keys, dict):
                return cls(path, keys, query_keys=query_keys, book=str(book or ""))
        return cls(path)

    def holds_queries_of(self, book: str) -> bool:
        """Whether ``query_keys`` are all the distinct queries of ``book`` (see :attr:`book`),
        in the order the last scan asked them."""
        return bool(book) and self.book == book

    def asked_by(self, book: str) -> None:
        """``query_keys`` are now all the distinct queries of ``book``, in order."""
        if self.book != book:
            self.book = book
            self.query_keys_changed = True

    def get(self, name: str) -> NameKeys:
        """The name's keys, analysing it only when the cache does not hold it."""
        found = self.keys.get(name)
        if found is None:
            found = self.keys[name] = name_keys(analyze(name))
            self.made += 1
        return found

    def update(self, found: dict[str, NameKeys]) -> None:
        self.made += len(found.keys() - self.keys.keys())
        self.keys.update(found)

    def save(self, names: Iterable[str]) -> None:
        """Keep the keys of ``names`` (the names of this scan: the file stays the size of the
        book), replacing the file atomically; unchanged content is not written again."""
        self.saver(names)()

    def saver(self, names: Iterable[str]) -> Callable[[], None]:
        """What :meth:`save` of ``names`` writes, decided now; the function returned writes
        it (a scan decides while it waits for its transaction, and writes once committed)."""
        path = self.path
        if path is None:
            return _nothing
        wanted = set(names)
        if not self.made and not self.query_keys_changed and wanted == self.keys.keys():
            return _nothing
        kept = {n: k for n, k in self.keys.items() if n in wanted}
        # Each name pickled once: the query keys' triples name the same string objects.
        same = {n: n for n in kept}
        query_keys = {
            (same.get(name, name), country, kind): key
            for (name, country, kind), key in self.query_keys.items()
        }
        content = {
            "format": NAMES_FORMAT,
            "keys": kept,
            "query_keys": query_keys,
            "book": self.book,
        }

        def write() -> None:
            for stale in path.parent.glob("names-*.pickle"):
                if stale != path:
                    stale.unlink(missing_ok=True)  # another version of the analysing code
            save_pickle(path, content)

        return write


def _nothing() -> None:
    """Nothing to write."""


# ------------------------------------------------- a full screen that keeps the analyses it made

# The index, threshold and queries (sorted by name) handed to forked workers: set just before
# the fork, so that children inherit them and are sent only where their chunk starts.
_FORKED: tuple[ScreeningIndex, float, list[Query]] | None = None
_FORK_LOCK = threading.Lock()
PARALLEL_MIN = 2000  # queries: below this a fork costs more than it saves
# Queries per chunk: a chunk's queries share the postings of their words and the scores of
# repeated names (see ScreeningIndex.screen_queries).
CHUNK = 1000


def _screen_chunk(
    index: ScreeningIndex, chunk: Sequence[Query], threshold: float
) -> tuple[list[list[Hit]], dict[str, NameKeys]]:
    analyses: dict[str, Analysis] = {}
    hits = index.screen_queries(chunk, threshold, analyses)
    return hits, {name: name_keys(a) for name, a in analyses.items()}


def _forked_chunk(start: int) -> tuple[list[list[Hit]], dict[str, NameKeys]]:
    assert _FORKED is not None, "worker started without an index"
    index, threshold, queries = _FORKED
    return _screen_chunk(index, queries[start : start + CHUNK], threshold)


def screen_full(
    index: ScreeningIndex,
    queries: Sequence[Query],
    threshold: float,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> tuple[list[list[Hit]], dict[str, NameKeys]]:
    """Screen ``queries`` against the whole index exactly as ``index.screen_many`` does, and
    return the keys of every name screened. ``workers > 1`` forks (command line only)."""
    global _FORKED
    order = sorted(range(len(queries)), key=lambda i: queries[i].name)  # one name side by side
    grouped = [queries[i] for i in order]
    starts = range(0, len(grouped), CHUNK)
    found: list[list[Hit]] = []
    keys: dict[str, NameKeys] = {}

    def take(result: tuple[list[list[Hit]], dict[str, NameKeys]]) -> None:
        found.extend(result[0])
        keys.update(result[1])
        if progress is not None:
            progress(len(result[0]))

    if workers > 1 and len(queries) >= PARALLEL_MIN and "fork" in mp.get_all_start_methods():
        with _FORK_LOCK:
            _FORKED = (index, threshold, grouped)
            gc.freeze()  # children must not touch (and so copy) every inherited object
            try:
                with mp.get_context("fork").Pool(workers) as pool:
                    for result in pool.imap(_forked_chunk, starts):  # input order kept
                        take(result)
            finally:
                gc.unfreeze()
                _FORKED = None
    else:
        for start in starts:
            take(_screen_chunk(index, grouped[start : start + CHUNK], threshold))
    out: list[list[Hit]] = [[] for _ in queries]
    for position, hits in zip(order, found, strict=True):
        out[position] = hits
    return out, keys
