"""The audit tables as queries see them (created by migration ``0002_casework_audit``, which
also makes ``audit_log`` and ``audit_checkpoints`` append-only with triggers and grants)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, Table, Text

from computekyc.workflow.db import metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", Text, nullable=False),
    Column("actor_user", Text, nullable=False),
    Column("actor_role", Text, nullable=False),
    Column("actor_token", Text),
    Column("action", Text, nullable=False),
    Column("object_kind", Text, nullable=False),
    Column("object_id", Text, nullable=False),
    Column("subject_kind", Text),
    Column("subject_id", Text),
    Column("reason", Text),
    Column("before", Text),
    Column("after", Text),
    Column("context", Text, nullable=False),
    Column("leaf", Text, nullable=False),
    Column("chain", Text, nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("chain", Text, nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Text, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("head", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("note", Text),
    Column("signature", Text, nullable=False),
)
