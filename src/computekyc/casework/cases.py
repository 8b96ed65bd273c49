"""Cases: the alerts about one subject (or one linked entity) worked together, with an assignee,
a due date from the severity SLA, comments and a history (the audit log of the case and its
alerts). Every change is audited in the caller's transaction.

An alert belongs to the case of its *group*: the linked entity named in its evidence
(``entity_id``) when there is one, else its own subject.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from computekyc.alerts import Alert, AlertStatus, Severity, SubjectKind, canonical_json
from computekyc.alerts.schema import alerts
from computekyc.alerts.store import row_to_alert
from computekyc.audit import Actor, AuditEntry, LoggedEntry, append
from computekyc.audit.schema import audit_log
from computekyc.casework.policy import policy
from computekyc.casework.schema import case_comments, cases
from computekyc.exc import ConflictError, NotFoundError, OptionError
from computekyc.users import Permission, allowed, get_user, require
from computekyc.workflow.db import utc_now

_LIVE = (str(AlertStatus.OPEN), str(AlertStatus.PENDING_APPROVAL))


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    author: str
    at: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "author": self.author, "at": self.at, "text": self.text}


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    subject_kind: str
    subject_id: str
    subject_name: str | None
    status: CaseStatus
    severity: Severity
    assignee: str | None
    opened_at: str
    due_on: str
    closed_at: str | None
    alert_ids: tuple[int, ...] = ()

    def overdue(self, today: str) -> bool:
        return self.status is CaseStatus.OPEN and self.due_on < today

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": {
                "kind": self.subject_kind,
                "id": self.subject_id,
                "name": self.subject_name,
            },
            "status": str(self.status),
            "severity": str(self.severity),
            "assignee": self.assignee,
            "opened_at": self.opened_at,
            "due_on": self.due_on,
            "closed_at": self.closed_at,
            "overdue": self.overdue(utc_now()[:10]),
            "alerts": list(self.alert_ids),
        }


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: Case
    alerts: list[Alert] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    history: list[LoggedEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.case.to_dict(),
            "alerts": [
                {
                    "id": a.id,
                    "type": str(a.type),
                    "severity": str(a.severity),
                    "status": str(a.status),
                    "summary": a.summary,
                }
                for a in self.alerts
            ],
            "comments": [c.to_dict() for c in self.comments],
            "history": [e.to_dict() for e in self.history],
        }


def group_of(alert: Alert) -> tuple[str, str, str | None]:
    """(kind, id, name) of the case an alert belongs in: its linked entity, else its subject."""
    entity = alert.evidence.get("entity_id")
    if isinstance(entity, str) and entity and alert.subject.kind is not SubjectKind.ENTITY:
        return str(SubjectKind.ENTITY), entity, None
    return str(alert.subject.kind), alert.subject.id, alert.subject.name


def _case(row: Any, alert_ids: tuple[int, ...]) -> Case:
    m = row._mapping
    return Case(
        id=int(m["id"]),
        subject_kind=m["subject_kind"],
        subject_id=m["subject_id"],
        subject_name=m["subject_name"],
        status=CaseStatus(m["status"]),
        severity=Severity(m["severity"]),
        assignee=m["assignee"],
        opened_at=m["opened_at"],
        due_on=m["due_on"],
        closed_at=m["closed_at"],
        alert_ids=alert_ids,
    )


def _alert_ids(connection: Connection, case_ids: list[int]) -> dict[int, tuple[int, ...]]:
    found: dict[int, list[int]] = defaultdict(list)
    if case_ids:
        query = (
            select(alerts.c.case_id, alerts.c.id)
            .where(alerts.c.case_id.in_(case_ids))
            .order_by(alerts.c.id)
        )
        for case_id, alert_id in connection.execute(query):
            found[int(case_id)].append(int(alert_id))
    return {case_id: tuple(found[case_id]) for case_id in case_ids}


def get_case(connection: Connection, case_id: int) -> Case:
    row = connection.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return _case(row, _alert_ids(connection, [case_id])[case_id])


def list_cases(
    connection: Connection,
    *,
    status: CaseStatus | None = CaseStatus.OPEN,
    assignee: str | None = None,
) -> list[Case]:
    """Cases soonest due first."""
    query = select(cases)
    if status is not None:
        query = query.where(cases.c.status == str(status))
    if assignee is not None:
        query = query.where(cases.c.assignee == assignee)
    rows = list(connection.execute(query.order_by(cases.c.due_on, cases.c.id)))
    ids = _alert_ids(connection, [int(r._mapping["id"]) for r in rows])
    return [_case(r, ids[int(r._mapping["id"])]) for r in rows]


def case_detail(connection: Connection, case_id: int) -> CaseDetail:
    case = get_case(connection, case_id)
    case_alerts = [
        row_to_alert(row)
        for row in connection.execute(
            select(alerts).where(alerts.c.case_id == case_id).order_by(alerts.c.id)
        )
    ]
    comments = [
        Comment(int(m["id"]), m["author"], m["at"], m["text"])
        for m in (
            row._mapping
            for row in connection.execute(
                select(case_comments)
                .where(case_comments.c.case_id == case_id)
                .order_by(case_comments.c.id)
            )
        )
    ]
    about_case = (audit_log.c.object_kind == "case") & (audit_log.c.object_id == str(case_id))
    about_alerts = (audit_log.c.object_kind == "alert") & audit_log.c.object_id.in_(
        [str(a.id) for a in case_alerts]
    )
    history = [
        LoggedEntry.from_row(row._mapping)
        for row in connection.execute(
            select(audit_log).where(about_case | about_alerts).order_by(audit_log.c.seq)
        )
    ]
    return CaseDetail(case, case_alerts, comments, history)


def _audit_case(
    connection: Connection,
    actor: Actor,
    action: str,
    before: Case | None,
    after: Case,
    reason: str | None,
    request_id: str | None,
    context: dict[str, Any] | None = None,
) -> None:
    append(
        connection,
        AuditEntry(
            action=action,
            object_kind="case",
            object_id=str(after.id),
            actor=actor,
            reason=reason,
            before=None if before is None else before.to_dict(),
            after=after.to_dict(),
            subject_kind=after.subject_kind,
            subject_id=after.subject_id,
            request_id=request_id,
            context={"policy_version": policy().version, **(context or {})},
        ),
    )


def _open_case_for(
    connection: Connection, group: tuple[str, str, str | None], severity: Severity, at: str
) -> tuple[Case, bool]:
    """The group's open case, or a new one; (case, made now)."""
    kind, subject, name = group
    row = connection.execute(
        select(cases).where(
            cases.c.subject_kind == kind,
            cases.c.subject_id == subject,
            cases.c.status == str(CaseStatus.OPEN),
        )
    ).first()
    if row is not None:
        return get_case(connection, int(row._mapping["id"])), False
    due = policy().due_on(date.fromisoformat(at[:10]), severity)
    inserted = connection.execute(
        insert(cases).values(
            subject_kind=kind,
            subject_id=subject,
            subject_name=name,
            status=str(CaseStatus.OPEN),
            severity=str(severity),
            opened_at=at,
            due_on=due.isoformat(),
        )
    ).inserted_primary_key
    assert inserted is not None
    return get_case(connection, int(inserted[0])), True


