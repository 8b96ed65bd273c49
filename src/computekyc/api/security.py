"""Who is calling: bearer tokens, and the permission each route needs.

The role→permission matrix and the token store live in :mod:`computekyc.users`; this module
turns them into FastAPI dependencies so every route states the one permission it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import Request

from computekyc.api.problems import Problem


@dataclass(frozen=True, slots=True)
class Principal:
    user: str
    role: str
    token_id: str | None = None


class Authority(Protocol):
    """Token look-up and the permission matrix (the users package provides one)."""

    def authenticate(self, token: str) -> Principal | None: ...

    def allows(self, role: str, permission: str) -> bool: ...


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "send Authorization: Bearer TOKEN")
    return token.strip()


def needs(permission: str) -> Callable[[Request], Principal]:
    """A dependency: the calling principal, refused unless its role has ``permission``."""

    def dependency(request: Request) -> Principal:
        authority: Authority = request.app.state.authority
        principal = authority.authenticate(bearer(request))
        if principal is None:
            raise Problem(401, "Unauthorized", "unknown or revoked token")
        if not authority.allows(principal.role, permission):
            raise Problem(
                403, "Forbidden", f"role {principal.role!r} may not {permission.replace('_', ' ')}"
            )
        request.state.principal = principal
        return principal

    dependency.__name__ = f"needs_{permission}"
    return dependency
