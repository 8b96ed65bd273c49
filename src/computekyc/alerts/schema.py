"""The ``alerts`` table as queries see it (created by migration ``0001_alerts``)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, Table, Text

from computekyc.workflow.db import metadata

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),
    Column("type", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("subject_kind", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("subject_name", Text),
    Column("summary", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("snapshot", Text),
    Column("rule_versions", Text, nullable=False),
    Column("first_seen", Text, nullable=False),
    Column("last_seen", Text, nullable=False),
    Column("resolved_at", Text),
    Column("resolution", Text),
    Column("changes", Text, nullable=False),
    Column("case_id", Integer),
    Column("suppressed_until", Text),
    Column("suppression_fingerprint", Text),
)
