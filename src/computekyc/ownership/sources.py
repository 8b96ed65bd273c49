"""IO at the edge: list parties, the screening engine and the ownership graph from files.

The caller says where state lives (the database URL, the home whose disk caches are used):
nothing here reads the environment."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from computekyc.lists import parties_from, read_file, read_mirror
from computekyc.lists.model import Party
from computekyc.lists.store import ListStore
from computekyc.ownership.ftm import load_ftm
from computekyc.ownership.gleif import load_gleif
from computekyc.ownership.graph import OwnershipGraph
from computekyc.ownership.listgraph import load_list_parents
from computekyc.ownership.names import NameFrequencies
from computekyc.ownership.screener import EngineScreener, ExactScreener, PartyIndex, Screener
from computekyc.screening import ScreeningIndex, snapshot_cache_key


@dataclass(slots=True)
class ListData:
    parties: list[Party]
    snapshot_id: str
    # Key of the screening-index disk cache: unique per database snapshot or per file content.
    cache_key: str = ""


def parties_digest(parties: Iterable[Party]) -> str:
    """A content id for parties read from files rather than from a stored snapshot."""
    digest = hashlib.sha256()
    for key in sorted(f"{p.party_id}:{p.content_hash()}" for p in parties):
        digest.update(key.encode())
    return "files-" + digest.hexdigest()[:16]


class NoListData(LookupError):
    """No mirror folder was given and the list store has no snapshot."""


def load_list_data(
    database_url: str, mirror: Path | None = None, extra_files: Iterable[Path] = ()
) -> ListData:
    """Parties from a mirror folder (or the active snapshot of the list store at
    ``database_url``) plus extra list files."""
    parties: list[Party] = []
    snapshot_id: str | None = None
    cache_key = ""
    if mirror is not None:
        parties.extend(parties_from(read_mirror(mirror)))
    else:
        store = ListStore.open(database_url)
        try:
            snapshot = store.active_snapshot()
            if snapshot is None:
                raise NoListData(
                    "no list snapshot is loaded: run `computekyc lists update` or pass --lists DIR"
                )
            snapshot_id = f"snapshot-{snapshot.id}"
            cache_key = snapshot_cache_key(snapshot.id, snapshot.created_at, database_url)
            parties.extend(store.parties(snapshot.id))
        finally:
            store.close()
    extra = list(extra_files)
    for path in extra:
        parties.extend(parties_from([read_file(path)]))
    if snapshot_id is None or extra:
        # Parties read from files (or a snapshot plus extra files): their content is the id.
        digest = parties_digest(parties)
        snapshot_id = snapshot_id or digest
        cache_key = digest
    return ListData(parties=parties, snapshot_id=snapshot_id, cache_key=cache_key)


def engine_screener(data: ListData, home: Path, threshold: float = 0.8) -> Screener:
    """The real screening engine over the parties, behind the ownership Screener protocol.

    The index is cached on disk under ``home`` per snapshot (or per file content), so repeated
    determinations do not rebuild it.
    """
    engine = ScreeningIndex.cached(home, data.cache_key, lambda: data.parties)
    return EngineScreener(engine, party_index(data, home), data.snapshot_id, threshold=threshold)


def exact_screener(data: ListData, home: Path) -> Screener:
    return ExactScreener(party_index(data, home), data.snapshot_id)


def party_index(data: ListData, home: Path) -> PartyIndex:
    """The parties indexed, with name-part frequencies cached per snapshot like the index."""
    names = (
        NameFrequencies.cached(home, data.cache_key, lambda: data.parties)
        if data.cache_key
        else None
    )
    return PartyIndex(data.parties, names)


def build_graph(
    parties: Iterable[Party] = (),
    ownership_dir: Path | None = None,
    ftm_files: Iterable[Path] = (),
) -> OwnershipGraph:
    """One graph from list parents, GLEIF (API + golden copy) and FtM files."""
    graph = load_list_parents(parties)
    if ownership_dir is not None:
        load_gleif(ownership_dir, graph)
    load_ftm(list(ftm_files), graph)
    return graph
