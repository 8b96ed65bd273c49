"""Usage over time for the accounts behind an alert: GPU-hours per day (controlled or not) and
cumulative estimated operations against the reporting thresholds, from the ingested usage store.

The web UI draws these; the figures are the usage summary's own (each row classified under the
rules in force on its day), only regrouped per day across the accounts asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from computekyc.alerts import Alert, AlertStore, SubjectKind
from computekyc.book.schema import book_entities
from computekyc.exc import ConflictError, NotFoundError
from computekyc.services.linking import usage_store
from computekyc.settings import Settings
from computekyc.usage import Filters, make_engine, summary
from computekyc.workflow import open_database


@dataclass(frozen=True, slots=True)
class UsageDay:
    date: str
    gpu_hours: float
    controlled_gpu_hours: float
    review_gpu_hours: float
    unclassified_gpu_hours: float
    estimated_operations: float

    @property
    def other_gpu_hours(self) -> float:
        """Hours on chips that are not controlled (and not under review or unclassified)."""
        rest = (
            self.gpu_hours
            - self.controlled_gpu_hours
            - self.review_gpu_hours
            - self.unclassified_gpu_hours
        )
        return round(max(rest, 0.0), 3)


@dataclass(frozen=True, slots=True)
class UsageSeries:
    accounts: list[str]
    days: list[UsageDay]
    thresholds: list[dict[str, Any]] = field(default_factory=list)  # operations, with labels

    def to_dict(self) -> dict[str, Any]:
        cumulative = 0.0
        rows = []
        for day in self.days:
            cumulative += day.estimated_operations
            rows.append(
                {
                    "date": day.date,
                    "controlled": day.controlled_gpu_hours,
                    "review": day.review_gpu_hours,
                    "unclassified": day.unclassified_gpu_hours,
                    "other": day.other_gpu_hours,
                    "operations": day.estimated_operations,
                    "cumulative_operations": cumulative,
                }
            )
        return {"accounts": self.accounts, "days": rows, "thresholds": self.thresholds}


def usage_by_day(settings: Settings, accounts: Iterable[str]) -> UsageSeries:
    """GPU-hours and operations per day summed over ``accounts`` (empty when none has usage)."""
    wanted = sorted(set(accounts))
    store = usage_store(settings)
    if not wanted or not store.has_rows():
        return UsageSeries(wanted, [])
    engine = make_engine("duckdb", store)
    per_day: dict[str, list[float]] = {}
    thresholds: dict[float, str] = {}
    for account in wanted:
        for row in summary(engine, filters=Filters(account=account)):
            for limit in row["thresholds"]:
                if limit["kind"] == "operations":
                    thresholds[float(limit["threshold"])] = str(limit["label"])
            for day in row["days"]:
                sums = per_day.setdefault(str(day["date"]), [0.0] * 5)
                for i, key in enumerate(
                    (
                        "gpu_hours",
                        "controlled_gpu_hours",
                        "review_gpu_hours",
                        "unclassified_gpu_hours",
                        "estimated_operations",
                    )
                ):
                    sums[i] += float(day[key] or 0.0)
    days = [
        UsageDay(date, *(round(v, 3) if i < 4 else v for i, v in enumerate(sums)))
        for date, sums in sorted(per_day.items())
    ]
    return UsageSeries(
        wanted,
        days,
        [{"threshold": t, "label": label} for t, label in sorted(thresholds.items())],
    )


def alert_accounts(settings: Settings, alert: Alert) -> list[str]:
    """The cloud accounts whose usage tells an alert's story: the account itself and the
    accounts of its linked entity; an entity's member accounts; for a customer, the accounts
    its alerts name (controlled rental per account, links) and their linked entities."""
    evidence = alert.evidence
    found: set[str] = set()
    if alert.subject.kind is SubjectKind.ACCOUNT:
        found.add(alert.subject.id)
    found.update(str(a) for a in evidence.get("accounts", []) or [])
    for link in evidence.get("links", []) or []:
        found.update((str(link.get("a")), str(link.get("b"))))
    engine = open_database(settings)
    if alert.subject.kind is SubjectKind.CUSTOMER:
        from computekyc.services.customers import customer_detail

        try:
            found.update(a.account_id for a in customer_detail(settings, alert.subject.id).accounts)
        except (NotFoundError, ConflictError):  # not in a stored book: what its alerts name
            for other in AlertStore(engine).list(status=None, subject_id=alert.subject.id):
                found.update(str(a) for a in (other.evidence.get("by_account") or {}))
    if found:
        with engine.connect() as connection:
            entities = select(book_entities.c.entity_id).where(
                book_entities.c.account_id.in_(sorted(found))
            )
            members = connection.execute(
                select(book_entities.c.account_id).where(book_entities.c.entity_id.in_(entities))
            )
            found.update(str(row[0]) for row in members)
    return sorted(found)
