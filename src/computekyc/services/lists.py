"""List snapshots as the scan and the API need them: which snapshot, and which two to compare."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.engine import Connection

from computekyc import audit
from computekyc.audit import Actor, AuditEntry
from computekyc.lists.diff import ListDiff
from computekyc.lists.snapshots import SnapshotInfo
from computekyc.lists.store import ListStore, LoadResult, StoreError
from computekyc.services.indexes import list_store, snapshot_name
from computekyc.settings import Settings
from computekyc.users import local_operator
from computekyc.workflow import open_database


class SnapshotSource(StrEnum):
    MIRROR = "mirror"  # loaded from an offline mirror folder (like `lists update --from`)
    ACTIVE = "active"  # the store's active snapshot
    DOWNLOAD = "download"  # the official files, downloaded now


@dataclass(frozen=True, slots=True)
class SnapshotChoice:
    info: SnapshotInfo
    source: SnapshotSource
    created: bool  # a new snapshot was made by this call


def audited_list_store(settings: Settings, actor: Actor | None = None) -> ListStore:
    """The list store on the process's engine, writing every new snapshot into the audit log in
    the load's own transaction (who loaded which files, which feeds changed)."""
    engine = open_database(settings)  # the audit tables exist before the load's transaction

    def record(connection: Connection, result: LoadResult) -> None:
        info = result.snapshot
        audit.append(
            connection,
            AuditEntry(
                action="lists.loaded",
                object_kind="list_snapshot",
                object_id=str(info.id),
                actor=actor or local_operator(),
                after={
                    "feeds_changed": result.feeds_changed,
                    "feeds_unchanged": result.feeds_unchanged,
                    "files": [
                        {"name": f.name, "sha256": f.sha256, "feed": f.feed, "rows": f.rows}
                        for f in result.files
                    ],
                    "parties": info.parties,
                    "forced": info.forced,
                    "notes": result.notes,
                },
                snapshot=snapshot_name(info.id),
            ),
        )

    return ListStore(engine, on_load=record)


def download_lists(
    settings: Settings, store: ListStore, *, force: bool = False, show_progress: bool = True
) -> LoadResult:
    """The official files (or the settings' internal mirror URL) downloaded into the home's
    downloads folder and loaded into ``store``; on any failure nothing changes."""
    from computekyc.lists.download import sources, update

    return update(
        store,
        settings.downloads,
        force=force,
        urls=sources(settings.lists_mirror_url),
        show_progress=show_progress,
    )


def ensure_snapshot(
    settings: Settings,
    mirror: Path | None = None,
    *,
    download: bool = True,
    reuse_unchanged: bool = False,
) -> SnapshotChoice:
    """The snapshot to work on: ``mirror`` loaded into the store (a no-op when its content is
    already active), else the active snapshot, else (``download``) the official files.
    ``reuse_unchanged``: feeds whose files are those of the active snapshot are not parsed
    again (:meth:`ListStore.load_files`); the snapshot made is the same."""
    store = audited_list_store(settings)
    if mirror is not None:
        result = store.load_mirror(mirror, reuse_unchanged=reuse_unchanged)
        return SnapshotChoice(result.snapshot, SnapshotSource.MIRROR, result.created)
    active = store.active_snapshot()
    if active is not None:
        return SnapshotChoice(active, SnapshotSource.ACTIVE, False)
    if not download:
        raise StoreError("no list snapshot yet: run `computekyc lists update` or pass --lists DIR")
    result = download_lists(settings, store, show_progress=False)
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


@dataclass(frozen=True, slots=True)
class Snapshots:
    """Every list snapshot, oldest first, and the active one's id (None before any load)."""

    active: int | None
    snapshots: list[SnapshotInfo]


def list_snapshots(settings: Settings) -> Snapshots:
    store = list_store(settings)
    active = store.active_snapshot()
    return Snapshots(active.id if active else None, list(store.snapshots()))
