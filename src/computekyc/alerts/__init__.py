"""Alerts raised by scans: types, severities, statuses, and the deduplicated queue."""

from computekyc.alerts.model import (
    Alert,
    AlertDraft,
    AlertStatus,
    AlertType,
    Severity,
    Subject,
    SubjectKind,
    canonical_json,
    fingerprint_of,
)
from computekyc.alerts.store import CONDITION_GONE, SORT_KEYS, AlertChange, AlertStore, SyncResult

__all__ = [
    "CONDITION_GONE",
    "SORT_KEYS",
    "Alert",
    "AlertChange",
    "AlertDraft",
    "AlertStatus",
    "AlertStore",
    "AlertType",
    "Severity",
    "Subject",
    "SubjectKind",
    "SyncResult",
    "canonical_json",
    "fingerprint_of",
]
