"""The book and scan tables as queries see them (created by migration ``0002_book_scans``;
record content, account owners and the latest scan's determinations by ``0003_book_content``)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, Table, Text

from computekyc.workflow.db import metadata

book_revisions = Table(
    "book_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("customers", Integer, nullable=False),
    Column("accounts", Integer, nullable=False),
    Column("added", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
)

book_records = Table(
    "book_records",
    metadata,
    Column("provider", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("record_id", Text, primary_key=True),
    Column("content_hash", Text, nullable=False),
    Column("added_revision", Integer, primary_key=True),
    Column("removed_revision", Integer),
    Column("content", Text),  # canonical JSON of the record version (NULL before 0003)
    Column("owner_id", Text),  # an account's customer
)

book_entities = Table(
    "book_entities",
    metadata,
    Column("provider", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("entity_id", Text, nullable=False),
)

book_linking = Table(
    "book_linking",
    metadata,
    Column("provider", Text, primary_key=True),
    Column("input_hash", Text, nullable=False),
    Column("entities", Text, nullable=False),
)

screen_results = Table(
    "screen_results",
    metadata,
    Column("query_key", Text, primary_key=True),
    Column("list_snapshot_id", Integer, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("hits", Text, nullable=False),
)

screen_snapshots = Table(
    "screen_snapshots",
    metadata,
    Column("list_snapshot_id", Integer, primary_key=True),
    Column("doc_freq", Text, nullable=False),
)

scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", Text, nullable=False),
    Column("started", Text, nullable=False),
    Column("finished", Text, nullable=False),
    Column("as_of", Text, nullable=False),
    Column("snapshot", Text, nullable=False),
    Column("book_revision", Integer, nullable=False),
    Column("counts", Text, nullable=False),
)

scan_determinations = Table(
    "scan_determinations",
    metadata,
    Column("scan_id", Integer, primary_key=True),
    Column("provider", Text, nullable=False),
    Column("customer_id", Text, primary_key=True),
    Column("determinations", Text, nullable=False),  # JSON list, one per rented chip
)
