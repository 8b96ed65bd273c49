"""The list snapshot a process screens against, and its screening index, swapped atomically.

A long-running process (the HTTP API, a scheduler) asks :meth:`IndexHolder.current` for every
request: one cheap query tells whether the active list snapshot changed, and only then the new
index is loaded (from the per-snapshot disk cache, or built) and swapped in under a lock. Requests
already running keep the index they started with. Nothing here forks worker processes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TypeVar

from computekyc.bulk import gc_paused
from computekyc.lists.model import Party
from computekyc.lists.store import ListStore, SnapshotInfo
from computekyc.ownership import OwnershipGraph, PartyIndex, load_list_parents
from computekyc.screening import NoSnapshotError, ScreeningIndex, snapshot_cache_key, use_index
from computekyc.settings import Settings
from computekyc.workflow.db import engine_for

T = TypeVar("T")


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
    cache: Path | None = None  # where the derived tables below are kept per snapshot
    _party_index: PartyIndex | None = None
    _graph: OwnershipGraph | None = None

    @property
    def party_index(self) -> PartyIndex:
        """Exact names and identifiers of the snapshot (made once per snapshot)."""
        if self._party_index is None:
            self._party_index = _derived(
                self.cache, "parties", lambda: PartyIndex(self.index.parties), PartyIndex
            )
        return self._party_index

    @property
    def graph(self) -> OwnershipGraph:
        """The parents the lists themselves name (1260H, Entity List), once per snapshot."""
        if self._graph is None:
            self._graph = _derived(
                self.cache, "graph", lambda: load_list_parents(self.index.parties), OwnershipGraph
            )
        return self._graph


def _code_digest() -> str:
    """The ownership code that derives the tables: a cache written by other code is not read."""
    digest = hashlib.sha256()
    package = resources.files("computekyc.ownership")
    for name in ("screener.py", "listgraph.py", "graph.py"):
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()[:12]


def _derived(cache: Path | None, name: str, build: Callable[[], T], kind: type[T]) -> T:
    """A table derived from a snapshot's parties, from the disk cache or built and saved."""
    if cache is None:
        return build()
    path = cache.with_name(f"{cache.name}-{name}-{_code_digest()}.pickle")
    if path.is_file():
        try:
            with gc_paused(), path.open("rb") as handle:
                value = pickle.load(handle)  # our own cache file under the state folder
            if isinstance(value, kind):
                return value
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            pass  # rebuilt below
    value = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(fh.name, path)
    return value


def list_store(settings: Settings) -> ListStore:
    """The list store on the process's one engine (never disposed by us)."""
    return ListStore(engine_for(settings))


class IndexHolder:
    """The screening index of the active snapshot, reloaded when the snapshot changes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._loaded: LoadedIndex | None = None
        self._store: ListStore | None = None

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

    def current(self) -> LoadedIndex:
        info = self.active()
        loaded = self._loaded
        if loaded is not None and loaded.list_snapshot_id == info.id:
            return loaded
        with self._lock:
            loaded = self._loaded
            if loaded is None or loaded.list_snapshot_id != info.id:
                loaded = self._load(info)
                self._loaded = loaded  # one assignment: readers see the old or the new index
            return loaded

    def index(self) -> ScreeningIndex:
        return self.current().index

    def _load(self, info: SnapshotInfo) -> LoadedIndex:
        key = snapshot_cache_key(info.id, info.created_at, self.settings.sqlalchemy_url)
        store = self.store()
        index = ScreeningIndex.cached(
            self.settings.ensure_home(), key, lambda: store.parties(info.id)
        )
        return LoadedIndex(
            snapshot=snapshot_name(info.id),
            list_snapshot_id=info.id,
            index=index,
            parties={p.party_id: p for p in index.parties},
            cache=self.settings.ensure_home() / "scan" / f"derived-{key}",
        )

    def install(self) -> None:
        """Serve ``computekyc.screening.screen`` from this holder (for a long-running server)."""
        use_index(self.index)


_holders: dict[str, IndexHolder] = {}
_holders_lock = threading.Lock()


def index_holder(settings: Settings) -> IndexHolder:
    """The process's holder for the settings' database (one per database URL and home)."""
    key = f"{settings.sqlalchemy_url}|{settings.home}"
    with _holders_lock:
        holder = _holders.get(key)
        if holder is None:
            holder = _holders[key] = IndexHolder(settings)
        return holder
