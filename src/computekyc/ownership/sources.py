"""IO at the edge: list parties, the screening engine and the ownership graph from files.

The lists and screening packages are built beside this one; they are reached through their
public functions (``computekyc.lists.read_mirror`` / ``ListStore``, ``computekyc.screening``)
looked up at call time, so this package imports cleanly whichever lands first.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from computekyc.lists.model import Party
from computekyc.ownership.ftm import load_ftm
from computekyc.ownership.gleif import load_gleif
from computekyc.ownership.graph import OwnershipGraph
from computekyc.ownership.listgraph import load_list_parents
from computekyc.ownership.screener import EngineScreener, ExactScreener, PartyIndex, Screener


@dataclass(slots=True)
class ListData:
    parties: list[Party]
    snapshot_id: str


def _module(name: str) -> Any:
    return importlib.import_module(name)


def parties_digest(parties: Iterable[Party]) -> str:
    """A content id for parties read from files rather than from a stored snapshot."""
    digest = hashlib.sha256()
    for key in sorted(f"{p.party_id}:{p.content_hash()}" for p in parties):
        digest.update(key.encode())
    return "files-" + digest.hexdigest()[:16]


def load_list_data(mirror: Path | None = None, extra_files: Iterable[Path] = ()) -> ListData:
    """Parties from a mirror folder (or the active stored snapshot) plus extra list files."""
    lists = _module("computekyc.lists")
    parties: list[Party] = []
    snapshot_id: str | None = None
    if mirror is not None:
        parsed = lists.read_mirror(mirror)
        parties.extend(_parties(lists, parsed))
    else:
        store = _module("computekyc.lists.store").ListStore.open()
        snapshot = store.active_snapshot()
        if snapshot is None:
            raise LookupError(
                "no list snapshot is loaded: run `computekyc lists update` or pass --lists DIR"
            )
        snapshot_id = f"snapshot-{snapshot.id}"
        parties.extend(store.parties(snapshot.id))
    for path in extra_files:
        parties.extend(_parties(lists, [lists.read_file(path)]))
    return ListData(parties=parties, snapshot_id=snapshot_id or parties_digest(parties))


def _parties(lists: Any, parsed: Any) -> list[Party]:
    helper = getattr(lists, "parties_from", None)
    if helper is not None:
        return list(helper(parsed))
    items = parsed if isinstance(parsed, list | tuple) else [parsed]
    return [p for item in items for p in item.parties]


def engine_screener(data: ListData, threshold: float = 0.8) -> Screener:
    """The real screening engine over the parties, behind the ownership Screener protocol."""
    index_cls = getattr(_module("computekyc.screening"), "ScreeningIndex", None)
    if index_cls is None:
        index_cls = _module("computekyc.screening.index").ScreeningIndex
    engine = index_cls.build(data.parties, snapshot_id=data.snapshot_id)
    return EngineScreener(engine, PartyIndex(data.parties), data.snapshot_id, threshold=threshold)


def exact_screener(data: ListData) -> Screener:
    return ExactScreener(PartyIndex(data.parties), data.snapshot_id)


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
