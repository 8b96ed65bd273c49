"""The alert queue: deduplicated by a stable key, synchronised with each scan's findings.

A scan hands :meth:`AlertStore.sync` every alert its engines raise for the subjects it evaluated.
Re-running an unchanged scan creates nothing and writes nothing; new evidence updates an alert and
records what changed; a condition that is gone resolves its alert. A decided or suppressed alert
stays so while its material evidence (fingerprint) is unchanged, and re-opens at once when it
changes — suppression keyed on "already checked" must never hide a clean-to-hit change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Row, case, func, insert, select, update
from sqlalchemy.engine import Connection

from computekyc.alerts.model import (
    Alert,
    AlertDraft,
    AlertStatus,
    AlertType,
    Severity,
    Subject,
    SubjectKind,
    canonical_json,
)
from computekyc.alerts.schema import alerts
from computekyc.exc import NotFoundError
from computekyc.workflow.db import utc_now

CONDITION_GONE = "condition_gone"  # resolution of an alert whose finding is no longer raised
_LIVE = (AlertStatus.OPEN, AlertStatus.PENDING_APPROVAL, AlertStatus.SUPPRESSED)


SORT_KEYS = ("severity", "age", "type", "status", "subject", "id")


def _filtered(
    query: Any,
    status: Iterable[AlertStatus] | None,
    types: Iterable[AlertType] | None,
    subject_id: str | None,
    subject_text: str | None,
    severities: Iterable[Severity] | None,
) -> Any:
    if status is not None:
        query = query.where(alerts.c.status.in_([str(s) for s in status]))
    if types is not None:
        query = query.where(alerts.c.type.in_([str(t) for t in types]))
    if severities is not None:
        query = query.where(alerts.c.severity.in_([str(s) for s in severities]))
    if subject_id is not None:
        query = query.where(alerts.c.subject_id == subject_id)
    if subject_text:
        pattern = (
            "%" + subject_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            alerts.c.subject_name.ilike(pattern, escape="\\")
            | alerts.c.subject_id.ilike(pattern, escape="\\")
        )
    return query


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One alert written by a sync: what happened and the public shape before and after."""

    alert_id: int
    action: str  # new, updated, reopened, resolved
    before: dict[str, Any] | None
    after: dict[str, Any]
    what: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SyncResult:
    new: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    unchanged: int = 0
    changes: list[AlertChange] = field(default_factory=list)


