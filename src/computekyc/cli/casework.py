"""``computekyc users|cases|audit …`` and ``alerts decide|approve``: casework and the audit trail.

A thin adapter over :mod:`computekyc.services.casework`. Decisions and case changes act as a
named user (``--user NAME``); user management and the audit commands act as the local operator
unless ``--user`` names someone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from computekyc.audit import Actor
from computekyc.casework import CaseStatus, DecisionResult
from computekyc.cli._io import check_output, open_output, strict_json
from computekyc.exc import EXIT_FINDINGS, OptionError
from computekyc.services import casework as service
from computekyc.settings import Settings
from computekyc.users import NewUser, User, local_operator

users_app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases: alerts of one subject worked together.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")
USER_OPTION = typer.Option(..., "--user", help="The user acting (name).")
AS_OPTION = typer.Option(None, "--user", help="Act as this user (default: the local operator).")


def _settings() -> Settings:
    return Settings.from_env()


def _actor(settings: Settings, name: str | None) -> Actor:
    return local_operator() if name is None else service.acting_user(settings, name)


def _echo_json(value: object) -> None:
    typer.echo(strict_json(value, indent=2))


# -- users -------------------------------------------------------------------------------------
def _read_password() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise OptionError("--password-stdin: no password on standard input")
    return line


def _print_new(new: NewUser, as_json: bool) -> None:
    if as_json:
        _echo_json({"user": new.user.name, "role": str(new.user.role), "token": new.token})
        return
    typer.echo(f"user {new.user.name} ({new.user.role})")
    typer.echo(f"API token (shown once, keep it safe): {new.token}")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(..., "--role", help="viewer|analyst|reviewer|auditor|admin"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the web sign-in password from standard input."
    ),
    as_json: bool = JSON_OPTION,
    by: str | None = AS_OPTION,
) -> None:
    """Add a user; prints their API token once (only its hash is stored)."""
    settings = _settings()
    password = _read_password() if password_stdin else None
    new = service.add_user(settings, _actor(settings, by), name, role, password=password)
    _print_new(new, as_json)


def _user_line(user: User) -> str:
    state = "revoked" if not user.active else f"{user.active_tokens} token(s)"
    password = "password" if user.has_password else "no password"
    return f"{user.name}\t{user.role}\t{state}\t{password}\tsince {user.created_at}"


@users_app.command("list")
def users_list(as_json: bool = JSON_OPTION, by: str | None = AS_OPTION) -> None:
    """Every user with role and state."""
    settings = _settings()
    found = service.list_users(settings, _actor(settings, by))
    if as_json:
        _echo_json([u.to_dict() for u in found])
        return
    for user in found:
        typer.echo(_user_line(user))


@users_app.command("revoke")
def users_revoke(
    name: str = typer.Argument(...),
    reason: str | None = typer.Option(None, "--reason"),
    by: str | None = AS_OPTION,
) -> None:
    """Revoke every API token of a user and disable them."""
    settings = _settings()
    user = service.revoke_user(settings, _actor(settings, by), name, reason)
    typer.echo(_user_line(user))


@users_app.command("role")
def users_role(
    name: str = typer.Argument(...),
    role: str = typer.Argument(..., help="viewer|analyst|reviewer|auditor|admin"),
    by: str | None = AS_OPTION,
) -> None:
    """Change a user's role."""
    settings = _settings()
    typer.echo(_user_line(service.set_role(settings, _actor(settings, by), name, role)))


@users_app.command("token")
def users_token(
    name: str = typer.Argument(...), as_json: bool = JSON_OPTION, by: str | None = AS_OPTION
) -> None:
    """Issue a further API token for a user (printed once)."""
    settings = _settings()
    _print_new(service.issue_token(settings, _actor(settings, by), name), as_json)


@users_app.command("password")
def users_password(
    name: str = typer.Argument(...),
    by: str | None = AS_OPTION,
) -> None:
    """Set a user's web sign-in password, read from standard input."""
    settings = _settings()
    user = service.set_password(settings, _actor(settings, by), name, _read_password())
    typer.echo(_user_line(user))


# -- alerts decide / approve -------------------------------------------------------------------
def _print_result(result: DecisionResult) -> None:
    d = result.decision
    line = f"alert {result.alert.id}: {d.outcome} by {d.decided_by} -> {result.alert.status}"
    if result.pending_approval:
        line += " (a reviewer other than the decider must approve)"
    if result.alert.suppressed_until:
        line += f", suppressed until {result.alert.suppressed_until}"
    if result.subject_status:
        kind, sid = result.alert.subject.kind, result.alert.subject.id
        line += f"; {kind} {sid} is now {result.subject_status}"
    typer.echo(line)


