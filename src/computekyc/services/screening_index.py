"""The screening index a long-running process serves from, swapped atomically on a new snapshot.

A server keeps one index in memory. When the list store's active snapshot changes (another
process ran ``lists update``), the next request notices it (checked at most every
``check_seconds``), a background thread builds or loads the new index while requests go on
being answered from the old one, and a single reference assignment swaps them: no request ever
sees a half-built index and nothing restarts. No worker process is forked.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from computekyc.exc import StateError
from computekyc.lists import Party
from computekyc.screening import ScreeningIndex, snapshot_cache_key
from computekyc.settings import Settings

log = logging.getLogger("computekyc.index")


@dataclass(frozen=True, slots=True)
class ServedIndex:
    """An index with the snapshot it was built from."""

    index: ScreeningIndex
    snapshot_id: int
    snapshot_created_at: str
    parties: int
    by_id: dict[str, Party] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update((party.party_id, party) for party in self.index.parties)

    def party(self, party_id: str) -> Party | None:
        return self.by_id.get(party_id)

    @property
    def snapshot(self) -> str:
        """The one snapshot identifier every answer carries."""
        return str(self.snapshot_id)


class IndexHolder:
    def __init__(self, settings: Settings, check_seconds: float = 2.0) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self._served: ServedIndex | None = None
        self._lock = threading.Lock()
        self._building: int | None = None
        self._checked_at = 0.0
        self.swaps = 0

    def _active(self) -> tuple[int, str, int] | None:
        from computekyc.lists.store import ListStore

        store = ListStore.open(self.settings.sqlalchemy_url)
        try:
            info = store.active_snapshot()
            return None if info is None else (info.id, info.created_at, info.parties)
        finally:
            store.close()

    def _load(self, snapshot_id: int, created_at: str, parties: int) -> ServedIndex:
        from computekyc.lists.store import ListStore

        key = snapshot_cache_key(snapshot_id, created_at, self.settings.sqlalchemy_url)
        store = ListStore.open(self.settings.sqlalchemy_url)
        try:
            index = ScreeningIndex.cached(
                self.settings.ensure_home(), key, lambda: store.parties(snapshot_id)
            )
        finally:
            store.close()
        return ServedIndex(index, snapshot_id, created_at, parties)

    def current(self) -> ServedIndex:
        """The index to answer this request from (loads the first one synchronously)."""
        served = self._served
        if served is None:
            with self._lock:
                if self._served is None:
                    active = self._active()
                    if active is None:
                        raise StateError("no list snapshot loaded: run `computekyc lists update`")
                    self._served = self._load(*active)
                    self._checked_at = time.monotonic()
                return self._served
        if time.monotonic() - self._checked_at >= self.check_seconds:
            self._maybe_refresh(served)
        return served

    def ready(self) -> bool:
        return self._served is not None

    def _maybe_refresh(self, served: ServedIndex) -> None:
        with self._lock:
            if time.monotonic() - self._checked_at < self.check_seconds:
                return
            self._checked_at = time.monotonic()
            try:
                active = self._active()
            except Exception:  # the database is briefly unavailable: keep serving
                log.warning("cannot read the active snapshot; serving %s", served.snapshot)
                return
            if active is None or active[0] == served.snapshot_id or self._building == active[0]:
                return
            self._building = active[0]
        threading.Thread(target=self._build_and_swap, args=active, daemon=True).start()

    def _build_and_swap(self, snapshot_id: int, created_at: str, parties: int) -> None:
        started = time.monotonic()
        try:
            fresh = self._load(snapshot_id, created_at, parties)
        except Exception:
            log.exception("building the index of snapshot %s failed; keeping the old", snapshot_id)
            with self._lock:
                self._building = None
            return
        with self._lock:
            self._served = fresh  # one reference assignment: the swap
            self._building = None
            self.swaps += 1
        log.info(
            "index swapped to snapshot %s (%s parties) in %.1f s",
            snapshot_id,
            parties,
            time.monotonic() - started,
        )
