"""Casework, users and the audit trail as the command line and the API use them.

Each function opens the workflow database, runs one transaction as the given acting user
(:class:`~computekyc.audit.Actor`: from :func:`authenticate` for an API token,
:func:`sign_in` for the web, :func:`acting_user` for ``--user NAME`` on the command line), and
returns typed results. A change and its audit entry commit together or not at all; one request
id ties together the entries of one call.

User management and the audit commands also accept the local operator
(:func:`computekyc.users.local_operator`): whoever runs the command line on the machine holds
the database already, and must be able to make the first admin and to verify the trail.
Decisions never do: four eyes needs named people.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from computekyc import audit, casework, users
from computekyc.alerts import SORT_KEYS, Alert, AlertStatus, AlertStore, AlertType, Severity
from computekyc.audit import Actor, AuditEntry, Checkpoint, LoggedEntry, VerifyReport
from computekyc.casework import (
    Case,
    CaseDetail,
    CaseStatus,
    Comment,
    Decision,
    DecisionResult,
    Outcome,
    SubjectStatus,
)
from computekyc.exc import OptionError
from computekyc.settings import Settings
from computekyc.users import OPERATOR_ROLE, NewUser, Permission, Role, User
from computekyc.workflow import open_database

__all__ = [
    "AlertQueue",
    "acting_user",
    "add_user",
    "alert_decisions",
    "alert_detail",
    "alert_queue",
    "approve",
    "assign_case",
    "audit_checkpoint",
    "audit_log",
    "audit_public_key",
    "audit_verify",
    "authenticate",
    "case_detail",
    "close_case",
    "comment_case",
    "decide",
    "decide_many",
    "group_alerts",
    "issue_token",
    "list_cases",
    "list_users",
    "open_case",
    "revoke_user",
    "set_password",
    "set_role",
    "sign_in",
    "subject_statuses",
    "web_sign_in",
]


@contextmanager
def _transaction(settings: Settings) -> Iterator[Connection]:
    with open_database(settings).begin() as connection:
        yield connection


@contextmanager
def _reading(settings: Settings) -> Iterator[Connection]:
    with open_database(settings).connect() as connection:
        yield connection


def _request(request_id: str | None) -> str:
    return request_id or uuid.uuid4().hex


def _require_or_operator(actor: Actor, permission: Permission) -> None:
    if actor.role != OPERATOR_ROLE:
        users.require(actor, permission)


# -- who acts ----------------------------------------------------------------------------------
def authenticate(settings: Settings, token: str) -> Actor:
    """The user, role and token id of an API token (``Unauthenticated`` if not valid)."""
    with _reading(settings) as connection:
        return users.authenticate_token(connection, token)


def sign_in(settings: Settings, name: str, password: str) -> Actor:
    with _reading(settings) as connection:
        return users.authenticate_password(connection, name, password)


def web_sign_in(
    settings: Settings, name: str, password: str, request_id: str | None = None
) -> Actor:
    """Sign-in with a password (the web UI): the attempt, kept or refused, goes in the audit log
    (never the password); a refusal raises ``Unauthenticated`` after it is recorded."""
    name = name.strip()[:100]
    try:
        actor = sign_in(settings, name, password)
    except users.Unauthenticated:
        refused = Actor(name or "-", "unauthenticated")
        _audit_sign_in(settings, refused, "user.sign_in_refused", request_id)
        raise
    _audit_sign_in(settings, actor, "user.sign_in", request_id)
    return actor


def _audit_sign_in(settings: Settings, actor: Actor, action: str, request_id: str | None) -> None:
    reason = (
        "wrong user name or password, or a revoked user" if action.endswith("refused") else None
    )
    with _transaction(settings) as connection:
        audit.append(
            connection,
            AuditEntry(
                action=action,
                object_kind="user",
                object_id=actor.user,
                actor=actor,
                reason=reason,
                request_id=_request(request_id),
            ),
        )


def acting_user(settings: Settings, name: str) -> Actor:
    """The active user named on the command line (``--user NAME``)."""
    with _reading(settings) as connection:
        return users.actor_for(connection, name)


# -- users -------------------------------------------------------------------------------------
def add_user(
    settings: Settings,
    actor: Actor,
    name: str,
    role: Role | str,
    *,
    password: str | None = None,
    request_id: str | None = None,
) -> NewUser:
    """A new user and their first API token (shown once; only its hash is stored)."""
    with _transaction(settings) as connection:
        return users.add_user(
            connection,
            actor,
            name,
            Role.parse(str(role)),
            password=password,
            request_id=_request(request_id),
        )


def list_users(settings: Settings, actor: Actor) -> list[User]:
    """Admins and auditors (who read everything) see the users."""
    if not users.allowed(actor, Permission.AUDIT_READ):
        _require_or_operator(actor, Permission.USERS_MANAGE)
    with _reading(settings) as connection:
        return users.list_users(connection)


def set_role(
    settings: Settings, actor: Actor, name: str, role: Role | str, request_id: str | None = None
) -> User:
    with _transaction(settings) as connection:
        return users.set_role(connection, actor, name, Role.parse(str(role)), _request(request_id))


def set_password(
    settings: Settings, actor: Actor, name: str, password: str, request_id: str | None = None
) -> User:
    with _transaction(settings) as connection:
        return users.set_password(connection, actor, name, password, _request(request_id))


def issue_token(
    settings: Settings, actor: Actor, name: str, request_id: str | None = None
) -> NewUser:
    with _transaction(settings) as connection:
        return users.issue_token(connection, actor, name, _request(request_id))


def revoke_user(
    settings: Settings,
    actor: Actor,
    name: str,
    reason: str | None = None,
    request_id: str | None = None,
) -> User:
    with _transaction(settings) as connection:
        return users.revoke_user(connection, actor, name, reason, _request(request_id))


# -- decisions ---------------------------------------------------------------------------------
def _decide_in(
    connection: Connection,
    actor: Actor,
    alert_id: int,
    outcome: Outcome,
    reason: str,
    suppress_until: str | None,
    request_id: str,
) -> DecisionResult:
    result = casework.decide(
        connection,
        actor,
        alert_id,
        outcome,
        reason,
        suppress_until=suppress_until,
        request_id=request_id,
    )
    if outcome is Outcome.ESCALATED and result.alert.case_id is None:
        casework.open_case(connection, actor, [alert_id], request_id=request_id)
        result = DecisionResult(
            result.decision, casework.get_alert(connection, alert_id), result.subject_status
        )
    return result


def decide(
    settings: Settings,
    actor: Actor,
    alert_id: int,
    outcome: Outcome | str,
    reason: str,
    *,
    suppress_until: str | None = None,
    request_id: str | None = None,
) -> DecisionResult:
    """Decide one alert. An escalated alert is put in its subject's case."""
    with _transaction(settings) as connection:
        return _decide_in(
            connection,
            actor,
            alert_id,
            Outcome.parse(str(outcome)),
            reason,
            suppress_until,
            _request(request_id),
        )


