"""The customer book (revisions, per-record content hashes, entity assignment), the screening
cache of the daily scan, and the scans themselves.

Revision ID: 0002_book_scans
Revises: 0001_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_book_scans"
down_revision = "0001_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "book_revisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("accounts", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
    )
    op.create_index("ix_book_revisions_provider", "book_revisions", ["provider", "id"])
    # One row per version of a record: live while removed_revision is NULL.
    op.create_table(
        "book_records",
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),  # customer | account
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("added_revision", sa.Integer, nullable=False),
        sa.Column("removed_revision", sa.Integer),
        sa.PrimaryKeyConstraint("provider", "kind", "record_id", "added_revision"),
    )
    op.create_index(
        "ix_book_records_live", "book_records", ["provider", "kind", "removed_revision"]
    )
    op.create_table(
        "book_entities",
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("provider", "account_id"),
    )
    # The last linking result of a provider, reused while accounts and usage are unchanged.
    op.create_table(
        "book_linking",
        sa.Column("provider", sa.Text, primary_key=True),
        sa.Column("input_hash", sa.Text, nullable=False),
        sa.Column("entities", sa.Text, nullable=False),
    )
    # Screening results per distinct query (name, country, type), valid for one list snapshot.
    op.create_table(
        "screen_results",
        sa.Column("query_key", sa.Text, primary_key=True),
        sa.Column("list_snapshot_id", sa.Integer, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("hits", sa.Text, nullable=False),
    )
    # The word frequencies each snapshot's index weighed words by: a delta re-screen knows
    # which words changed weight between two snapshots.
    op.create_table(
        "screen_snapshots",
        sa.Column("list_snapshot_id", sa.Integer, primary_key=True),
        sa.Column("doc_freq", sa.Text, nullable=False),
    )
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("started", sa.Text, nullable=False),
        sa.Column("finished", sa.Text, nullable=False),
        sa.Column("as_of", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("book_revision", sa.Integer, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "scans",
        "screen_snapshots",
        "screen_results",
        "book_linking",
        "book_entities",
        "book_records",
        "book_revisions",
    ):
        op.drop_table(table)
