"""Where computekyc keeps its local state: shortcuts over :class:`computekyc.settings.Settings`.

New code takes a ``Settings`` passed in; these helpers serve the modules that still read the
process settings themselves.
"""

from __future__ import annotations

from pathlib import Path

from computekyc.settings import HOME_ENV, THREADS_ENV, Settings

__all__ = ["HOME_ENV", "THREADS_ENV", "database_url", "home", "threads"]


def home() -> Path:
    """The state folder: ``$COMPUTEKYC_HOME`` or ~/.local/share/computekyc; made on demand."""
    return Settings.from_env().ensure_home()


def database_url() -> str:
    """SQLAlchemy URL of the state database: ``$COMPUTEKYC_DATABASE_URL`` or SQLite in the home."""
    return Settings.from_env().sqlalchemy_url


def threads() -> int | None:
    """Worker threads: ``$COMPUTEKYC_THREADS``, else None (one per core)."""
    return Settings.from_env().threads
