"""Who is calling: bearer tokens, and the permission each route needs.

Tokens come from ``computekyc users add``; the role → permission matrix lives in one place
(:mod:`computekyc.users`, ``data/roles.yaml``). Every route states the one permission it needs
with :func:`needs`; :data:`ROUTE_PERMISSIONS` records them, so a test can walk every route × role.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from computekyc.api.problems import Problem
from computekyc.audit import Actor
from computekyc.exc import PermissionDenied
from computekyc.users import Permission, allowed

ROUTE_PERMISSIONS: dict[str, Permission] = {}  # "METHOD path" → the permission it needs


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "send Authorization: Bearer TOKEN")
    return token.strip()


def needs(permission: Permission) -> Callable[[Request], Actor]:
    """A dependency: the calling user, refused unless their role holds ``permission``."""
    from computekyc.services import casework

    def dependency(request: Request) -> Actor:
        try:
            actor = casework.authenticate(request.app.state.settings, bearer(request))
        except PermissionDenied:
            raise Problem(401, "Unauthorized", "unknown or revoked token") from None
        request.state.principal = actor
        if not allowed(actor, permission):
            raise Problem(403, "Forbidden", f"role {actor.role!r} does not hold {permission.value}")
        return actor

    dependency.__name__ = f"needs_{permission.name.lower()}"
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
