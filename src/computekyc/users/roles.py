"""Roles and permissions, read from ``data/roles.yaml`` (the one place the matrix lives)."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml

from computekyc.audit import Actor
from computekyc.exc import OptionError, PermissionDenied


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            raise OptionError(
                f"unknown role {value!r} (one of {', '.join(r.value for r in cls)})"
            ) from None


class Permission(StrEnum):
    ALERTS_READ = "alerts.read"
    CASES_READ = "cases.read"
    SCREENING_READ = "screening.read"
    DECIDE = "alerts.decide"
    APPROVE = "alerts.approve"
    SUPPRESS = "alerts.suppress"
    AUDIT_READ = "audit.read"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    USERS_MANAGE = "users.manage"
    SCANS_RUN = "scans.run"
    LISTS_LOAD = "lists.load"
    REPORTS_READ = "reports.read"


@cache
def _matrix() -> tuple[str, dict[Role, frozenset[Permission]]]:
    text = (resources.files("computekyc.users") / "data" / "roles.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    declared = set(data["permissions"])
    if declared != {p.value for p in Permission}:
        raise AssertionError("roles.yaml permissions differ from Permission")  # a packaging bug
    matrix = {
        Role(name): frozenset(Permission(p) for p in perms) for name, perms in data["roles"].items()
    }
    if set(matrix) != set(Role):
        raise AssertionError("roles.yaml roles differ from Role")
    return str(data["version"]), matrix


def matrix_version() -> str:
    return _matrix()[0]


def permissions_of(role: Role | str) -> frozenset[Permission]:
    return _matrix()[1].get(Role(role), frozenset())


def allowed(actor: Actor, permission: Permission) -> bool:
    try:
        return permission in permissions_of(actor.role)
    except ValueError:  # a role no longer known holds nothing
        return False


def require(actor: Actor, permission: Permission) -> None:
    """Raise :class:`PermissionDenied` unless the actor's role holds the permission."""
    if not allowed(actor, permission):
        raise PermissionDenied(
            f"{actor.user} ({actor.role}) may not do this: it needs {permission.value}"
        )
