"""The list snapshot a process screens against, and its screening index, swapped atomically.

A long-running process (the HTTP API, a scheduler) asks :meth:`IndexHolder.current` for every
request: one cheap query tells whether the active list snapshot changed, and only then the new
index is loaded (from the per-snapshot disk cache, or built) and swapped in under a lock. Requests
already running keep the index they started with. Nothing here forks worker processes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TypeVar

from computekyc.bulk import beside, read_cache, save_pickle
from computekyc.lists.model import Party
from computekyc.lists.snapshots import SnapshotInfo
from computekyc.lists.store import ListStore, StoreError
from computekyc.ownership import OwnershipGraph, PartyIndex, load_list_parents
from computekyc.screening import (
    NoSnapshotError,
    ScreeningIndex,
    index_from_store,
    pickle_beside,
    snapshot_cache_key,
    use_index,
)
from computekyc.screening.chinese import use_cache_home
from computekyc.screening.vocab import use_home
from computekyc.settings import Settings
from computekyc.workflow.db import engine_for

T = TypeVar("T")
log = logging.getLogger("computekyc.index")


def snapshot_name(list_snapshot_id: int) -> str:
    """The one snapshot identifier of results and alerts (the determination engine's too)."""
    return f"snapshot-{list_snapshot_id}"


@dataclass(slots=True)
class LoadedIndex:
    """The index of one list snapshot, with its parties by id."""

    snapshot: str
    list_snapshot_id: int
    index: ScreeningIndex
    parties: dict[str, Party] = field(default_factory=dict)
    created_at: str = ""
    cache: Path | None = None  # where the derived tables below are kept per snapshot
    save_beside: bool = False  # derived tables made are saved by a forked process
    _party_index: PartyIndex | None = None
    _graph: OwnershipGraph | None = None

    @property
    def party_index(self) -> PartyIndex:
        """Exact names and identifiers of the snapshot (made once per snapshot)."""
        if self._party_index is None:
            self._party_index = _derived(
                self.cache,
                "parties",
                lambda: PartyIndex(self.index.parties),
                PartyIndex,
                self.save_beside,
            )
        return self._party_index

    @property
    def graph(self) -> OwnershipGraph:
        """The parents the lists themselves name (1260H, Entity List), once per snapshot."""
        if self._graph is None:
            self._graph = _derived(
                self.cache,
                "graph",
                lambda: load_list_parents(self.index.parties),
                OwnershipGraph,
                self.save_beside,
            )
        return self._graph


def _code_digest() -> str:
    """The ownership code that derives the tables: a cache written by other code is not read."""
    digest = hashlib.sha256()
    package = resources.files("computekyc.ownership")
    for name in ("screener.py", "listgraph.py", "graph.py"):
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()[:12]


def _derived(
    cache: Path | None, name: str, build: Callable[[], T], kind: type[T], beside: bool = False
) -> T:
    """A table derived from a snapshot's parties, from the disk cache or built and saved
    (``beside``: by a forked process, see :func:`computekyc.screening.pickle_beside`)."""
    if cache is None:
        return build()
    path = cache.with_name(f"{cache.name}-{name}-{_code_digest()}.pickle")
    found = read_cache(path)
    if isinstance(found, kind):
        return found
    value = build()
    if beside:
        pickle_beside(path, value)
    else:
        save_pickle(path, value)
    return value


def use_screening_settings(settings: Settings) -> None:
    """What the screening tables take from the settings, for this process: the analyst's own
    alias file and the Chinese dictionary cache in the state folder. Called before screening
    with these settings."""
    use_home(settings.home)
    use_cache_home(settings.home)


def screening_index(settings: Settings) -> ScreeningIndex:
    """The screening index of the active snapshot of the settings' store (cached in the home)."""
    use_screening_settings(settings)
    return index_from_store(settings.sqlalchemy_url, settings.ensure_home())


def list_store(settings: Settings) -> ListStore:
    """The list store on the process's one engine (never disposed by us)."""
    return ListStore(engine_for(settings))


class IndexHolder:
    """The screening index of the active snapshot, reloaded when the snapshot changes.

    :meth:`current` reloads before it answers (a scan must see the snapshot it just loaded);
    :meth:`serving` never makes a request wait: it looks at the store at most every
    ``check_seconds``, and a changed snapshot is loaded by a background thread while requests go
    on being answered from the old index, then swapped in by one assignment.
    """

    def __init__(self, settings: Settings, check_seconds: float = 2.0) -> None:
        use_screening_settings(settings)
        self.settings = settings
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._loaded: LoadedIndex | None = None
        self._store: ListStore | None = None
        self._checked_at = 0.0
        self._building: int | None = None
        self._checking = False  # a background look at the store is under way
        # Per snapshot id: the call that waits for a forked process making its caches.
        self._made_beside: dict[int, Callable[[], None]] = {}
        self.swaps = 0

    def store(self) -> ListStore:
        if self._store is None:
            self._store = list_store(self.settings)
        return self._store

    def active(self) -> SnapshotInfo:
        info = self.store().active_snapshot()
        if info is None:
            raise NoSnapshotError(
                "no list snapshot yet: run `computekyc lists update` or pass --lists DIR"
            )
        return info

    def make_beside(self) -> None:
        """Start making the active snapshot's index and ownership graph in a forked process
        when they are not in the disk cache yet: this process does other work meanwhile, and
        :meth:`current` waits for that process and reads what it saved. For the command line
        only, never inside a server (the process forks)."""
        info = self.active()
        loaded = self._loaded
        if (loaded is not None and loaded.list_snapshot_id == info.id) or (
            info.id in self._made_beside
        ):
            return
        key = snapshot_cache_key(info.id, info.created_at, self.settings.sqlalchemy_url)
        if ScreeningIndex.cache_path(self.settings.ensure_home(), key).is_file():
            return  # made before: reading it is all that is left
        pid = os.getpid()
        self._made_beside[info.id] = beside(lambda: self._make_caches(info, pid), fork=True)

    def _make_caches(self, info: SnapshotInfo, parent: int) -> None:
        """The index and graph of a snapshot made and saved to the disk cache (in a forked
        process: its database connections are its own, those it inherited are left alone)."""
        if os.getpid() != parent:
            self.store().engine.dispose(close=False)
        made = self._load(info)
        made.graph  # noqa: B018 - made and saved beside the index

    def current(self, save_beside: bool = False) -> LoadedIndex:
        """The index of the active snapshot. ``save_beside``: a new index's cache file is
        written by a forked process (the command line only; see
        :func:`computekyc.screening.wait_for_index_saves`)."""
        info = self.active()
        loaded = self._loaded
        if loaded is not None and loaded.list_snapshot_id == info.id:
            return loaded
        with self._lock:
            loaded = self._loaded
            if loaded is None or loaded.list_snapshot_id != info.id:
                made = self._made_beside.pop(info.id, None)
                if made is not None:
                    made()  # the forked process's caches are whole (or made here)
                loaded = self._load(info, save_beside)
                self._loaded = loaded  # one assignment: readers see the old or the new index
            return loaded

    def serving(self) -> LoadedIndex:
        """The index to answer a request from, without waiting for a reload."""
        loaded = self._loaded
        if loaded is None:
            return self.current()
        if time.monotonic() - self._checked_at >= self.check_seconds:
            self._refresh_in_background(loaded)
        return loaded

    def ready(self) -> bool:
        return self._loaded is not None

    def _refresh_in_background(self, loaded: LoadedIndex) -> None:
        # Even the look at the store happens off the caller's thread: the API answers small
        # queries on its event loop, which a slow or unreachable database must never hold up.
        with self._lock:
            if time.monotonic() - self._checked_at < self.check_seconds or self._checking:
                return
            self._checked_at = time.monotonic()
            self._checking = True
        threading.Thread(target=self._check_and_swap, args=(loaded,), daemon=True).start()

    def _check_and_swap(self, loaded: LoadedIndex) -> None:
        try:
            try:
                info = self.active()
            except Exception:  # the database is briefly unreachable: keep serving
                log.warning("cannot read the active snapshot; serving %s", loaded.snapshot)
                return
            with self._lock:
                if info.id == loaded.list_snapshot_id or self._building == info.id:
                    return
                self._building = info.id
            self._load_and_swap(info)
        finally:
            self._checking = False

    def _load_and_swap(self, info: SnapshotInfo) -> None:
        started = time.monotonic()
        try:
            fresh = self._load(info)
        except Exception:
            log.exception("loading the index of snapshot %s failed; keeping the old", info.id)
            with self._lock:
                self._building = None
            return
        with self._lock:
            if self._loaded is None or self._loaded.list_snapshot_id != info.id:
                self._loaded = fresh  # one assignment: the swap
                self.swaps += 1
            self._building = None
        log.info(
            "index swapped to %s (%s parties) in %.1f s",
            fresh.snapshot,
            len(fresh.parties),
            time.monotonic() - started,
        )

    def index(self) -> ScreeningIndex:
        return self.current().index

    def _load(self, info: SnapshotInfo, save_beside: bool = False) -> LoadedIndex:
        key = snapshot_cache_key(info.id, info.created_at, self.settings.sqlalchemy_url)
        store = self.store()

        def reusing(previous: ScreeningIndex) -> list[Party] | None:
            earlier = self._snapshot_of(previous)
            if earlier is None or earlier == info.id:
                return None
            return store.parties(info.id, earlier=(earlier, previous.parties))

        index = ScreeningIndex.cached(
            self.settings.ensure_home(),
            key,
            lambda: store.parties(info.id),
            save_beside=save_beside,
            reusing=reusing,
        )
        return LoadedIndex(
            snapshot=snapshot_name(info.id),
            list_snapshot_id=info.id,
            index=index,
            parties={p.party_id: p for p in index.parties},
            created_at=info.created_at,
            cache=self.settings.ensure_home() / "scan" / f"derived-{key}",
            save_beside=save_beside,
        )

    def _snapshot_of(self, index: ScreeningIndex) -> int | None:
        """The snapshot of this store that ``index`` was built from (by its cache key), if any."""
        number = (index.snapshot_id or "").split("-", 1)[0]
        if not number.isdigit():
            return None
        try:
            info = self.store().snapshot(int(number))
        except StoreError:
            return None
        key = snapshot_cache_key(info.id, info.created_at, self.settings.sqlalchemy_url)
        return info.id if key == index.snapshot_id else None

    def install(self) -> None:
        """Serve ``computekyc.screening.screen`` from this holder (for a long-running server)."""
        use_index(self.index)


_holders: dict[str, IndexHolder] = {}
_holders_lock = threading.Lock()


def index_holder(settings: Settings) -> IndexHolder:
    """The process's holder for the settings' database (one per database URL and home)."""
    key = f"{settings.sqlalchemy_url}|{settings.home}"
    use_screening_settings(settings)  # a process may switch between homes (tests do)
    with _holders_lock:
        holder = _holders.get(key)
        if holder is None:
            holder = _holders[key] = IndexHolder(settings)
        return holder
