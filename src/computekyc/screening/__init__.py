"""Screening: find the listed parties a name may be, with a calibrated, explained score.

Library API::

    from computekyc.screening import ScreeningIndex, compare
    index = ScreeningIndex.build(parties)            # any Iterable[Party]
    hits = index.screen("海康威视", country="CN")     # list[Hit], best first
    batch = index.screen_many([Query("Huawei"), "ZTE Corporation"])
    result = compare("Siemens AG", "Siemens Aktiengesellschaft")   # MatchResult
    groups = group_hits(hits)   # list[HitGroup]: one per listed entity, for display only

``screen`` / ``screen_many`` at module level use the index of the active list-store snapshot,
built once per process (and cached on disk per snapshot under ``$COMPUTEKYC_HOME``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from computekyc.exc import StateError
from computekyc.lists.model import Identifier, PartyType
from computekyc.screening.evaluate import PairEvaluation, PairFileError, evaluate_pairs
from computekyc.screening.grouping import GroupMember, HitGroup, entity_key, group_hits
from computekyc.screening.index import Hit, Query, ScreeningIndex
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
    "screen",
    "screen_many",
    "snapshot_cache_key",
    "use_index",
]


class NoSnapshotError(StateError, RuntimeError):
    """The list store has no active snapshot to screen against."""


_lock = threading.Lock()
_default: ScreeningIndex | None = None
_provider: Callable[[], ScreeningIndex] | None = None


def use_index(provider: Callable[[], ScreeningIndex] | None) -> None:
    """Serve module-level ``screen``/``screen_many`` from ``provider`` (a long-running process
    hands in a holder that swaps in the index of a new snapshot); None: the built-in default."""
    global _provider
    _provider = provider


def snapshot_cache_key(snapshot_id: int, created_at: str, url: str | None = None) -> str:
    """The index-cache key of a stored list snapshot. Snapshot ids are per database: the key
    includes the database URL and the snapshot's creation time too."""
    from computekyc import config

    ident = f"{url or config.database_url()}|{snapshot_id}|{created_at}"
    return f"{snapshot_id}-{hashlib.sha256(ident.encode()).hexdigest()[:12]}"


def index_from_store(url: str | None = None) -> ScreeningIndex:
    """The index of the active list-store snapshot, cached on disk keyed by that snapshot."""
    from computekyc import config
    from computekyc.lists.store import ListStore

    store = ListStore.open(url)
    try:
        info = store.active_snapshot()
        if info is None:
            raise NoSnapshotError("no list snapshot yet: run `computekyc lists update` first")
        key = snapshot_cache_key(info.id, info.created_at, url)
        return ScreeningIndex.cached(config.home(), key, lambda: store.parties(info.id))
    finally:
        store.close()


def _index() -> ScreeningIndex:
    global _default
    if _provider is not None:
        return _provider()
    with _lock:
        if _default is None:
            _default = index_from_store()
        return _default


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
