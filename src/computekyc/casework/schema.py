"""The casework tables as queries see them (created by migration ``0002_casework_audit``)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, Table, Text

from computekyc.workflow.db import metadata

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("decided_role", Text, nullable=False),
    Column("decided_at", Text, nullable=False),
    Column("suppress_until", Text),
    Column("alert_fingerprint", Text, nullable=False),
    Column("snapshot", Text),
    Column("rule_versions", Text, nullable=False),
    Column("reviewed_by", Text),
    Column("reviewed_at", Text),
    Column("review_reason", Text),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", Text, nullable=False),
    Column("subject_id", Text, nullable=False),
    Column("subject_name", Text),
    Column("status", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("assignee", Text),
    Column("opened_at", Text, nullable=False),
    Column("due_on", Text, nullable=False),
    Column("closed_at", Text),
)

case_comments = Table(
    "case_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("author", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("text", Text, nullable=False),
)

# Per-subject status overrides set by confirmed critical decisions: the scan and the customer
# views read them (``blocked`` / ``license_required``) with the decision as evidence.
subject_status = Table(
    "subject_status",
    metadata,
    Column("subject_kind", Text, primary_key=True),
    Column("subject_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("decision_id", Integer, ForeignKey("decisions.id"), nullable=False),
    Column("set_at", Text, nullable=False),
    Column("set_by", Text, nullable=False),
)