def decide_many(
    settings: Settings,
    actor: Actor,
    alert_ids: Sequence[int],
    outcome: Outcome | str,
    reason: str,
    *,
    suppress_until: str | None = None,
    request_id: str | None = None,
) -> list[DecisionResult]:
    """Decide a page of alerts alike, all or none (one refusal decides nothing)."""
    if not alert_ids:
        raise OptionError("name at least one alert")
    if len(set(alert_ids)) != len(alert_ids):
        raise OptionError("an alert is named twice")
    parsed = Outcome.parse(str(outcome))
    rid = _request(request_id)
    with _transaction(settings) as connection:
        return [
            _decide_in(connection, actor, alert_id, parsed, reason, suppress_until, rid)
            for alert_id in alert_ids
        ]


def approve(
    settings: Settings,
    actor: Actor,
    alert_id: int,
    *,
    reject: bool = False,
    reason: str | None = None,
    request_id: str | None = None,
) -> DecisionResult:
    """Approve or reject the decision awaiting a second person on an alert."""
    with _transaction(settings) as connection:
        return casework.approve(
            connection,
            actor,
            alert_id,
            reject=reject,
            reason=reason,
            request_id=_request(request_id),
        )


@dataclass(frozen=True, slots=True)
class AlertQueue:
    """One page of the alert queue and how many alerts the filters match in all."""

    alerts: list[Alert]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


QUEUE_STATUSES: dict[str, tuple[AlertStatus, ...] | None] = {
    "active": (AlertStatus.OPEN, AlertStatus.PENDING_APPROVAL),
    "all": None,
    **{str(s): (s,) for s in AlertStatus},
}


