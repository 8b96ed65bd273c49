"""Who is calling: bearer tokens, and the permission each route needs.

Tokens come from ``computekyc users add``; the role → permission matrix lives in one place
(:mod:`computekyc.users`, ``data/roles.yaml``). Every route states the one permission it needs
with :func:`needs`; :data:`ROUTE_PERMISSIONS` records them, so a test can walk every route × role.

A token verified against the database is remembered for :data:`TOKEN_CACHE_SECONDS` for routes
that only read (screening, alerts, cases, audit, reports): a revoked token, a disabled user or a
changed role is refused on those at most that many seconds later. A route that changes
something always checks the token against the database.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from computekyc.api.problems import Problem
from computekyc.audit import Actor
from computekyc.exc import PermissionDenied
from computekyc.users import Permission, allowed

ROUTE_PERMISSIONS: dict[str, Permission] = {}  # "METHOD path" → the permission it needs
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_SIZE = 10_000
READ_PERMISSIONS = frozenset(
    {
        Permission.SCREENING_READ,
        Permission.ALERTS_READ,
        Permission.CASES_READ,
        Permission.AUDIT_READ,
        Permission.REPORTS_READ,
    }
)


class TokenCache:
    """Tokens verified in the last ``seconds``: SHA-256 of the token → (actor, expiry).

    Only successful verifications are kept (a new token works at once; a wrong one always
    costs a database look-up), keyed by a hash so that the cache holds no usable token."""

    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS, size: int = TOKEN_CACHE_SIZE) -> None:
        self.seconds = seconds
        self.size = size
        self._verified: dict[bytes, tuple[Actor, float]] = {}

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8")).digest()

    def get(self, token: str) -> Actor | None:
        found = self._verified.get(self.key(token))
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, token: str, actor: Actor) -> None:
        if len(self._verified) >= self.size:
            self._verified.clear()  # rare; keeps memory bounded without bookkeeping
        self._verified[self.key(token)] = (actor, time.monotonic() + self.seconds)


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "send Authorization: Bearer TOKEN")
    return token.strip()


def _cache(request: Request) -> TokenCache:
    state = request.app.state
    cache: TokenCache | None = getattr(state, "token_cache", None)
    if cache is None:
        cache = state.token_cache = TokenCache()
    return cache


def needs(permission: Permission) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency: the calling user, refused unless their role holds ``permission``."""
    from computekyc.services import casework

    cached = permission in READ_PERMISSIONS

    async def dependency(request: Request) -> Actor:
        token = bearer(request)
        cache = _cache(request)
        actor = cache.get(token) if cached else None
        if actor is None:
            try:
                actor = await run_in_threadpool(
                    casework.authenticate, request.app.state.settings, token
                )
            except PermissionDenied:
                raise Problem(401, "Unauthorized", "unknown or revoked token") from None
            cache.put(token, actor)
        request.state.principal = actor
        if not allowed(actor, permission):
            raise Problem(403, "Forbidden", f"role {actor.role!r} does not hold {permission.value}")
        return actor

    dependency.__name__ = f"needs_{permission.name.lower()}"
    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
