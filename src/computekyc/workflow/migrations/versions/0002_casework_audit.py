"""Casework and the audit trail: users and tokens, decisions, cases, subject status overrides,
and the append-only, hash-chained audit log with its signed checkpoints.

Revision ID: 0002_casework_audit
Revises: 0001_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_casework_audit"
down_revision = "0001_alerts"
branch_labels = None
depends_on = None

GENESIS = "0" * 64  # the chain value before the first entry
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_APPEND_ONLY = ("audit_log", "audit_checkpoints")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("disabled_at", sa.Text),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Text, primary_key=True),  # public part of the token
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),  # SHA-256 of the secret part
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_role", sa.Text, nullable=False),
        sa.Column("decided_at", sa.Text, nullable=False),
        sa.Column("suppress_until", sa.Text),
        sa.Column("alert_fingerprint", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text),
        sa.Column("rule_versions", sa.Text, nullable=False),
        sa.Column("reviewed_by", sa.Text),
        sa.Column("reviewed_at", sa.Text),
        sa.Column("review_reason", sa.Text),
    )
    op.create_index("ix_decisions_alert", "decisions", ["alert_id"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("subject_name", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("assignee", sa.Text),
        sa.Column("opened_at", sa.Text, nullable=False),
        sa.Column("due_on", sa.Text, nullable=False),
        sa.Column("closed_at", sa.Text),
    )
    op.create_index("ix_cases_subject", "cases", ["subject_kind", "subject_id"])
    op.create_table(
        "case_comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_case_comments_case", "case_comments", ["case_id"])
    op.create_table(
        "subject_status",
        sa.Column("subject_kind", sa.Text, primary_key=True),
        sa.Column("subject_id", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("decision_id", sa.Integer, sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("set_at", sa.Text, nullable=False),
        sa.Column("set_by", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_log",
        # INTEGER on SQLite makes seq the rowid itself (no second index to keep up to date)
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor_user", sa.Text, nullable=False),
        sa.Column("actor_role", sa.Text, nullable=False),
        sa.Column("actor_token", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("object_kind", sa.Text, nullable=False),
        sa.Column("object_id", sa.Text, nullable=False),
        sa.Column("subject_kind", sa.Text),
        sa.Column("subject_id", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("leaf", sa.Text, nullable=False),
        sa.Column("chain", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_object", "audit_log", ["object_kind", "object_id"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject_id"])
    # One row: the last sequence number and chain value. Appenders lock it (UPDATE … RETURNING)
    # so concurrent transactions never fork the chain; verify also compares it with the log,
    # which catches entries cut off the end.
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("chain", sa.Text, nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "chain": GENESIS}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("head", sa.Text, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("signature", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_append_only()
    else:
        _sqlite_append_only()


def _sqlite_append_only() -> None:
    for table in _APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _postgres_append_only() -> None:
    op.execute(
        """
        CREATE FUNCTION computekyc_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    for table in _APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION computekyc_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION computekyc_append_only()"
        )
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")


def downgrade() -> None:
    # The audit log is never dropped by the product: a downgrade keeps it and its guards.
    for table in ("subject_status", "case_comments", "cases", "decisions", "api_tokens", "users"):
        op.drop_table(table)
