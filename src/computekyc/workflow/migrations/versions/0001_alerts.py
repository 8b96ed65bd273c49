"""Alerts raised by scans.

Revision ID: 0001_alerts
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_alerts"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("subject_kind", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("subject_name", sa.Text),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text),
        sa.Column("rule_versions", sa.Text, nullable=False),
        sa.Column("first_seen", sa.Text, nullable=False),
        sa.Column("last_seen", sa.Text, nullable=False),
        sa.Column("resolved_at", sa.Text),
        sa.Column("resolution", sa.Text),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("case_id", sa.Integer),
        sa.Column("suppressed_until", sa.Text),
        sa.Column("suppression_fingerprint", sa.Text),
    )
    op.create_index("ix_alerts_status", "alerts", ["status"])
    op.create_index("ix_alerts_subject", "alerts", ["subject_kind", "subject_id"])
    op.create_index("ix_alerts_type", "alerts", ["type"])


def downgrade() -> None:
    op.drop_table("alerts")