def decide_command(
    alert_ids: list[int] = typer.Argument(..., help="Alert id(s): a page decided alike."),
    outcome: str = typer.Option(..., "--outcome", help="confirmed|false_positive|escalated"),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)."),
    user: str = USER_OPTION,
    suppress_until: str | None = typer.Option(
        None, "--suppress-until", help="Suppress a false positive until this date (YYYY-MM-DD)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Decide alerts (all or none). Clearing a critical or high alert awaits approval."""
    settings = _settings()
    actor = service.acting_user(settings, user)
    results = service.decide_many(
        settings, actor, alert_ids, outcome, reason, suppress_until=suppress_until
    )
    if as_json:
        _echo_json([r.to_dict() for r in results])
        return
    for result in results:
        _print_result(result)


def approve_command(
    alert_id: int = typer.Argument(...),
    user: str = USER_OPTION,
    reject: bool = typer.Option(False, "--reject", help="Reject the decision instead."),
    reason: str | None = typer.Option(None, "--reason", help="Why (required to reject)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve (or reject) another person's decision awaiting approval (four eyes)."""
    settings = _settings()
    actor = service.acting_user(settings, user)
    result = service.approve(settings, actor, alert_id, reject=reject, reason=reason)
    if as_json:
        _echo_json(result.to_dict())
        return
    d = result.decision
    typer.echo(f"alert {alert_id}: decision {d.id} {d.status} by {d.reviewed_by}")
    typer.echo(f"alert {alert_id} is now {result.alert.status}")


# -- cases -------------------------------------------------------------------------------------
@cases_app.command("list")
def cases_list(
    user: str = USER_OPTION,
    show_all: bool = typer.Option(False, "--all", help="Closed cases too."),
    assignee: str | None = typer.Option(None, "--assignee"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open cases, soonest due first."""
    settings = _settings()
    actor = service.acting_user(settings, user)
    status = None if show_all else CaseStatus.OPEN
    found = service.list_cases(settings, actor, status=status, assignee=assignee)
    if as_json:
        _echo_json([c.to_dict() for c in found])
        return
    for case in found:
        data = case.to_dict()
        late = " OVERDUE" if data["overdue"] else ""
        typer.echo(
            f"case {case.id}\t{case.status}\t{case.severity}\tdue {case.due_on}{late}\t"
            f"{case.subject_kind} {case.subject_id}\t{case.assignee or '-'}\t"
            f"alerts {','.join(map(str, case.alert_ids))}"
        )


@cases_app.command("show")
def cases_show(
    case_id: int = typer.Argument(...), user: str = USER_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """A case with its alerts, comments and history."""
    settings = _settings()
    detail = service.case_detail(settings, service.acting_user(settings, user), case_id)
    if as_json:
        _echo_json(detail.to_dict())
        return
    case = detail.case
    typer.echo(f"case {case.id}: {case.subject_kind} {case.subject_id} ({case.status})")
    typer.echo(f"severity {case.severity}, due {case.due_on}, assignee {case.assignee or '-'}")
    for alert in detail.alerts:
        typer.echo(f"  alert {alert.id} [{alert.severity}] {alert.status}: {alert.summary}")
    for note in detail.comments:
        typer.echo(f"  {note.at} {note.author}: {note.text}")
    typer.echo("history:")
    for entry in detail.history:
        why = f" - {entry.reason}" if entry.reason else ""
        typer.echo(f"  #{entry.seq} {entry.at} {entry.actor.user}: {entry.action}{why}")


@cases_app.command("open")
def cases_open(
    alert_ids: list[int] = typer.Argument(..., help="Alerts about one subject."),
    user: str = USER_OPTION,
    assignee: str | None = typer.Option(None, "--assignee"),
) -> None:
    """Group alerts into their subject's open case (made if needed)."""
    settings = _settings()
    actor = service.acting_user(settings, user)
    case = service.open_case(settings, actor, alert_ids, assignee=assignee)
    typer.echo(f"case {case.id}: alerts {','.join(map(str, case.alert_ids))}, due {case.due_on}")


@cases_app.command("group")
def cases_group(user: str = USER_OPTION) -> None:
    """Put every undecided alert without a case into its subject's case."""
    settings = _settings()
    touched = service.group_alerts(settings, service.acting_user(settings, user))
    for case in touched:
        typer.echo(f"case {case.id}: {case.subject_kind} {case.subject_id}, due {case.due_on}")
    typer.echo(f"{len(touched)} case(s) updated")


@cases_app.command("assign")
def cases_assign(
    case_id: int = typer.Argument(...),
    assignee: str = typer.Argument(...),
    user: str = USER_OPTION,
) -> None:
    """Assign a case to a user who can decide alerts."""
    settings = _settings()
    case = service.assign_case(settings, service.acting_user(settings, user), case_id, assignee)
    typer.echo(f"case {case.id} assigned to {case.assignee}")


@cases_app.command("comment")
def cases_comment(
    case_id: int = typer.Argument(...), text: str = typer.Argument(...), user: str = USER_OPTION
) -> None:
    """Add a comment to a case."""
    settings = _settings()
    note = service.comment_case(settings, service.acting_user(settings, user), case_id, text)
    typer.echo(f"comment {note.id} on case {case_id}")


@cases_app.command("close")
def cases_close(
    case_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    user: str = USER_OPTION,
) -> None:
    """Close a case whose alerts are all decided."""
    settings = _settings()
    case = service.close_case(settings, service.acting_user(settings, user), case_id, reason)
    typer.echo(f"case {case.id} closed")


# -- audit -------------------------------------------------------------------------------------
@audit_app.command("log")
def audit_log_command(
    subject: str | None = typer.Option(None, "--subject", help="A customer/account/entity id."),
    limit: int | None = typer.Option(None, "--limit"),
    as_json: bool = JSON_OPTION,
    by: str | None = AS_OPTION,
) -> None:
    """Audit entries, oldest first: who, what, when, why, on which snapshot and rules."""
    settings = _settings()
    entries = service.audit_log(settings, _actor(settings, by), subject=subject, limit=limit)
    if as_json:
        _echo_json([e.to_dict() for e in entries])
        return
    for entry in entries:
        who = f"{entry.actor.user} ({entry.actor.role})"
        what = f"{entry.action} {entry.object_kind} {entry.object_id}"
        why = f" - {entry.reason}" if entry.reason else ""
        snapshot = entry.context.get("snapshot")
        where = f" [snapshot {snapshot}]" if snapshot else ""
        typer.echo(f"#{entry.seq} {entry.at} {who}: {what}{why}{where}")


@audit_app.command("verify")
def audit_verify_command(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="A checkpoint file kept elsewhere (repeatable)."
    ),
    key: Path | None = typer.Option(
        None, "--key", help="The exported public key to trust (default: this machine's)."
    ),
    as_json: bool = JSON_OPTION,
    by: str | None = AS_OPTION,
) -> None:
    """Recompute every hash and check every checkpoint; exit 1 naming the first bad entry."""
    settings = _settings()
    report = service.audit_verify(
        settings, _actor(settings, by), checkpoint_files=checkpoint, public_key_file=key
    )
    if as_json:
        _echo_json(report.to_dict())
    else:
        state = "intact" if report.intact else "NOT INTACT"
        typer.echo(
            f"audit log {state}: {report.entries} entries, {report.checkpoints} checkpoint(s), "
            f"head {report.head}"
        )
        if report.first_bad is not None:
            typer.echo(f"first bad entry: #{report.first_bad}")
        for finding in report.findings:
            where = f"#{finding.seq}: " if finding.seq is not None else ""
            typer.echo(f"  {where}{finding.problem}")
    if not report.intact:
        raise typer.Exit(EXIT_FINDINGS)


@audit_app.command("checkpoint")
def audit_checkpoint_command(
    export: str | None = typer.Option(
        None, "--export", help="Also write it to FILE (- for stdout) to keep off the machine."
    ),
    note: str | None = typer.Option(None, "--note"),
    by: str | None = AS_OPTION,
) -> None:
    """Sign the log's {count, chain head} with this installation's Ed25519 key."""
    if export is not None:
        check_output(export, "--export")
    settings = _settings()
    checkpoint = service.audit_checkpoint(settings, _actor(settings, by), note)
    if export is not None:
        with open_output(export) as handle:
            handle.write(strict_json(checkpoint.to_dict(), indent=2) + "\n")
    if export != "-":
        typer.echo(f"checkpoint: {checkpoint.count} entries, head {checkpoint.head}")


@audit_app.command("key")
def audit_key_command(
    export: str = typer.Option(..., "--export", help="Write the public key (PEM) to FILE or -."),
) -> None:
    """Export the public half of the audit signing key (made on first use)."""
    check_output(export, "--export")
    pem = service.audit_public_key(_settings())
    with open_output(export) as handle:
        handle.write(pem)


def _alerts_group(app: typer.Typer) -> typer.Typer:
    """The ``alerts`` group another module registered, or a new one."""
    for info in app.registered_groups:
        if info.name == "alerts" and isinstance(info.typer_instance, typer.Typer):
            return info.typer_instance
    alerts_app = typer.Typer(help="The alert queue.", no_args_is_help=True)
    app.add_typer(alerts_app, name="alerts")
    return alerts_app


def register(app: typer.Typer) -> None:
    alerts_app = _alerts_group(app)
    alerts_app.command("decide")(decide_command)
    alerts_app.command("approve")(approve_command)
    app.add_typer(cases_app, name="cases")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
