"""The annual certification report: the compliance program in figures, for one calendar year.

Pure logic over what the service layer read: the book (who is identified and verified under the
customer identification program criteria of ``reports/data/criteria.yaml``), the linked entities
with a reseller signal, the alerts and decisions of the workflow database, the list snapshots'
load times, and the audit verification. Every count comes with the ids behind it where an
auditor would want to check one.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from computekyc.book import Book, BookAccount, BookCustomer
from computekyc.reports.criteria import CertificationCriteria

REPORT_KIND = "computekyc-certification/1"
# A decision counts when it took effect (or was approved); a pending one is shown as pending.
_EFFECTIVE = ("final", "approved")


def _customer_fields(customer: BookCustomer) -> dict[str, bool]:
    root = customer.customer.root
    return {
        "name": bool(root.name.strip()),
        "country": bool(root.country),
        "address": bool(customer.customer.addresses),
        "identifier": bool(root.identifiers),
    }


def _account_fields(account: BookAccount) -> dict[str, bool]:
    record = account.record
    contacts = [*record.emails, *record.phones]
    return {
        "name": bool(record.name.strip()),
        "country": bool(record.country),
        "contact": bool(contacts),
        "payment": bool(record.payment_fingerprints),
        "verified_contact": any(c.verified for c in contacts),
        "customer": bool(record.customer_id),
    }


def _grade(
    fields: Mapping[str, bool], identified: Sequence[str], verified: Sequence[str]
) -> tuple[bool, bool, list[str]]:
    missing = [f for f in (*identified, *verified) if not fields.get(f)]
    ident = all(fields.get(f) for f in identified)
    return ident, ident and all(fields.get(f) for f in verified), missing


def identification(book: Book, criteria: CertificationCriteria) -> dict[str, Any]:
    """Customers and accounts identified and verified, and the ones that are not (with what
    they lack)."""
    out: dict[str, Any] = {}
    for kind, records, check in (
        ("customers", book.customers, _customer_fields),
        ("accounts", book.accounts, _account_fields),
    ):
        key = kind[:-1]
        counts = Counter[str]()
        short: list[dict[str, Any]] = []
        for record in records:
            fields = check(record)  # type: ignore[arg-type]
            ident, verified, missing = _grade(
                fields, criteria.identified.get(key, ()), criteria.verified.get(key, ())
            )
            counts["identified"] += ident
            counts["verified"] += verified
            if not verified:
                short.append({"id": record.id, "identified": ident, "missing": missing})
        out[kind] = {
            "total": len(records),
            "identified": counts["identified"],
            "verified": counts["verified"],
            "unverified": short,
        }
    out["accounts"]["without_customer"] = sorted(
        a.id for a in book.accounts if not a.record.customer_id
    )
    return out


def resellers(
    entities: Mapping[str, Mapping[str, Any]],
    alerts: Iterable[Mapping[str, Any]],
    book: Book,
    criteria: CertificationCriteria,
    domestic: Iterable[str] = ("US",),
) -> dict[str, Any]:
    """Linked entities with a reseller signal: their accounts and countries, whether foreign,
    the reseller alert's status, and their own program (the book holds none: review)."""
    home = {c.upper() for c in domestic}
    records = {a.id: a.record for a in book.accounts}
    alert_of = {str(a["subject_id"]): a for a in alerts if a["type"] == "reseller"}
    found = []
    for entity_id, entity in sorted(entities.items()):
        signals = [s for s in entity.get("signals", []) if s.get("kind") == "reseller"]
        if not signals:
            continue
        accounts = sorted(entity.get("accounts", []))
        countries = sorted(
            {
                str(records[a].country).upper()
                for a in accounts
                if a in records and records[a].country
            }
        )
        alert = alert_of.get(entity_id)
        found.append(
            {
                "entity_id": entity_id,
                "accounts": accounts,
                "customers": sorted(
                    {
                        str(records[a].customer_id)
                        for a in accounts
                        if a in records and records[a].customer_id
                    }
                ),
                "countries": countries,
                "foreign": not countries or any(c not in home for c in countries),
                "signal": signals[0].get("summary"),
                "alert": None if alert is None else {"id": alert["id"], "status": alert["status"]},
                "program": None,
                "program_note": "the book holds no customer identification program of this "
                "reseller: review",
            }
        )
    return {
        "total": len(found),
        "foreign": sum(r["foreign"] for r in found),
        "entities": found,
        "source": criteria.sources.get("resellers"),
    }


def _year_of(stamp: str | None) -> int | None:
    return int(stamp[:4]) if stamp and stamp[:4].isdigit() else None


def _effective(decisions: Iterable[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """The latest decision per alert that took effect or awaits approval."""
    latest: dict[int, Mapping[str, Any]] = {}
    for row in decisions:
        if row["status"] in (*_EFFECTIVE, "pending"):
            latest[int(row["alert_id"])] = row
    return latest


def alert_summary(
    alerts: Sequence[Mapping[str, Any]], decisions: Iterable[Mapping[str, Any]], year: int
) -> dict[str, Any]:
    """Alerts first raised in the year, by type and outcome (a decision's outcome, else the
    alert's state: open, resolved by a scan, suppressed), and by month."""
    decided = _effective(decisions)
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    for alert in alerts:
        if _year_of(alert["first_seen"]) != year:
            continue
        total += 1
        decision = decided.get(int(alert["id"]))
        if decision is None:
            outcome = "resolved" if alert["status"] == "closed" else str(alert["status"])
        elif decision["status"] == "pending":
            outcome = f"pending_approval ({decision['outcome']})"
        else:
            outcome = str(decision["outcome"])
        by_type[str(alert["type"])][outcome] += 1
        by_month[str(alert["first_seen"])[:7]][str(alert["type"])] += 1
    return {
        "year": year,
        "total": total,
        "by_type": {t: dict(sorted(c.items())) for t, c in sorted(by_type.items())},
        "by_month": {m: dict(sorted(c.items())) for m, c in sorted(by_month.items())},
    }


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def decision_times(
    alerts: Iterable[Mapping[str, Any]], decisions: Iterable[Mapping[str, Any]], year: int
) -> dict[str, Any]:
    """Time from an alert being raised to its decision taking effect (approval included), for
    decisions that took effect in the year: count, median and longest, in hours."""
    raised = {int(a["id"]): str(a["first_seen"]) for a in alerts}
    hours = []
    for row in decisions:
        if row["status"] not in _EFFECTIVE:
            continue
        effective = row["reviewed_at"] if row["status"] == "approved" else row["decided_at"]
        if _year_of(effective) != year or int(row["alert_id"]) not in raised:
            continue
        delta = _parse(str(effective)) - _parse(raised[int(row["alert_id"])])
        hours.append(max(delta.total_seconds(), 0.0) / 3600)
    return {
        "decisions": len(hours),
        "median_hours": round(statistics.median(hours), 3) if hours else None,
        "max_hours": round(max(hours), 3) if hours else None,
    }


def list_cadence(loads: Iterable[str], year: int) -> dict[str, Any]:
    """How often new list snapshots were loaded in the year: count, days between loads."""
    days = sorted({_parse(s).date() for s in loads if _year_of(s) == year})
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    end = min(date(year, 12, 31), date.today())
    return {
        "snapshots": len(days),
        "first": days[0].isoformat() if days else None,
        "last": days[-1].isoformat() if days else None,
        "median_days_between": statistics.median(gaps) if gaps else None,
        "max_days_between": max(gaps) if gaps else None,
        "days_since_last": (end - days[-1]).days if days else None,
    }
