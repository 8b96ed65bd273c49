"""Users, their roles and credentials in the workflow database; every change is audited in the
same transaction.

Functions take the connection of the caller's transaction and the acting user. The command line
acts as :data:`LOCAL_OPERATOR` (whoever runs it holds the database already, and must be able
to make the first admin); the API passes a signed-in admin.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from computekyc.audit import Actor, AuditEntry, append
from computekyc.exc import ConflictError, NotFoundError, OptionError, PermissionDenied
from computekyc.users.credentials import (
    hash_password,
    new_token,
    password_matches,
    secret_matches,
    split_token,
)
from computekyc.users.roles import Permission, Role, require
from computekyc.users.schema import api_tokens, users
from computekyc.workflow.db import utc_now

OPERATOR_ROLE = "local-operator"


def local_operator() -> Actor:
    """The person at this machine's command line (their OS account), for user management."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(f"local:{name}", OPERATOR_ROLE)


class Unauthenticated(PermissionDenied):
    """No valid credentials: unknown, malformed or revoked token, wrong password."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    created_at: str
    disabled_at: str | None
    has_password: bool
    active_tokens: int

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.name,
            "role": str(self.role),
            "created_at": self.created_at,
            "disabled_at": self.disabled_at,
            "password": self.has_password,
            "active_tokens": self.active_tokens,
        }


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user just made, with their API token (shown once, stored only as a hash)."""

    user: User
    token: str
    token_id: str


def _may_manage(actor: Actor) -> None:
    if actor.role != OPERATOR_ROLE:
        require(actor, Permission.USERS_MANAGE)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() or not c.isprintable() for c in name):
        raise OptionError(f"user names are 1-100 printable characters without spaces: {name!r}")
    return name


def _user_query() -> Any:
    live = (
        select(func.count())
        .select_from(api_tokens)
        .where(api_tokens.c.user_id == users.c.id, api_tokens.c.revoked_at.is_(None))
        .scalar_subquery()
    )
    return select(users, live.label("active_tokens"))


def _user(row: Any) -> User:
    m = row._mapping
    return User(
        name=m["name"],
        role=Role(m["role"]),
        created_at=m["created_at"],
        disabled_at=m["disabled_at"],
        has_password=m["password_hash"] is not None,
        active_tokens=int(m["active_tokens"]),
    )


