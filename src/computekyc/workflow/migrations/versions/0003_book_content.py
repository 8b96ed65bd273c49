"""Record content per book revision and the determinations of each provider's latest scan:
what a customer view shows, read back exactly as the scan saw it.

``book_records.content`` holds each record version as canonical JSON (customers: the fields the
book reads; accounts: the linking record — payment fingerprints are tokens, card numbers are
refused by the readers and masked here should one slip through); ``owner_id`` is an account's
customer, so a customer's accounts are one indexed query. ``scan_determinations`` keeps, per
customer, the determinations (one per rented chip, with rules, evidence, snapshot and rule
versions) of the provider's latest scan. Rows imported before this migration have no content.

Revision ID: 0003_book_content
Revises: 0002_book_scans, 0002_casework_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_book_content"
# The merge point of the two branches from 0001_alerts: one head again.
down_revision = ("0002_book_scans", "0002_casework_audit")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("book_records") as batch:
        batch.add_column(sa.Column("content", sa.Text))
        batch.add_column(sa.Column("owner_id", sa.Text))
    op.create_index(
        "ix_book_records_owner", "book_records", ["provider", "owner_id", "removed_revision"]
    )
    op.create_index("ix_book_records_id", "book_records", ["record_id", "kind"])
    op.create_table(
        "scan_determinations",
        sa.Column("scan_id", sa.Integer, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("determinations", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("scan_id", "customer_id"),
    )
    op.create_index(
        "ix_scan_determinations_customer", "scan_determinations", ["customer_id", "scan_id"]
    )
    op.create_index("ix_scan_determinations_provider", "scan_determinations", ["provider"])


def downgrade() -> None:
    op.drop_table("scan_determinations")
    op.drop_index("ix_book_records_id", table_name="book_records")
    op.drop_index("ix_book_records_owner", table_name="book_records")
    with op.batch_alter_table("book_records") as batch:
        batch.drop_column("owner_id")
        batch.drop_column("content")
