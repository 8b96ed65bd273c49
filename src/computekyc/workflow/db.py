"""One engine per process and URL, SQLite settings that make it safe for several writers, and
Alembic migrations to the newest schema on first use."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from computekyc.exc import StateError
from computekyc.settings import Settings

# Tables of the workflow packages (alerts, book, casework, audit) are declared on this metadata
# for queries; their shape is created and changed only by the migrations in ``migrations/``.
metadata = MetaData()

_MIGRATE_TRIES = 5
_MIGRATION_LOCK = 0x636B7766  # 'ckwf': serialises workflow migrations on PostgreSQL
_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_migrated: set[str] = set()


def utc_now() -> str:
    """Timestamps are ISO 8601 UTC text with seconds, the same on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the one writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # a second writer waits instead of failing
    cursor.close()


def engine_for(settings: Settings) -> Engine:
    """The process's engine for the settings' database (made once, then shared)."""
    url = settings.sqlalchemy_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            try:
                engine = create_engine(url, pool_pre_ping=True)
            except ModuleNotFoundError as exc:
                raise StateError(
                    f"the database driver {exc.name!r} is not installed "
                    "(PostgreSQL: pip install 'computekyc[postgres]')"
                ) from exc
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            _engines[url] = engine
        return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision of every migration branch (idempotent).

    Several processes may meet a new database at once (three ``lists load`` into an empty
    PostgreSQL database, say): on PostgreSQL they queue on an advisory lock; on SQLite the
    loser of a race sees the winner's tables and tries again, finding nothing left to do."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("computekyc.workflow") / "migrations")
    )
    for attempt in range(_MIGRATE_TRIES):
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
            return
        except (OperationalError, IntegrityError, ProgrammingError) as exc:
            if attempt + 1 == _MIGRATE_TRIES:
                raise StateError(
                    f"the workflow database cannot be reached or updated: {exc.orig}"
                ) from exc
            time.sleep(0.2 * (attempt + 1))


def open_database(settings: Settings) -> Engine:
    """The engine, with the schema migrated once per process."""
    engine = engine_for(settings)
    key = str(engine.url)
    if key not in _migrated:
        with _lock:
            if key not in _migrated:
                migrate(engine)
                _migrated.add(key)
    return engine
