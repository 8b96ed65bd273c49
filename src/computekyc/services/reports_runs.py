"""Reports for regulators and auditors: training runs in a period, and the annual certification.

Each report reads the provider folder (the customer book as the latest scan imported it: a
record that differs says so), the ingested usage, the workflow database (entities, alerts,
decisions, list snapshots) and the active list snapshot; it is recorded in the audit log with a
digest of its content, and a signed audit checkpoint taken in the same transaction is part of
the report, so an auditor can tie the document to the trail.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from computekyc import audit, users
from computekyc.alerts.schema import alerts as alerts_table
from computekyc.audit import Actor, AuditEntry, canonical_json
from computekyc.book import Book, BookCustomer, plan_import, read_book
from computekyc.book.schema import book_entities, book_linking
from computekyc.casework import subject_statuses
from computekyc.casework.schema import decisions as decisions_table
from computekyc.chips import UnknownHardware, assumed_chip, get_chip
from computekyc.exc import OptionError, StateError
from computekyc.lists.store import ListStore
from computekyc.ownership import load_rules
from computekyc.reports import certification as cert
from computekyc.reports import training
from computekyc.reports.criteria import certification_criteria, training_criteria
from computekyc.services.determination import determine_customers
from computekyc.services.indexes import snapshot_name
from computekyc.services.linking import usage_store
from computekyc.settings import Settings
from computekyc.usage import (
    Filters,
    Run,
    entity_thresholds,
    make_engine,
    runs,
    summary,
    threshold_label,
)
from computekyc.usage import Settings as UsageSettings
from computekyc.users import OPERATOR_ROLE, Permission, local_operator
from computekyc.workflow import open_database
from computekyc.workflow.db import utc_now

__all__ = ["ReportContext", "certification_report", "training_runs_report"]


@dataclass(slots=True)
class ReportContext:
    """What every report shares: who asked, when, and the state it was made from."""

    actor: Actor
    generated_at: str
    provider: str
    book_revision: int | None
    customers_in_book: set[str]
    accounts_in_book: set[str]


def _require(actor: Actor) -> None:
    if actor.role != OPERATOR_ROLE:
        users.require(actor, Permission.REPORTS_READ)


def _entities(connection: Connection, provider: str) -> tuple[dict[str, str], dict[str, Any]]:
    """account → entity id, and entity id → the stored entity (accounts, links, signals)."""
    entity_of = {
        str(a): str(e)
        for a, e in connection.execute(
            select(book_entities.c.account_id, book_entities.c.entity_id).where(
                book_entities.c.provider == provider
            )
        )
    }
    row = connection.execute(
        select(book_linking.c.entities).where(book_linking.c.provider == provider)
    ).first()
    stored = json.loads(row[0]) if row is not None else []
    return entity_of, {str(e["entity_id"]): e for e in stored}


def _entity_view(entity: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if entity is None:
        return None
    return {
        "entity_id": str(entity["entity_id"]),
        "accounts": sorted(entity.get("accounts", [])),
        "signals": [
            {"kind": s.get("kind"), "severity": s.get("severity"), "summary": s.get("summary")}
            for s in entity.get("signals", [])
        ],
        "links": len(entity.get("links", [])),
    }


def _snapshot_view(settings: Settings) -> dict[str, Any]:
    """The active list snapshot: name, creation, parties, each feed's files and hashes."""
    info = ListStore(open_database(settings)).active_snapshot()
    if info is None:
        raise StateError("no list snapshot loaded yet: run `computekyc lists update` or a scan")
    return {
        "id": snapshot_name(info.id),
        "list_snapshot_id": info.id,
        "created_at": info.created_at,
        "parties": info.parties,
        "feeds": {
            name: {
                "loaded_at": feed.loaded_at,
                "parties": feed.parties,
                "files": [
                    {"name": f.name, "format": f.format, "sha256": f.sha256, "rows": f.rows}
                    for f in feed.files
                ],
            }
            for name, feed in sorted(info.feeds.items())
        },
    }


def _determinable(label: str) -> str:
    """The chip to determine for: unknown hardware counts as its vendor class's assumed chip."""
    if label.startswith(training.UNCLASSIFIED):
        return assumed_chip(label[len(training.UNCLASSIFIED) :].strip() or None).chip.id
    try:
        return get_chip(label).id
    except UnknownHardware:
        return assumed_chip(None).chip.id


def _context(settings: Settings, actor: Actor | None, book: Book) -> ReportContext:
    """Who asks (refused without ``reports.read``), and which folder records are the ones the
    latest scan imported (a record edited or added since is shown, and says so)."""
    who = actor or local_operator()
    _require(who)
    with open_database(settings).connect() as connection:
        plan = plan_import(connection, book)
    return ReportContext(
        who,
        utc_now(),
        book.provider,
        plan.previous_revision,
        plan.customers.unchanged,
        plan.accounts.unchanged,
    )


