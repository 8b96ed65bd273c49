"""Decisions on alerts with four eyes, suppression bound to the evidence it saw, and subject
status overrides; every change audited in the same transaction.

* Clearing (``false_positive``) a critical or high alert leaves it ``pending_approval`` until a
  different person holding ``alerts.approve`` approves; the decider never approves their own.
* A suppression records the alert's fingerprint; :meth:`AlertStore.sync` re-opens the alert when
  the material evidence changes or the date passes. It takes effect only at the hands of
  someone holding ``alerts.suppress`` (the decider, or for four-eyes alerts the approver).
* A confirmed critical alert sets its subject's status (``subject_status``: blocked or
  licence required, per the policy file) with the decision as evidence.

Alerts change only by conditional updates (``WHERE status = … AND fingerprint = …``): a scan or
another analyst changing the alert in between makes the decision fail with a conflict instead
of deciding on evidence nobody saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from computekyc.alerts import Alert, AlertStatus, AlertStore, Severity, canonical_json
from computekyc.alerts.schema import alerts
from computekyc.audit import Actor, AuditEntry, append
from computekyc.casework.policy import policy
from computekyc.casework.schema import decisions, subject_status
from computekyc.exc import ConflictError, NotFoundError, OptionError, PermissionDenied
from computekyc.users import Permission, matrix_version, require
from computekyc.workflow.db import utc_now


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"
    ESCALATED = "escalated"

    @classmethod
    def parse(cls, value: str) -> Outcome:
        try:
            return cls(value)
        except ValueError:
            raise OptionError(
                f"unknown outcome {value!r} (one of {', '.join(o.value for o in cls)})"
            ) from None


class DecisionStatus(StrEnum):
    FINAL = "final"  # took effect when made
    PENDING = "pending"  # awaits a second person's approval
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # the evidence changed before review; decided again


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    alert_id: int
    outcome: Outcome
    status: DecisionStatus
    reason: str
    decided_by: str
    decided_role: str
    decided_at: str
    suppress_until: str | None
    alert_fingerprint: str
    snapshot: str | None
    rule_versions: dict[str, Any]
    reviewed_by: str | None
    reviewed_at: str | None
    review_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alert_id": self.alert_id,
            "outcome": str(self.outcome),
            "status": str(self.status),
            "reason": self.reason,
            "decided_by": self.decided_by,
            "decided_role": self.decided_role,
            "decided_at": self.decided_at,
            "suppress_until": self.suppress_until,
            "alert_fingerprint": self.alert_fingerprint,
            "snapshot": self.snapshot,
            "rule_versions": self.rule_versions,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at,
            "review_reason": self.review_reason,
        }


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """What a decision or a review did: the decision, the alert after it, the subject status."""

    decision: Decision
    alert: Alert
    subject_status: str | None = None

    @property
    def pending_approval(self) -> bool:
        return self.decision.status is DecisionStatus.PENDING

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.to_dict(),
            "alert": {
                "id": self.alert.id,
                "status": str(self.alert.status),
                "resolution": self.alert.resolution,
                "suppressed_until": self.alert.suppressed_until,
            },
            "pending_approval": self.pending_approval,
            "subject_status": self.subject_status,
        }


def get_alert(connection: Connection, alert_id: int) -> Alert:
    return AlertStore(connection.engine).get(alert_id, connection)


def _decision(row: Any) -> Decision:
    m = row._mapping
    return Decision(
        id=int(m["id"]),
        alert_id=int(m["alert_id"]),
        outcome=Outcome(m["outcome"]),
        status=DecisionStatus(m["status"]),
        reason=m["reason"],
        decided_by=m["decided_by"],
        decided_role=m["decided_role"],
        decided_at=m["decided_at"],
        suppress_until=m["suppress_until"],
        alert_fingerprint=m["alert_fingerprint"],
        snapshot=m["snapshot"],
        rule_versions=json.loads(m["rule_versions"]),
        reviewed_by=m["reviewed_by"],
        reviewed_at=m["reviewed_at"],
        review_reason=m["review_reason"],
    )


def get_decision(connection: Connection, decision_id: int) -> Decision:
    row = connection.execute(select(decisions).where(decisions.c.id == decision_id)).first()
    if row is None:
        raise NotFoundError(f"no decision {decision_id}")
    return _decision(row)


def decisions_for(connection: Connection, alert_id: int) -> list[Decision]:
    query = select(decisions).where(decisions.c.alert_id == alert_id).order_by(decisions.c.id)
    return [_decision(row) for row in connection.execute(query)]


def alert_state(alert: Alert) -> dict[str, Any]:
    """The part of an alert casework changes (the audit's before/after)."""
    return {
        "status": str(alert.status),
        "resolution": alert.resolution,
        "resolved_at": alert.resolved_at,
        "suppressed_until": alert.suppressed_until,
        "suppression_fingerprint": alert.suppression_fingerprint,
        "case_id": alert.case_id,
    }


def _audit_alert(
    connection: Connection,
    actor: Actor,
    action: str,
    before: Alert,
    after: Alert,
    decision: Decision,
    reason: str | None,
    request_id: str | None,
) -> None:
    append(
        connection,
        AuditEntry(
            action=action,
            object_kind="alert",
            object_id=str(after.id),
            actor=actor,
            reason=reason,
            before=alert_state(before),
            after=alert_state(after),
            subject_kind=str(after.subject.kind),
            subject_id=after.subject.id,
            snapshot=before.snapshot,
            rule_versions=before.rule_versions,
            request_id=request_id,
            context={
                "decision": decision.to_dict(),
                "alert": {
                    "type": str(before.type),
                    "severity": str(before.severity),
                    "summary": before.summary,
                    "fingerprint": before.fingerprint,
                    "evidence": before.evidence,
                },
                "policy_version": policy().version,
                "permissions_version": matrix_version(),
            },
        ),
    )


def _change_alert(
    connection: Connection,
    alert: Alert,
    change: str,
    at: str,
    **values: Any,
) -> Alert:
    """Apply values to the alert if nobody changed it since it was read; the alert after."""
    changes = [*alert.changes, {"at": at, "change": change}]
    done = connection.execute(
        update(alerts)
        .where(
            alerts.c.id == alert.id,
            alerts.c.status == str(alert.status),
            alerts.c.fingerprint == alert.fingerprint,
        )
        .values(changes=canonical_json(changes), **values)
    )
    if done.rowcount != 1:
        raise ConflictError(f"alert {alert.id} changed while it was being decided; look again")
    return get_alert(connection, alert.id)


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OptionError(f"{option} must be a date (YYYY-MM-DD), not {value!r}") from None


def decide(
    connection: Connection,
    actor: Actor,
    alert_id: int,
    outcome: Outcome,
    reason: str,
    *,
    suppress_until: str | None = None,
    request_id: str | None = None,
    now: str | None = None,
) -> DecisionResult:
    """Decide one alert as ``actor`` in the caller's transaction."""
    require(actor, Permission.DECIDE)
    reason = reason.strip()
    if not reason:
        raise OptionError("a decision needs a reason")
    at = now or utc_now()
    alert = get_alert(connection, alert_id)
    if alert.status is AlertStatus.PENDING_APPROVAL:
        raise ConflictError(f"alert {alert_id} awaits approval of an earlier decision")
    if alert.status is not AlertStatus.OPEN:
        raise ConflictError(f"alert {alert_id} is {alert.status}, not open")
    four_eyes = outcome is Outcome.FALSE_POSITIVE and policy().needs_four_eyes(alert.severity)
    if suppress_until is not None:
        if outcome is not Outcome.FALSE_POSITIVE:
            raise OptionError("only a false positive can be suppressed")
        if _parse_day(suppress_until, "--suppress-until") <= date.fromisoformat(at[:10]):
            raise OptionError(f"--suppress-until {suppress_until} is not in the future")
        if not four_eyes:
            require(actor, Permission.SUPPRESS)
    # An earlier pending decision whose alert was re-opened by new evidence is superseded.
    connection.execute(
        update(decisions)
        .where(decisions.c.alert_id == alert_id, decisions.c.status == DecisionStatus.PENDING)
        .values(status=str(DecisionStatus.SUPERSEDED))
    )
    status = DecisionStatus.PENDING if four_eyes else DecisionStatus.FINAL
    inserted = connection.execute(
        insert(decisions).values(
            alert_id=alert_id,
            outcome=str(outcome),
            status=str(status),
            reason=reason,
            decided_by=actor.user,
            decided_role=actor.role,
            decided_at=at,
            suppress_until=suppress_until,
            alert_fingerprint=alert.fingerprint,
            snapshot=alert.snapshot,
            rule_versions=canonical_json(alert.rule_versions),
        )
    ).inserted_primary_key
    assert inserted is not None
    decision = get_decision(connection, int(inserted[0]))
    said = f"decided {outcome} by {actor.user} (decision {decision.id})"
    if outcome is Outcome.CONFIRMED:
        after = _change_alert(
            connection,
            alert,
            said,
            at,
            status=str(AlertStatus.CLOSED),
            resolution=str(outcome),
            resolved_at=at,
        )
    elif outcome is Outcome.ESCALATED:
        after = _change_alert(connection, alert, said, at)
    elif four_eyes:
        after = _change_alert(
            connection,
            alert,
            said + ", awaiting approval",
            at,
            status=str(AlertStatus.PENDING_APPROVAL),
        )
    else:
        after = _clear(connection, alert, decision, said, at)
    _audit_alert(connection, actor, "alert.decide", alert, after, decision, reason, request_id)
    overridden = None
    if outcome is Outcome.CONFIRMED and alert.severity is Severity.CRITICAL:
        overridden = _set_subject_status(connection, actor, alert, decision, at, request_id)
    return DecisionResult(decision, after, overridden)


def _clear(connection: Connection, alert: Alert, decision: Decision, said: str, at: str) -> Alert:
    """A false positive takes effect: suppressed until its date, or closed."""
    if decision.suppress_until is not None:
        return _change_alert(
            connection,
            alert,
            f"{said}, suppressed until {decision.suppress_until}",
            at,
            status=str(AlertStatus.SUPPRESSED),
            resolution=str(Outcome.FALSE_POSITIVE),
            resolved_at=at,
            suppressed_until=decision.suppress_until,
            suppression_fingerprint=alert.fingerprint,
        )
    return _change_alert(
        connection,
        alert,
        said,
        at,
        status=str(AlertStatus.CLOSED),
        resolution=str(Outcome.FALSE_POSITIVE),
        resolved_at=at,
    )


def approve(
    connection: Connection,
    actor: Actor,
    alert_id: int,
    *,
    reject: bool = False,
    reason: str | None = None,
    request_id: str | None = None,
    now: str | None = None,
) -> DecisionResult:
    """Approve (or reject) the decision awaiting approval on an alert, as a second person."""
    require(actor, Permission.APPROVE)
    reason = (reason or "").strip() or None
    if reject and reason is None:
        raise OptionError("a rejection needs a reason")
    at = now or utc_now()
    row = connection.execute(
        select(decisions)
        .where(decisions.c.alert_id == alert_id, decisions.c.status == DecisionStatus.PENDING)
        .order_by(decisions.c.id.desc())
    ).first()
    alert = get_alert(connection, alert_id)
    if row is None:
        raise ConflictError(f"no decision on alert {alert_id} awaits approval")
    decision = _decision(row)
    if decision.decided_by == actor.user:
        raise PermissionDenied(
            f"{actor.user} made decision {decision.id} and may not approve it (four eyes)"
        )
    if alert.status is not AlertStatus.PENDING_APPROVAL or (
        alert.fingerprint != decision.alert_fingerprint
    ):
        raise ConflictError(
            f"alert {alert_id} changed since decision {decision.id} (now {alert.status}); "
            "it must be decided again"
        )
    if not reject and decision.suppress_until is not None:
        require(actor, Permission.SUPPRESS)
        if decision.suppress_until <= at[:10]:
            raise ConflictError(
                f"decision {decision.id} suppresses until {decision.suppress_until}, "
                "which has passed; reject it and decide again"
            )
    verdict = DecisionStatus.REJECTED if reject else DecisionStatus.APPROVED
    done = connection.execute(
        update(decisions)
        .where(decisions.c.id == decision.id, decisions.c.status == DecisionStatus.PENDING)
        .values(status=str(verdict), reviewed_by=actor.user, reviewed_at=at, review_reason=reason)
    )
    if done.rowcount != 1:
        raise ConflictError(f"decision {decision.id} was reviewed by someone else meanwhile")
    reviewed = get_decision(connection, decision.id)
    said = f"decision {decision.id} {verdict} by {actor.user}"
    if reject:
        after = _change_alert(connection, alert, said, at, status=str(AlertStatus.OPEN))
    else:
        after = _clear(connection, alert, reviewed, said, at)
    action = "alert.reject" if reject else "alert.approve"
    _audit_alert(connection, actor, action, alert, after, reviewed, reason, request_id)
    return DecisionResult(reviewed, after)


def _set_subject_status(
    connection: Connection,
    actor: Actor,
    alert: Alert,
    decision: Decision,
    at: str,
    request_id: str | None,
) -> str:
    new = policy().confirmed_status(alert.type, alert.evidence)
    key = (
        subject_status.c.subject_kind == str(alert.subject.kind),
        subject_status.c.subject_id == alert.subject.id,
    )
    current = connection.execute(select(subject_status).where(*key)).first()
    before = None if current is None else _status_dict(current._mapping)
    if before is not None and before["status"] == "blocked" and new != "blocked":
        return "blocked"  # the stricter status stands
    values = {
        "status": new,
        "alert_id": alert.id,
        "decision_id": decision.id,
        "set_at": at,
        "set_by": actor.user,
    }
    if current is None:
        connection.execute(
            insert(subject_status).values(
                subject_kind=str(alert.subject.kind), subject_id=alert.subject.id, **values
            )
        )
    else:
        connection.execute(update(subject_status).where(*key).values(**values))
    append(
        connection,
        AuditEntry(
            action="subject.status",
            object_kind=str(alert.subject.kind),
            object_id=alert.subject.id,
            actor=actor,
            reason=f"confirmed critical alert {alert.id} (decision {decision.id})",
            before=before,
            after=values,
            subject_kind=str(alert.subject.kind),
            subject_id=alert.subject.id,
            snapshot=alert.snapshot,
            rule_versions=alert.rule_versions,
            request_id=request_id,
            context={"policy_version": policy().version},
        ),
    )
    return new


def _status_dict(m: Any) -> dict[str, Any]:
    return {
        "status": m["status"],
        "alert_id": m["alert_id"],
        "decision_id": m["decision_id"],
        "set_at": m["set_at"],
        "set_by": m["set_by"],
    }


@dataclass(frozen=True, slots=True)
class SubjectStatus:
    """A subject's status set by casework, with the decision that set it."""

    subject_kind: str
    subject_id: str
    status: str
    alert_id: int
    decision_id: int
    set_at: str
    set_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": {"kind": self.subject_kind, "id": self.subject_id},
            "status": self.status,
            "alert_id": self.alert_id,
            "decision_id": self.decision_id,
            "set_at": self.set_at,
            "set_by": self.set_by,
        }


def subject_statuses(
    connection: Connection, subject_kind: str | None = None, subject_id: str | None = None
) -> list[SubjectStatus]:
    """The overrides (all, or one subject's) for scans and customer views."""
    query = select(subject_status)
    if subject_kind is not None:
        query = query.where(subject_status.c.subject_kind == subject_kind)
    if subject_id is not None:
        query = query.where(subject_status.c.subject_id == subject_id)
    query = query.order_by(subject_status.c.subject_kind, subject_status.c.subject_id)
    return [
        SubjectStatus(
            m["subject_kind"],
            m["subject_id"],
            m["status"],
            int(m["alert_id"]),
            int(m["decision_id"]),
            m["set_at"],
            m["set_by"],
        )
        for m in (row._mapping for row in connection.execute(query))
    ]