def _attach(
    connection: Connection,
    actor: Actor,
    case: Case,
    made: bool,
    members: list[Alert],
    at: str,
    request_id: str | None,
) -> Case:
    """Put alerts in the case; the severity and due date follow the most severe alert."""
    new = [a for a in members if a.case_id != case.id]
    for alert in new:
        changes = [*alert.changes, {"at": at, "change": f"added to case {case.id}"}]
        connection.execute(
            update(alerts)
            .where(alerts.c.id == alert.id)
            .values(case_id=case.id, changes=canonical_json(changes))
        )
    severity = min([case.severity, *(a.severity for a in members)], key=lambda s: s.rank)
    due = min(
        case.due_on,
        policy().due_on(date.fromisoformat(case.opened_at[:10]), severity).isoformat(),
    )
    if (severity, due) != (case.severity, case.due_on):
        connection.execute(
            update(cases).where(cases.c.id == case.id).values(severity=str(severity), due_on=due)
        )
    after = get_case(connection, case.id)
    if made or new:
        _audit_case(
            connection,
            actor,
            "case.open" if made else "case.add_alerts",
            None if made else case,
            after,
            None,
            request_id,
            {"added_alerts": [a.id for a in new]},
        )
    return after


def _live_alerts(connection: Connection, alert_ids: list[int]) -> list[Alert]:
    rows = connection.execute(select(alerts).where(alerts.c.id.in_(alert_ids)))
    found = {int(row._mapping["id"]): row_to_alert(row) for row in rows}
    missing = [i for i in alert_ids if i not in found]
    if missing:
        raise NotFoundError(f"no alert {', '.join(map(str, missing))}")
    return [found[i] for i in alert_ids]