def _record(
    settings: Settings,
    actor: Actor,
    action: str,
    report_id: str,
    body: dict[str, Any],
    snapshot: str | None,
    rule_versions: dict[str, Any],
) -> dict[str, Any]:
    """The report in the audit log (digest of its content) and a signed checkpoint over it."""
    digest = hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
    with open_database(settings).begin() as connection:
        seq = audit.append(
            connection,
            AuditEntry(
                action=action,
                object_kind="report",
                object_id=report_id,
                actor=actor,
                after={"sha256": digest, "parameters": body.get("parameters")},
                snapshot=snapshot,
                rule_versions=rule_versions,
            ),
        )
        checkpoint = audit.sign_checkpoint(connection, settings, f"{action} {report_id}")
    return {"seq": seq, "content_sha256": digest, "checkpoint": checkpoint.to_dict()}


# -- training runs -------------------------------------------------------------------------------
def _daily(
    rows: Mapping[str, Mapping[str, Any]], accounts: list[str], start: str, end: str
) -> list[dict[str, Any]]:
    by_day: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for account in accounts:
        for day in rows.get(account, {}).get("days", []):
            if start[:10] <= day["date"] <= end[:10]:
                totals = by_day[day["date"]]
                totals[0] += float(day["gpu_hours"])
                totals[1] += float(day["estimated_operations"])
    return [
        {"date": d, "gpu_hours": round(v[0], 6), "estimated_operations": v[1]}
        for d, v in sorted(by_day.items())
    ]


def training_runs_report(
    settings: Settings,
    provider_dir: Path,
    first: date,
    last: date,
    *,
    actor: Actor | None = None,
    usage_settings: UsageSettings | None = None,
) -> dict[str, Any]:
    """Every run and cumulative crossing of the period that the criteria report, with who ran
    it (as the book holds them), the chips, the figures and how they were estimated, the
    determination on its last day, the list snapshot, rule versions and an audit checkpoint."""
    if first > last:
        raise OptionError(f"--from {first} is after --to {last}")
    criteria = training_criteria()
    accounting = usage_settings or UsageSettings()
    book = read_book(provider_dir)
    context = _context(settings, actor, book)
    customers_ok, accounts_ok = context.customers_in_book, context.accounts_in_book
    with open_database(settings).connect() as connection:
        entity_of, entities = _entities(connection, book.provider)
        overrides = {(s.subject_kind, s.subject_id): s for s in subject_statuses(connection)}
    snapshot = _snapshot_view(settings)
    rules = load_rules()
    store = usage_store(settings)
    found: list[Run] = []
    rows: list[dict[str, Any]] = []
    crossings: dict[str, list[dict[str, Any]]] = {}
    if store.has_rows():
        engine = make_engine("duckdb", store)
        window = accounting.thresholds.window_days
        lookback = min(first - timedelta(days=window - 1), date(first.year, 1, 1))
        found = runs(engine, accounting, Filters(last_day=last))
        rows = summary(engine, accounting, Filters(first_day=lookback, last_day=last))
        crossings = entity_thresholds(rows, entity_of, accounting.thresholds)
    members: dict[str, list[str]] = defaultdict(list)
    for account, entity in entity_of.items():
        members[entity].append(account)
    candidates = training.run_candidates(found, first, last)
    candidates += training.cumulative_candidates(
        rows, crossings, members, first, last, accounting.thresholds.window_days
    )
    customers = {c.id: c for c in book.customers}
    accounts = {a.id: a for a in book.accounts}
    by_account = {str(r["account"]): r for r in rows}
    rule_versions = {
        "ownership": rules.version_tag(),
        "report_criteria": criteria.version,
        "usage_thresholds": ", ".join(f"{t:.0e}" for t in accounting.thresholds.operations)
        + f" operations; {accounting.thresholds.ops_per_second:.0e} ops/s; rolling "
        f"{accounting.thresholds.window_days} days",
        "default_utilisation": accounting.default_utilisation,
    }
    cache: dict[tuple[str, date, str], dict[str, Any]] = {}

    def determination_of(customer: BookCustomer | None, on: date, chip: str) -> dict[str, Any]:
        if customer is None:
            return {
                "status": "review",
                "explanation": "no customer in the book for this account: identity unknown",
                "as_of": on.isoformat(),
            }
        key = (customer.id, on, chip)
        if key not in cache:
            result = determine_customers(settings, [customer.customer], on, chip, rules)
            worst = result[customer.id].worst
            view = {
                "status": str(worst.status),
                "as_of": worst.as_of.isoformat(),
                "item": worst.item,
                "explanation": worst.explanation,
                "rules_version": worst.rules_version,
                "snapshot": worst.snapshot_id,
                "rules": [
                    {
                        "rule": r.rule,
                        "applies": r.applies,
                        "status": str(r.status),
                        "reason": r.reason,
                    }
                    for r in worst.rules
                    if r.applies or str(r.status) != "clear"
                ],
            }
            override = overrides.get(("customer", customer.id))
            if override is not None:
                view["decided_status"] = override.to_dict()
            cache[key] = view
        return cache[key]

    entries = []
    for candidate in candidates:
        owner_ids = [accounts[a].record.customer_id for a in candidate.accounts if a in accounts]
        owner = next((customers.get(c) for c in owner_ids if c), None)
        determination = determination_of(
            owner, min(candidate.on, last), _determinable(candidate.main_chip)
        )
        reasons = training.reasons_to_report(candidate, owner, determination["status"], criteria)
        if not reasons:
            continue
        entity_id = candidate.entity_id or entity_of.get(candidate.accounts[0])
        entry = training.report_entry(
            candidate,
            reasons,
            training.customer_identity(owner, owner.id in customers_ok) if owner else None,
            [
                training.account_identity(accounts[a], entity_of.get(a), a in accounts_ok)
                if a in accounts
                else {"id": a, "note": "not in the book: identity unknown", "matches_book": False}
                for a in candidate.accounts
            ],
            _entity_view(entities.get(entity_id)) if entity_id else None,
            determination,
            snapshot,
            rule_versions,
            accounting.default_utilisation,
        )
        entry["daily"] = _daily(by_account, candidate.accounts, candidate.start, candidate.end)
        entries.append(entry)
    entries.sort(key=lambda e: (e["start"], e["id"]))
    report_id = uuid.uuid4().hex
    body: dict[str, Any] = {
        "report": training.REPORT_KIND,
        "id": report_id,
        "parameters": {"from": first.isoformat(), "to": last.isoformat()},
        "generated_at": context.generated_at,
        "generated_by": context.actor.to_dict(),
        "provider": context.provider,
        "book_revision": context.book_revision,
        "criteria": criteria.to_dict(),
        "thresholds": [
            {"threshold": t, "label": threshold_label(t)} for t in accounting.thresholds.operations
        ],
        "runs": entries,
    }
    body["audit"] = _record(
        settings,
        context.actor,
        "report.training_runs",
        report_id,
        body,
        snapshot["id"],
        rule_versions,
    )
    return body


