"""Screening: find the listed parties a name may be, with a calibrated, explained score.

Library API::

    from computekyc.screening import ScreeningIndex, compare
    index = ScreeningIndex.build(parties)            # any Iterable[Party]
    hits = index.screen("海康威视", country="CN")     # list[Hit], best first
    batch = index.screen_many([Query("Huawei"), "ZTE Corporation"])
    result = compare("Siemens AG", "Siemens Aktiengesellschaft")   # MatchResult
    groups = group_hits(hits)   # list[HitGroup]: one per listed entity, for display only

``screen`` / ``screen_many`` at module level use the index a long-running process installs with
:func:`use_index` (the service layer's ``IndexHolder.install``: the active list-store snapshot).
:func:`index_from_store` loads that index for a database URL, cached on disk under a home.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from computekyc.exc import StateError
from computekyc.lists.model import Identifier, PartyType
from computekyc.screening.evaluate import PairEvaluation, PairFileError, evaluate_pairs
from computekyc.screening.grouping import GroupMember, HitGroup, entity_key, group_hits
from computekyc.screening.index import (
    FormReach,
    Hit,
    Query,
    ScreeningIndex,
    pickle_beside,
    vocab_digest,
    wait_for_index_saves,
    word_rarity,
)
from computekyc.screening.scoring import (
    DEFAULT_THRESHOLD,
    Explanation,
    MatchResult,
    TokenMatch,
    compare,
)
from computekyc.screening.text import NAME, PATRONYMIC, Analysis, Token, analyze
from computekyc.screening.vocab import VocabError

# Word kinds whose weight depends on how many listed names carry the word (rarity): only these
# change scores when a new snapshot changes word frequencies.
WEIGHED_KINDS = frozenset({NAME, PATRONYMIC})

__all__ = [
    "DEFAULT_THRESHOLD",
    "WEIGHED_KINDS",
    "Analysis",
    "Explanation",
    "FormReach",
    "GroupMember",
    "Hit",
    "HitGroup",
    "MatchResult",
    "NoSnapshotError",
    "PairEvaluation",
    "PairFileError",
    "Query",
    "ScreeningIndex",
    "Token",
    "TokenMatch",
    "VocabError",
    "analyze",
    "compare",
    "entity_key",
    "evaluate_pairs",
    "group_hits",
    "index_from_store",
    "pickle_beside",
    "screen",
    "screen_many",
    "snapshot_cache_key",
    "use_index",
    "vocab_digest",
    "wait_for_index_saves",
    "word_rarity",
]


class NoSnapshotError(StateError, RuntimeError):
    """The list store has no active snapshot to screen against."""


_provider: Callable[[], ScreeningIndex] | None = None


def use_index(provider: Callable[[], ScreeningIndex] | None) -> None:
    """Serve module-level ``screen``/``screen_many`` from ``provider`` (a long-running process
    hands in a holder that swaps in the index of a new snapshot); None: no index."""
    global _provider
    _provider = provider


def snapshot_cache_key(snapshot_id: int, created_at: str, url: str) -> str:
    """The index-cache key of a stored list snapshot. Snapshot ids are per database: the key
    includes the database URL and the snapshot's creation time too."""
    ident = f"{url}|{snapshot_id}|{created_at}"
    return f"{snapshot_id}-{hashlib.sha256(ident.encode()).hexdigest()[:12]}"


def index_from_store(url: str, home: Path) -> ScreeningIndex:
    """The index of the active snapshot of the list store at ``url``, cached on disk under
    ``home`` keyed by that snapshot."""
    from computekyc.lists.store import ListStore

    store = ListStore.open(url)
    try:
        info = store.active_snapshot()
        if info is None:
            raise NoSnapshotError("no list snapshot yet: run `computekyc lists update` first")
        key = snapshot_cache_key(info.id, info.created_at, url)
        return ScreeningIndex.cached(home, key, lambda: store.parties(info.id))
    finally:
        store.close()


def _index() -> ScreeningIndex:
    if _provider is None:
        raise NoSnapshotError(
            "no screening index in this process: install one with use_index "
            "(computekyc.services.IndexHolder.install)"
        )
    return _provider()


def screen(
    name: str,
    country: str | None = None,
    type: str | PartyType | None = None,
    date_of_birth: str | None = None,
    identifiers: Mapping[str, str] | Sequence[Identifier] | None = None,
    threshold: float | None = None,
) -> list[Hit]:
    """Screen one name against the active snapshot (see :meth:`ScreeningIndex.screen`)."""
    return _index().screen(name, country, type, date_of_birth, identifiers, threshold)


def screen_many(
    queries: Iterable[Query | str],
    threshold: float | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> list[list[Hit]]:
    """Screen many names against the active snapshot; results in input order."""
    return _index().screen_many(queries, threshold, progress, workers)