def open_case(
    connection: Connection,
    actor: Actor,
    alert_ids: list[int],
    *,
    assignee: str | None = None,
    request_id: str | None = None,
) -> Case:
    """Group the given alerts (one subject or linked entity) into that group's open case."""
    require(actor, Permission.DECIDE)
    if not alert_ids:
        raise OptionError("name at least one alert")
    members = _live_alerts(connection, alert_ids)
    groups = {group_of(a)[:2] for a in members}
    if len(groups) > 1:
        named = ", ".join(f"{k} {i}" for k, i in sorted(groups))
        raise OptionError(f"the alerts are about different subjects ({named}): one case each")
    at = utc_now()
    severity = min((a.severity for a in members), key=lambda s: s.rank)
    case, made = _open_case_for(connection, group_of(members[0]), severity, at)
    for alert in members:
        if alert.case_id is not None and alert.case_id != case.id:
            other = get_case(connection, alert.case_id)
            if other.status is CaseStatus.OPEN:
                raise ConflictError(f"alert {alert.id} is already in open case {other.id}")
    case = _attach(connection, actor, case, made, members, at, request_id)
    if assignee is not None:
        case = assign(connection, actor, case.id, assignee, request_id=request_id)
    return case


def group_alerts(
    connection: Connection, actor: Actor, *, request_id: str | None = None
) -> list[Case]:
    """Put every live alert that has no case into its group's open case (made as needed)."""
    require(actor, Permission.DECIDE)
    rows = connection.execute(
        select(alerts).where(alerts.c.status.in_(_LIVE), alerts.c.case_id.is_(None))
    )
    by_group: dict[tuple[str, str, str | None], list[Alert]] = defaultdict(list)
    for row in rows:
        alert = row_to_alert(row)
        by_group[group_of(alert)].append(alert)
    at = utc_now()
    touched = []
    for group, members in sorted(by_group.items(), key=lambda item: item[0][:2]):
        severity = min((a.severity for a in members), key=lambda s: s.rank)
        case, made = _open_case_for(connection, group, severity, at)
        touched.append(_attach(connection, actor, case, made, members, at, request_id))
    return touched


def assign(
    connection: Connection,
    actor: Actor,
    case_id: int,
    assignee: str,
    *,
    request_id: str | None = None,
) -> Case:
    require(actor, Permission.DECIDE)
    case = get_case(connection, case_id)
    person = get_user(connection, assignee)
    if not person.active:
        raise ConflictError(f"user {assignee!r} is revoked")
    if not allowed(Actor(person.name, str(person.role)), Permission.DECIDE):
        raise OptionError(
            f"{assignee} ({person.role}) cannot decide alerts; assign someone who can"
        )
    if case.assignee == assignee:
        return case
    connection.execute(update(cases).where(cases.c.id == case_id).values(assignee=assignee))
    after = get_case(connection, case_id)
    _audit_case(connection, actor, "case.assign", case, after, None, request_id)
    return after


def comment(
    connection: Connection,
    actor: Actor,
    case_id: int,
    text: str,
    *,
    request_id: str | None = None,
) -> Comment:
    require(actor, Permission.DECIDE)
    text = text.strip()
    if not text:
        raise OptionError("the comment is empty")
    case = get_case(connection, case_id)
    at = utc_now()
    inserted = connection.execute(
        insert(case_comments).values(case_id=case_id, author=actor.user, at=at, text=text)
    ).inserted_primary_key
    assert inserted is not None
    note = Comment(int(inserted[0]), actor.user, at, text)
    _audit_case(
        connection, actor, "case.comment", case, case, None, request_id, {"comment": note.to_dict()}
    )
    return note


def close_case(
    connection: Connection,
    actor: Actor,
    case_id: int,
    reason: str,
    *,
    request_id: str | None = None,
) -> Case:
    """Close a case whose alerts are all decided (closed or suppressed)."""
    require(actor, Permission.DECIDE)
    if not reason.strip():
        raise OptionError("closing a case needs a reason")
    case = get_case(connection, case_id)
    if case.status is CaseStatus.CLOSED:
        raise ConflictError(f"case {case_id} is already closed")
    live = connection.execute(
        select(func.count())
        .select_from(alerts)
        .where(alerts.c.case_id == case_id, alerts.c.status.in_(_LIVE))
    ).scalar_one()
    if live:
        raise ConflictError(f"case {case_id} still has {live} undecided alert(s)")
    at = utc_now()
    connection.execute(
        update(cases)
        .where(cases.c.id == case_id)
        .values(status=str(CaseStatus.CLOSED), closed_at=at)
    )
    after = get_case(connection, case_id)
    _audit_case(connection, actor, "case.close", case, after, reason.strip(), request_id)
    return after
