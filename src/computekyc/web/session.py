"""Who is signed in: a signed session cookie (Starlette's, HttpOnly, SameSite=Strict) holding the
user name and a CSRF token; the user and role are read again from the database on every request,
so a revoked user or a changed role takes effect at once."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from starlette.requests import Request

from computekyc.audit import Actor
from computekyc.exc import PermissionDenied
from computekyc.settings import Settings

SESSION_COOKIE = "computekyc_session"
SESSION_SECONDS = 8 * 3600  # a working day


def session_key(settings: Settings) -> str:
    """The key signing session cookies: made once per home (0600), shared by every worker."""
    folder = settings.ensure_home() / "web"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "session-key"
    if not path.exists():
        _write_secret(path, secrets.token_urlsafe(48))
    return path.read_text("utf-8").strip()


def _write_secret(path: Path, value: str) -> None:
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    try:
        os.link(temporary, path)  # the first worker wins; the others read its key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.session.get("csrf")
    return isinstance(expected, str) and bool(given) and hmac.compare_digest(expected, given or "")


def signed_in_actor(request: Request, settings: Settings) -> Actor | None:
    """The signed-in user as an actor, or None (no session, or the user was revoked)."""
    from computekyc.services import casework

    name = request.session.get("user")
    if not isinstance(name, str):
        return None
    try:
        return casework.acting_user(settings, name)
    except PermissionDenied:
        request.session.clear()
        return None


def start_session(request: Request, actor: Actor) -> None:
    request.session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    request.session["user"] = actor.user
    csrf_token(request)
