"""The ``users`` and ``api_tokens`` tables (created by migration ``0002_casework_audit``)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, Table, Text

from computekyc.workflow.db import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text),
    Column("created_at", Text, nullable=False),
    Column("disabled_at", Text),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)