def alert_queue(
    settings: Settings,
    actor: Actor,
    *,
    status: str = "active",
    types: Sequence[AlertType] | None = None,
    severities: Sequence[Severity] | None = None,
    subject: str | None = None,
    subject_text: str | None = None,
    sort: str = "severity",
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> AlertQueue:
    """A page of the queue, most severe first unless ``sort`` says otherwise. ``status`` is
    ``active`` (open and pending approval), ``all`` or one alert status."""
    users.require(actor, Permission.ALERTS_READ)
    if status not in QUEUE_STATUSES:
        raise OptionError(f"unknown status {status!r} (one of {', '.join(QUEUE_STATUSES)})")
    if sort not in SORT_KEYS:
        raise OptionError(f"unknown sort {sort!r} (one of {', '.join(SORT_KEYS)})")
    store = AlertStore(open_database(settings))
    chosen = QUEUE_STATUSES[status]
    found = store.list(
        status=chosen,
        types=types or None,
        severities=severities or None,
        subject_id=subject,
        subject_text=subject_text or None,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    total = store.count(
        chosen,
        types=types or None,
        severities=severities or None,
        subject_id=subject,
        subject_text=subject_text or None,
    )
    return AlertQueue(found, total, limit, offset)


def alert_detail(settings: Settings, actor: Actor, alert_id: int) -> tuple[Alert, list[Decision]]:
    """One alert with every decision taken on it (``NotFoundError`` for an unknown id)."""
    users.require(actor, Permission.ALERTS_READ)
    with _reading(settings) as connection:
        alert = AlertStore(open_database(settings)).get(alert_id, connection)
        return alert, casework.decisions_for(connection, alert_id)


def alert_decisions(settings: Settings, actor: Actor, alert_id: int) -> list[Decision]:
    users.require(actor, Permission.ALERTS_READ)
    with _reading(settings) as connection:
        casework.get_alert(connection, alert_id)
        return casework.decisions_for(connection, alert_id)


def subject_statuses(
    settings: Settings,
    actor: Actor,
    subject_kind: str | None = None,
    subject_id: str | None = None,
) -> list[SubjectStatus]:
    users.require(actor, Permission.ALERTS_READ)
    with _reading(settings) as connection:
        return casework.subject_statuses(connection, subject_kind, subject_id)


# -- cases -------------------------------------------------------------------------------------
def open_case(
    settings: Settings,
    actor: Actor,
    alert_ids: Sequence[int],
    *,
    assignee: str | None = None,
    request_id: str | None = None,
) -> Case:
    with _transaction(settings) as connection:
        return casework.open_case(
            connection,
            actor,
            list(alert_ids),
            assignee=assignee,
            request_id=_request(request_id),
        )


def group_alerts(settings: Settings, actor: Actor, request_id: str | None = None) -> list[Case]:
    with _transaction(settings) as connection:
        return casework.group_alerts(connection, actor, request_id=_request(request_id))


def assign_case(
    settings: Settings, actor: Actor, case_id: int, assignee: str, request_id: str | None = None
) -> Case:
    with _transaction(settings) as connection:
        return casework.assign(
            connection, actor, case_id, assignee, request_id=_request(request_id)
        )


def comment_case(
    settings: Settings, actor: Actor, case_id: int, text: str, request_id: str | None = None
) -> Comment:
    with _transaction(settings) as connection:
        return casework.comment(connection, actor, case_id, text, request_id=_request(request_id))


def close_case(
    settings: Settings, actor: Actor, case_id: int, reason: str, request_id: str | None = None
) -> Case:
    with _transaction(settings) as connection:
        return casework.close_case(
            connection, actor, case_id, reason, request_id=_request(request_id)
        )


def list_cases(
    settings: Settings,
    actor: Actor,
    *,
    status: CaseStatus | None = CaseStatus.OPEN,
    assignee: str | None = None,
) -> list[Case]:
    users.require(actor, Permission.CASES_READ)
    with _reading(settings) as connection:
        return casework.list_cases(connection, status=status, assignee=assignee)


def case_detail(settings: Settings, actor: Actor, case_id: int) -> CaseDetail:
    users.require(actor, Permission.CASES_READ)
    with _reading(settings) as connection:
        return casework.case_detail(connection, case_id)


# -- the audit trail ---------------------------------------------------------------------------
def audit_log(
    settings: Settings,
    actor: Actor,
    *,
    subject: str | None = None,
    after_seq: int = 0,
    before_seq: int | None = None,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[LoggedEntry]:
    """Audit entries (oldest first, or newest first for a reader paging back in time)."""
    _require_or_operator(actor, Permission.AUDIT_READ)
    with _reading(settings) as connection:
        return audit.read_entries(
            connection,
            subject=subject,
            after_seq=after_seq,
            before_seq=before_seq,
            newest_first=newest_first,
            limit=limit,
        )


def audit_checkpoint(settings: Settings, actor: Actor, note: str | None = None) -> Checkpoint:
    """Sign the log's current ``{count, chain head}`` (kept in the database; export it too)."""
    _require_or_operator(actor, Permission.AUDIT_CHECKPOINT)
    with _transaction(settings) as connection:
        return audit.sign_checkpoint(connection, settings, note)


def audit_public_key(settings: Settings) -> str:
    """The signing key's public half (PEM), made with the key on first use."""
    return audit.public_key_pem(audit.load_or_create_key(settings).public_key())


def audit_verify(
    settings: Settings,
    actor: Actor,
    *,
    checkpoint_files: Sequence[Path] = (),
    public_key_file: Path | None = None,
) -> VerifyReport:
    """Recompute the whole chain and check every stored and given checkpoint."""
    _require_or_operator(actor, Permission.AUDIT_READ)
    extra = [audit.read_checkpoint_file(path) for path in checkpoint_files]
    key = audit.load_public_key(public_key_file) if public_key_file is not None else None
    with _reading(settings) as connection:
        return audit.verify(connection, settings, extra, key)
