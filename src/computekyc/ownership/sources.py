"""IO at the edge: list parties, the screening engine and the ownership graph from files.

The caller says where state lives (the database URL, the home whose disk caches are used):
nothing here reads the environment."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from computekyc.lists import parties_from, read_file, read_mirror
from computekyc.lists.model import Party
from computekyc.lists.snapshots import SnapshotInfo
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
    # Which stored snapshot was chosen and why (empty for parties read from files).
    note: str = ""


def parties_digest(parties: Iterable[Party]) -> str:
    """A content id for parties read from files rather than from a stored snapshot."""
    digest = hashlib.sha256()
    for key in sorted(f"{p.party_id}:{p.content_hash()}" for p in parties):
        digest.update(key.encode())
    return "files-" + digest.hexdigest()[:16]


class NoListData(LookupError):
    """No mirror folder was given and the list store has no snapshot."""


def load_list_data(
    database_url: str,
    mirror: Path | None = None,
    extra_files: Iterable[Path] = (),
    as_of: date | None = None,
) -> ListData:
    """Parties from a mirror folder (or a snapshot of the list store at ``database_url``) plus
    extra list files.

    The stored snapshot is the one in force on ``as_of`` (the newest made by the end of that
    day), else the active one: a determination as of a past day gives the same answer after
    newer lists are loaded."""
    parties: list[Party] = []
    snapshot_id: str | None = None
    cache_key = ""
    note = ""
    if mirror is not None:
        parties.extend(parties_from(read_mirror(mirror)))
    else:
        store = ListStore.open(database_url)
        try:
            snapshot, note = _stored_snapshot(store, as_of)
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
    return ListData(parties=parties, snapshot_id=snapshot_id, cache_key=cache_key, note=note)


def _stored_snapshot(store: ListStore, as_of: date | None) -> tuple[SnapshotInfo, str]:
    """The stored snapshot to determine on, and a line saying which and why."""
    missing = "no list snapshot is loaded: run `computekyc lists update` or pass --lists DIR"
    if as_of is None:
        active = store.active_snapshot()
        if active is None:
            raise NoListData(missing)
        return active, f"lists: snapshot-{active.id} (the active one, loaded {active.created_at})"
    found = store.snapshot_on(as_of)
    if found is None:
        raise NoListData(missing)
    snapshot, in_force = found
    if in_force:
        why = f"in force on {as_of}, loaded {snapshot.created_at}"
    else:
        why = (
            f"no snapshot was loaded by {as_of}: the oldest, loaded {snapshot.created_at}, "
            "with each listing's own dates"
        )
    return snapshot, f"lists: snapshot-{snapshot.id} ({why})"


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