def get_user(connection: Connection, name: str) -> User:
    row = connection.execute(_user_query().where(users.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    return _user(row)


def list_users(connection: Connection) -> list[User]:
    return [_user(row) for row in connection.execute(_user_query().order_by(users.c.name))]


def _audit(
    connection: Connection,
    actor: Actor,
    action: str,
    name: str,
    before: User | None,
    after: User | None,
    request_id: str | None,
    reason: str | None = None,
) -> None:
    append(
        connection,
        AuditEntry(
            action=action,
            object_kind="user",
            object_id=name,
            actor=actor,
            reason=reason,
            before=None if before is None else before.to_dict(),
            after=None if after is None else after.to_dict(),
            request_id=request_id,
        ),
    )


def _issue_token(connection: Connection, user_name: str) -> tuple[str, str]:
    user_id = connection.execute(select(users.c.id).where(users.c.name == user_name)).scalar_one()
    token, token_id, digest = new_token()
    connection.execute(
        insert(api_tokens).values(
            id=token_id, user_id=user_id, secret_hash=digest, created_at=utc_now()
        )
    )
    return token, token_id


def add_user(
    connection: Connection,
    actor: Actor,
    name: str,
    role: Role,
    *,
    password: str | None = None,
    request_id: str | None = None,
) -> NewUser:
    _may_manage(actor)
    name = _check_name(name)
    if connection.execute(select(users.c.id).where(users.c.name == name)).first() is not None:
        raise ConflictError(f"user {name!r} already exists")
    connection.execute(
        insert(users).values(
            name=name,
            role=str(role),
            password_hash=hash_password(password) if password else None,
            created_at=utc_now(),
        )
    )
    token, token_id = _issue_token(connection, name)
    user = get_user(connection, name)
    _audit(connection, actor, "user.add", name, None, user, request_id)
    return NewUser(user, token, token_id)


def set_role(
    connection: Connection, actor: Actor, name: str, role: Role, request_id: str | None = None
) -> User:
    _may_manage(actor)
    before = get_user(connection, name)
    if before.role is role:
        return before
    connection.execute(update(users).where(users.c.name == name).values(role=str(role)))
    after = get_user(connection, name)
    _audit(connection, actor, "user.role", name, before, after, request_id)
    return after


def set_password(
    connection: Connection, actor: Actor, name: str, password: str, request_id: str | None = None
) -> User:
    _may_manage(actor)
    if not password:
        raise OptionError("the password is empty")
    before = get_user(connection, name)
    connection.execute(
        update(users).where(users.c.name == name).values(password_hash=hash_password(password))
    )
    after = get_user(connection, name)
    _audit(connection, actor, "user.password", name, before, after, request_id)
    return after


def issue_token(
    connection: Connection, actor: Actor, name: str, request_id: str | None = None
) -> NewUser:
    """A further API token for an active user (the old ones stay valid until revoked)."""
    _may_manage(actor)
    before = get_user(connection, name)
    if not before.active:
        raise ConflictError(f"user {name!r} is revoked")
    token, token_id = _issue_token(connection, name)
    after = get_user(connection, name)
    _audit(connection, actor, "user.token", name, before, after, request_id)
    return NewUser(after, token, token_id)


def revoke_user(
    connection: Connection,
    actor: Actor,
    name: str,
    reason: str | None = None,
    request_id: str | None = None,
) -> User:
    """Revoke every token of the user and disable them (sign-in, acting by name)."""
    _may_manage(actor)
    before = get_user(connection, name)
    now = utc_now()
    user_id = select(users.c.id).where(users.c.name == name).scalar_subquery()
    connection.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if before.disabled_at is None:
        connection.execute(update(users).where(users.c.name == name).values(disabled_at=now))
    after = get_user(connection, name)
    if after != before:
        _audit(connection, actor, "user.revoke", name, before, after, request_id, reason)
    return after


def actor_for(connection: Connection, name: str) -> Actor:
    """The acting user named on the command line (an active user; no token)."""
    try:
        user = get_user(connection, name)
    except NotFoundError:
        raise Unauthenticated(f"no user {name!r}") from None
    if not user.active:
        raise Unauthenticated(f"user {name!r} is revoked")
    return Actor(user.name, str(user.role))


_UNKNOWN_HASH = "0" * 64


def authenticate_token(connection: Connection, token: str) -> Actor:
    """The user, role and token id of an API token; :class:`Unauthenticated` otherwise.

    The secret is compared in constant time, and unknown ids are compared against a dummy hash
    so that a wrong id and a wrong secret take the same time.
    """
    parts = split_token(token)
    row = None
    if parts is not None:
        row = connection.execute(
            select(
                api_tokens.c.secret_hash,
                api_tokens.c.revoked_at,
                users.c.name,
                users.c.role,
                users.c.disabled_at,
            )
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.id == parts[0])
        ).first()
    secret = parts[1] if parts is not None else ""
    matches = secret_matches(secret, row.secret_hash if row is not None else _UNKNOWN_HASH)
    if row is None or not matches or row.revoked_at is not None or row.disabled_at is not None:
        raise Unauthenticated("not authenticated: unknown or revoked token")
    return Actor(row.name, row.role, parts[0] if parts else None)


def authenticate_password(connection: Connection, name: str, password: str) -> Actor:
    """Web sign-in: the user's actor when the password matches; :class:`Unauthenticated`."""
    row = connection.execute(
        select(users.c.name, users.c.role, users.c.password_hash, users.c.disabled_at).where(
            users.c.name == name
        )
    ).first()
    ok = password_matches(password, row.password_hash if row is not None else None)
    if row is None or not ok or row.disabled_at is not None:
        raise Unauthenticated("not authenticated: wrong user name or password")
    return Actor(row.name, row.role)