# -- certification -------------------------------------------------------------------------------
# What the certification counts: alerts (type, state, when raised) and decisions (outcome, state,
# when made and approved), in id order.
_ALERT_COLUMNS = ("id", "type", "severity", "status", "first_seen", "resolved_at", "subject_id")
_DECISION_COLUMNS = ("alert_id", "outcome", "status", "decided_at", "reviewed_at")


def _rows(connection: Connection, table: Table, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    query = select(*(table.c[name] for name in columns)).order_by(table.c.id)
    return [dict(r._mapping) for r in connection.execute(query)]


def certification_report(
    settings: Settings,
    provider_dir: Path,
    year: int,
    *,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """The annual program summary (see :mod:`computekyc.reports.certification`)."""
    if not 2000 <= year <= 9999:
        raise OptionError(f"--year must be a four-digit year, not {year}")
    book = read_book(provider_dir)
    context = _context(settings, actor, book)
    criteria = certification_criteria()
    engine = open_database(settings)
    with engine.connect() as connection:
        entity_of, entities = _entities(connection, book.provider)
        alerts = _rows(connection, alerts_table, _ALERT_COLUMNS)
        decided = _rows(connection, decisions_table, _DECISION_COLUMNS)
        verification = audit.verify(connection, settings)
    loads = [s.created_at for s in ListStore(engine).snapshots()]
    snapshot = _snapshot_view(settings)
    rules = load_rules()
    body: dict[str, Any] = {
        "report": cert.REPORT_KIND,
        "id": uuid.uuid4().hex,
        "parameters": {"year": year},
        "generated_at": context.generated_at,
        "generated_by": context.actor.to_dict(),
        "provider": context.provider,
        "book_revision": context.book_revision,
        "criteria": criteria.to_dict(),
        "identification": cert.identification(book, criteria),
        "resellers": cert.resellers(
            entities, alerts, book, criteria, training_criteria().domestic_countries
        ),
        "alerts": cert.alert_summary(alerts, decided, year),
        "decisions": cert.decision_times(alerts, decided, year),
        "lists": cert.list_cadence(loads, year),
        "audit_verification": verification.to_dict(),
        "snapshot": snapshot,
        "rule_versions": {"ownership": rules.version_tag(), "report_criteria": criteria.version},
        "linked_entities": len(set(entity_of.values())),
    }
    body["audit"] = _record(
        settings,
        context.actor,
        "report.certification",
        body["id"],
        body,
        snapshot["id"],
        body["rule_versions"],
    )
    return body
