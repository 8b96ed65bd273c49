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
