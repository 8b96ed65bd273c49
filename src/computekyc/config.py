"""Where computekyc keeps its local state."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "COMPUTEKYC_HOME"


def home() -> Path:
    """The state folder: ``$COMPUTEKYC_HOME`` or ~/.local/share/computekyc; made on demand."""
    configured = os.environ.get(HOME_ENV)
    path = Path(configured) if configured else Path.home() / ".local" / "share" / "computekyc"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """SQLAlchemy URL of the state database: ``$COMPUTEKYC_DATABASE_URL`` or SQLite in the home."""
    return os.environ.get("COMPUTEKYC_DATABASE_URL") or f"sqlite:///{home() / 'computekyc.db'}"


THREADS_ENV = "COMPUTEKYC_THREADS"


def threads() -> int | None:
    """Worker threads for the embedded engines: ``$COMPUTEKYC_THREADS``, else None (one per core).

    Set it on a host shared with other work; the usage benchmark sets it to measure scaling."""
    configured = os.environ.get(THREADS_ENV)
    if not configured:
        return None
    try:
        value = int(configured)
    except ValueError:
        raise ValueError(f"${THREADS_ENV} must be a whole number, not {configured!r}") from None
    if value < 1:
        raise ValueError(f"${THREADS_ENV} must be at least 1, not {value}")
    return value
