"""Users, roles and credentials: tokens stored only as hashes, revocation, scrypt passwords, the
permission matrix, and audited user changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from computekyc.audit import read_entries
from computekyc.exc import ConflictError, OptionError, PermissionDenied
from computekyc.services import casework as service
from computekyc.settings import Settings
from computekyc.users import (
    Permission,
    Role,
    Unauthenticated,
    local_operator,
    permissions_of,
    require,
)
from computekyc.users.schema import api_tokens, users
from computekyc.workflow import open_database

pytestmark = pytest.mark.xdist_group("postgres")
OPERATOR = local_operator()


def test_token_is_shown_once_and_stored_only_as_a_hash(settings: Settings) -> None:
    new = service.add_user(settings, OPERATOR, "ana", "analyst")
    assert new.token.startswith(f"ck_{new.token_id}_")
    secret = new.token.split("_", 2)[2]
    with open_database(settings).connect() as connection:
        stored = [dict(r._mapping) for r in connection.execute(select(api_tokens))]
        user_rows = [dict(r._mapping) for r in connection.execute(select(users))]
    assert len(stored) == 1
    assert all(secret not in str(value) for row in stored + user_rows for value in row.values())
    actor = service.authenticate(settings, new.token)
    assert (actor.user, actor.role, actor.token_id) == ("ana", "analyst", new.token_id)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # wrong secret
        lambda t: "ck_000000000000_" + t.split("_", 2)[2],  # unknown id
        lambda t: "Bearer " + t,  # malformed
        lambda t: "",
    ],
)
def test_a_wrong_token_is_unauthenticated(settings: Settings, mangle: Any) -> None:
    new = service.add_user(settings, OPERATOR, "ana", "analyst")
    with pytest.raises(Unauthenticated):
        service.authenticate(settings, mangle(new.token))


def test_revoked_user_is_unauthenticated_everywhere(settings: Settings) -> None:
    new = service.add_user(settings, OPERATOR, "ana", "analyst", password="correct horse")
    second = service.issue_token(settings, OPERATOR, "ana")
    assert service.sign_in(settings, "ana", "correct horse").user == "ana"
    revoked = service.revoke_user(settings, OPERATOR, "ana", reason="left the team")
    assert (revoked.active, revoked.active_tokens) == (False, 0)
    for token in (new.token, second.token):
        with pytest.raises(Unauthenticated):
            service.authenticate(settings, token)
    with pytest.raises(Unauthenticated):
        service.sign_in(settings, "ana", "correct horse")
    with pytest.raises(Unauthenticated):
        service.acting_user(settings, "ana")
    with pytest.raises(ConflictError):
        service.add_user(settings, OPERATOR, "ana", "viewer")  # names are never reused


def test_password_is_hashed_with_scrypt(settings: Settings) -> None:
    service.add_user(settings, OPERATOR, "ana", "analyst", password="correct horse")
    with open_database(settings).connect() as connection:
        stored = connection.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    with pytest.raises(Unauthenticated):
        service.sign_in(settings, "ana", "wrong horse")
    with pytest.raises(Unauthenticated):
        service.sign_in(settings, "nobody", "correct horse")


def test_only_admins_manage_users_and_every_change_is_audited(settings: Settings) -> None:
    service.add_user(settings, OPERATOR, "boss", "admin")
    service.add_user(settings, OPERATOR, "ana", "analyst")
    boss = service.acting_user(settings, "boss")
    ana = service.acting_user(settings, "ana")
    with pytest.raises(PermissionDenied, match=r"users\.manage"):
        service.add_user(settings, ana, "eve", "admin")
    with pytest.raises(PermissionDenied):
        service.set_role(settings, ana, "ana", "admin")
    changed = service.set_role(settings, boss, "ana", "reviewer")
    assert changed.role is Role.REVIEWER
    assert service.acting_user(settings, "ana").role == "reviewer"
    with pytest.raises(OptionError, match="unknown role"):
        service.set_role(settings, boss, "ana", "superuser")
    with open_database(settings).connect() as connection:
        entries = read_entries(connection, object_kind="user")
    assert [(e.action, e.object_id, e.actor.user) for e in entries] == [
        ("user.add", "boss", OPERATOR.user),
        ("user.add", "ana", OPERATOR.user),
        ("user.role", "ana", "boss"),
    ]
    assert (entries[-1].before["role"], entries[-1].after["role"]) == ("analyst", "reviewer")
    assert "token" not in str(entries[0].after).replace("active_tokens", "")


MATRIX = {
    Role.VIEWER: {Permission.ALERTS_READ, Permission.CASES_READ, Permission.SCREENING_READ},
    Role.AUDITOR: {
        Permission.ALERTS_READ,
        Permission.CASES_READ,
        Permission.SCREENING_READ,
        Permission.AUDIT_READ,
        Permission.REPORTS_READ,
    },
}


def test_the_permission_matrix() -> None:
    read = MATRIX[Role.VIEWER]
    assert permissions_of(Role.VIEWER) == read
    assert permissions_of(Role.ANALYST) == read | {Permission.DECIDE}
    assert permissions_of(Role.REVIEWER) == read | {
        Permission.DECIDE,
        Permission.APPROVE,
        Permission.SUPPRESS,
        Permission.REPORTS_READ,
    }
    assert permissions_of(Role.AUDITOR) == MATRIX[Role.AUDITOR]  # reads all, changes nothing
    assert permissions_of(Role.ADMIN) == set(Permission)
    from computekyc.audit import Actor

    with pytest.raises(PermissionDenied):
        require(Actor("aud", "auditor"), Permission.DECIDE)
    with pytest.raises(PermissionDenied):
        require(Actor("x", "no-such-role"), Permission.ALERTS_READ)
