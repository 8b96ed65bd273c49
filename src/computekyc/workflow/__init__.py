"""The workflow database: alerts, book revisions, scans, cases, users and the audit log.

One SQLAlchemy engine per process and database URL; SQLite under the state folder by default,
PostgreSQL via ``$COMPUTEKYC_DATABASE_URL``; the schema is managed by Alembic migrations that run
on first use (``open_database``).
"""

from computekyc.workflow.db import metadata, migrate, open_database, utc_now

__all__ = ["metadata", "migrate", "open_database", "utc_now"]