def row_to_alert(row: Row[Any]) -> Alert:
    m = row._mapping
    return Alert(
        id=m["id"],
        key=m["key"],
        type=AlertType(m["type"]),
        severity=Severity(m["severity"]),
        status=AlertStatus(m["status"]),
        subject=Subject(SubjectKind(m["subject_kind"]), m["subject_id"], m["subject_name"]),
        summary=m["summary"],
        evidence=json.loads(m["evidence"]),
        fingerprint=m["fingerprint"],
        snapshot=m["snapshot"],
        rule_versions=json.loads(m["rule_versions"]),
        first_seen=m["first_seen"],
        last_seen=m["last_seen"],
        resolved_at=m["resolved_at"],
        resolution=m["resolution"],
        changes=json.loads(m["changes"]),
        case_id=m["case_id"],
        suppressed_until=m["suppressed_until"],
        suppression_fingerprint=m["suppression_fingerprint"],
    )


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- reading -----------------------------------------------------------------------------
    def get(self, alert_id: int, connection: Connection | None = None) -> Alert:
        query = select(alerts).where(alerts.c.id == alert_id)
        if connection is not None:
            row = connection.execute(query).first()
        else:
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no alert {alert_id}")
        return row_to_alert(row)

    def list(
        self,
        *,
        status: Iterable[AlertStatus] | None = (AlertStatus.OPEN, AlertStatus.PENDING_APPROVAL),
        types: Iterable[AlertType] | None = None,
        subject_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        subject_text: str | None = None,
        severities: Iterable[Severity] | None = None,
        sort: str = "severity",
        descending: bool = False,
    ) -> list[Alert]:
        """Most severe first, then oldest first; or by ``sort`` (one of :data:`SORT_KEYS`),
        ties broken the default way. ``subject_text`` finds a subject by part of its name or id."""
        query = _filtered(select(alerts), status, types, subject_id, subject_text, severities)
        severity_rank = case(
            {str(s): s.rank for s in Severity}, value=alerts.c.severity, else_=len(Severity)
        )
        columns = {
            "severity": severity_rank,
            "age": alerts.c.first_seen,
            "type": alerts.c.type,
            "status": alerts.c.status,
            "subject": func.coalesce(alerts.c.subject_name, alerts.c.subject_id),
            "id": alerts.c.id,
        }
        if sort not in columns:
            raise ValueError(f"unknown sort {sort!r}")
        first = columns[sort].desc() if descending else columns[sort]
        query = query.order_by(first, severity_rank, alerts.c.first_seen, alerts.c.id)
        query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [row_to_alert(row) for row in conn.execute(query)]

    def count(
        self,
        status: Sequence[AlertStatus] | None = None,
        *,
        types: Iterable[AlertType] | None = None,
        subject_id: str | None = None,
        subject_text: str | None = None,
        severities: Iterable[Severity] | None = None,
    ) -> int:
        query = _filtered(
            select(func.count()).select_from(alerts),
            status,
            types,
            subject_id,
            subject_text,
            severities,
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # -- the scan's findings -----------------------------------------------------------------
    def sync(
        self,
        connection: Connection,
        drafts: Iterable[AlertDraft],
        *,
        in_scope: Callable[[SubjectKind, str], bool],
        snapshot: str | None,
        rule_versions: dict[str, Any],
        now: str | None = None,
        today: str | None = None,
    ) -> SyncResult:
        """Write a scan's findings in the caller's transaction.

        ``in_scope(kind, id)`` says whether the scan evaluated that subject: live alerts of an
        evaluated subject that the scan did not raise again are resolved (condition gone).
        """
        at = now or utc_now()
        day = today or at[:10]
        by_key: dict[str, AlertDraft] = {}
        for draft in drafts:
            by_key.setdefault(draft.key, draft)
        existing = (
            {
                row._mapping["key"]: row_to_alert(row)
                for row in connection.execute(select(alerts).where(alerts.c.key.in_(list(by_key))))
            }
            if by_key
            else {}
        )
        result = SyncResult()
        versions = canonical_json(rule_versions)
        for key, draft in by_key.items():
            stored = existing.get(key)
            if stored is None:
                self._insert(connection, draft, snapshot, versions, at, result)
            else:
                self._update(connection, stored, draft, snapshot, versions, at, day, result)
        live = connection.execute(
            select(alerts).where(alerts.c.status.in_([str(s) for s in _LIVE]))
        )
        for row in live:
            alert = row_to_alert(row)
            if alert.key in by_key or not in_scope(alert.subject.kind, alert.subject.id):
                continue
            before = alert.to_dict()
            alert.status = AlertStatus.CLOSED
            alert.resolved_at = at
            alert.resolution = CONDITION_GONE
            alert.changes.append({"at": at, "change": "resolved: condition no longer raised"})
            connection.execute(
                update(alerts)
                .where(alerts.c.id == alert.id)
                .values(
                    status=str(alert.status),
                    resolved_at=at,
                    resolution=CONDITION_GONE,
                    changes=canonical_json(alert.changes),
                )
            )
            result.resolved += 1
            result.changes.append(AlertChange(alert.id, "resolved", before, alert.to_dict()))
        return result

    def _insert(
        self,
        connection: Connection,
        draft: AlertDraft,
        snapshot: str | None,
        versions: str,
        at: str,
        result: SyncResult,
    ) -> None:
        values = {
            "key": draft.key,
            "type": str(draft.type),
            "severity": str(draft.severity),
            "status": str(AlertStatus.OPEN),
            "subject_kind": str(draft.subject.kind),
            "subject_id": draft.subject.id,
            "subject_name": draft.subject.name,
            "summary": draft.summary,
            "evidence": canonical_json(draft.evidence),
            "fingerprint": draft.fingerprint,
            "snapshot": snapshot,
            "rule_versions": versions,
            "first_seen": at,
            "last_seen": at,
            "changes": canonical_json([{"at": at, "change": "raised"}]),
        }
        inserted = connection.execute(insert(alerts).values(**values)).inserted_primary_key
        assert inserted is not None
        alert_id = inserted[0]
        result.new += 1
        after = self.get(int(alert_id), connection).to_dict()
        result.changes.append(AlertChange(int(alert_id), "new", None, after))

    def _update(
        self,
        connection: Connection,
        stored: Alert,
        draft: AlertDraft,
        snapshot: str | None,
        versions: str,
        at: str,
        day: str,
        result: SyncResult,
    ) -> None:
        what = [
            name
            for name, old, new in (
                ("evidence", stored.fingerprint, draft.fingerprint),
                ("severity", str(stored.severity), str(draft.severity)),
                ("summary", stored.summary, draft.summary),
            )
            if old != new
        ]
        status = stored.status
        reopen = False
        if status is AlertStatus.SUPPRESSED:
            expired = stored.suppressed_until is not None and stored.suppressed_until < day
            changed = stored.suppression_fingerprint != draft.fingerprint
            reopen = expired or changed
            if reopen:
                what.append(
                    "suppression expired" if expired else "evidence changed since the suppression"
                )
        elif status is AlertStatus.CLOSED:
            reopen = stored.resolution == CONDITION_GONE or "evidence" in what
            if reopen and stored.resolution == CONDITION_GONE:
                what.append("condition raised again")
        elif status is AlertStatus.PENDING_APPROVAL and "evidence" in what:
            reopen = True  # a pending clearance was about other evidence
        if not what:
            result.unchanged += 1
            return
        before = stored.to_dict()
        changes = [*stored.changes, {"at": at, "change": ", ".join(what)}]
        values: dict[str, Any] = {
            "severity": str(draft.severity),
            "summary": draft.summary,
            "evidence": canonical_json(draft.evidence),
            "fingerprint": draft.fingerprint,
            "subject_name": draft.subject.name,
            "snapshot": snapshot,
            "rule_versions": versions,
            "last_seen": at,
            "changes": canonical_json(changes),
        }
        if reopen:
            values.update(
                status=str(AlertStatus.OPEN),
                resolved_at=None,
                resolution=None,
                suppressed_until=None,
                suppression_fingerprint=None,
            )
        connection.execute(update(alerts).where(alerts.c.id == stored.id).values(**values))
        after = self.get(stored.id, connection).to_dict()
        if reopen:
            result.reopened += 1
            result.changes.append(AlertChange(stored.id, "reopened", before, after, what))
        else:
            result.updated += 1
            result.changes.append(AlertChange(stored.id, "updated", before, after, what))
