"""The service layer: orchestration the command line and the HTTP API both call.

Each function takes one :class:`~computekyc.settings.Settings`, uses the process's one database
engine (``workflow.db.engine_for``) and names results by one snapshot identifier (the list
store's active snapshot, ``snapshot-N``); results are dataclasses and enums. Nothing here forks
worker processes unless a caller asks for it (``workers > 1``: the command line only).
"""

from computekyc.services.determination import (
    CustomerDetermination,
    PrescreenedScreener,
    determine_customers,
    determine_many,
)
from computekyc.services.indexes import IndexHolder, LoadedIndex, index_holder, snapshot_name
from computekyc.services.linking import merge_usage_sources, operations_from_store
from computekyc.services.lists import (
    DiffPair,
    SnapshotChoice,
    SnapshotSource,
    diff_pair,
    ensure_snapshot,
    snapshot_diff,
)
from computekyc.services.scan import ScanCounts, ScanResult, run_scan
from computekyc.services.screening import (
    BatchResult,
    NameQuery,
    ScreenOutcome,
    ScreenRow,
    read_screen_csv,
    save_screening,
    screen_batch,
    screen_queries,
)

__all__ = [
    "BatchResult",
    "CustomerDetermination",
    "DiffPair",
    "IndexHolder",
    "LoadedIndex",
    "NameQuery",
    "PrescreenedScreener",
    "ScanCounts",
    "ScanResult",
    "ScreenOutcome",
    "ScreenRow",
    "SnapshotChoice",
    "SnapshotSource",
    "determine_customers",
    "determine_many",
    "diff_pair",
    "ensure_snapshot",
    "index_holder",
    "merge_usage_sources",
    "operations_from_store",
    "read_screen_csv",
    "run_scan",
    "save_screening",
    "screen_batch",
    "screen_queries",
    "snapshot_diff",
    "snapshot_name",
]
