"""List snapshots as the scan and the API need them: which snapshot, and which two to compare."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from computekyc.lists.diff import ListDiff
from computekyc.lists.store import ListStore, SnapshotInfo, StoreError
from computekyc.services.indexes import list_store
from computekyc.settings import Settings


class SnapshotSource(StrEnum):
    MIRROR = "mirror"  # loaded from an offline mirror folder (like `lists update --from`)
    ACTIVE = "active"  # the store's active snapshot
    DOWNLOAD = "download"  # the official files, downloaded now


@dataclass(frozen=True, slots=True)
class SnapshotChoice:
    info: SnapshotInfo
    source: SnapshotSource
    created: bool  # a new snapshot was made by this call


def ensure_snapshot(
    settings: Settings, mirror: Path | None = None, *, download: bool = True
) -> SnapshotChoice:
    """The snapshot to work on: ``mirror`` loaded into the store (a no-op when its content is
    already active), else the active snapshot, else (``download``) the official files."""
    store = list_store(settings)
    if mirror is not None:
        result = store.load_mirror(mirror)
        return SnapshotChoice(result.snapshot, SnapshotSource.MIRROR, result.created)
    active = store.active_snapshot()
    if active is not None:
        return SnapshotChoice(active, SnapshotSource.ACTIVE, False)
    if not download:
        raise StoreError("no list snapshot yet: run `computekyc lists update` or pass --lists DIR")
    from computekyc.lists.download import update

    result = update(store, show_progress=False)
    return SnapshotChoice(result.snapshot, SnapshotSource.DOWNLOAD, result.created)


@dataclass(frozen=True, slots=True)
class DiffPair:
    old: int
    new: int


def diff_pair(store: ListStore, old: int | None = None, new: int | None = None) -> DiffPair:
    """The two snapshots a diff compares: ``new`` defaults to the active snapshot, ``old`` to
    the one before ``new``."""
    active = store.active_snapshot()
    if active is None:
        raise StoreError("no snapshot yet: load lists first")
    new_id = new if new is not None else active.id
    old_id = old if old is not None else store.previous_snapshot_id(new_id)
    if old_id is None:
        raise StoreError(f"snapshot {new_id} has no earlier snapshot to compare with")
    return DiffPair(old_id, new_id)


def snapshot_diff(
    settings: Settings, old: int | None = None, new: int | None = None
) -> tuple[DiffPair, ListDiff]:
    store = list_store(settings)
    pair = diff_pair(store, old, new)
    return pair, store.diff(pair.old, pair.new)
