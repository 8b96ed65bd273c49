"""Signals for the analyst, each with its evidence: reseller, structuring, access geography,
identity churn. A signal is a plain dict ``{"kind", "severity", "summary", "evidence"}``."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from computekyc.exc import InputError
from computekyc.linking.cluster import Entity
from computekyc.linking.geoip import GeoIP
from computekyc.linking.records import ADMIN_ACTIONS, AccountRecord

# Compute thresholds (operations) from shared/docs/regulatory.md: 10^23 (biological-sequence
# models in EO 14110), 10^25 (EU AI Act systemic-risk presumption), 10^26 (EO 14110 reporting).
THRESHOLDS = (1e23, 1e25, 1e26)
CHURN_DAYS = 30
CHURN_FIELDS = frozenset({"name", "beneficial_owners", "owner", "owners"})
CHURN_ACTIONS = frozenset({"name_change", "owner_change", "rename"})
RESELLER_MIN_SUBACCOUNTS = 3


class UsageInputError(InputError, ValueError):
    pass


def _ops(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UsageInputError(f"{where}: estimated operations must be a non-negative number")
    return float(value)


def parse_usage(data: Any, source: str = "<usage>") -> dict[str, float]:
    """Estimated operations per account from any of the accepted JSON shapes:

    - ``{"ACCOUNT_ID": ops, …}``
    - ``{"estimated_operations": {"ACCOUNT_ID": ops, …}}``
    - ``[{"account": …, "estimated_operations": …, …}, …]`` — the per-account summaries that
      ``computekyc usage summary --json`` prints (``computekyc.usage.summary``); ``account_id``
      is accepted for ``account``, and the list may sit under ``"accounts"``.
    """
    if isinstance(data, dict) and isinstance(data.get("estimated_operations"), dict):
        data = data["estimated_operations"]
    elif isinstance(data, dict) and isinstance(data.get("accounts"), list):
        data = data["accounts"]
    if isinstance(data, list):
        out: dict[str, float] = {}
        for i, row in enumerate(data):
            account = row.get("account", row.get("account_id")) if isinstance(row, dict) else None
            if account is None:
                raise UsageInputError(f"{source}: item {i}: needs account (or account_id)")
            ops = row.get("estimated_operations")
            out[str(account)] = _ops(ops, f"{source}: item {i}")
        return out
    if isinstance(data, dict):
        return {str(k): _ops(v, f"{source}: account {k!r}") for k, v in data.items()}
    raise UsageInputError(f"{source}: expected an object or a list of per-account summaries")


def load_usage(path: Path | str) -> dict[str, float]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageInputError(f"{path}: invalid JSON: {exc}") from None
    return parse_usage(data, str(path))


def _signal(kind: str, severity: str, summary: str, evidence: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "summary": summary, "evidence": evidence}


def structuring(entity: Entity, usage: Mapping[str, float]) -> dict[str, Any] | None:
    """The entity's accounts together cross a threshold that each one stays below."""
    per_account = {a: usage[a] for a in entity.accounts if a in usage}
    if len(per_account) < 2:
        return None
    total, largest = sum(per_account.values()), max(per_account.values())
    crossed = [t for t in THRESHOLDS if total >= t > largest]
    if not crossed:
        return None
    threshold = max(crossed)
    return _signal(
        "structuring",
        "high" if threshold >= 1e25 else "medium",
        f"{len(per_account)} accounts total {total:.3g} operations, over {threshold:.0e}; "
        f"the largest alone is {largest:.3g}",
        {
            "threshold": threshold,
            "total_operations": total,
            "largest_account_operations": largest,
            "per_account_operations": dict(sorted(per_account.items())),
        },
    )


def access_geography(
    entity: Entity, records: Mapping[str, AccountRecord], geoip: GeoIP
) -> dict[str, Any] | None:
    """Accounts administered or used from countries other than the one declared."""
    flagged: list[dict[str, Any]] = []
    for account in entity.accounts:
        record = records[account]
        if not record.country or not record.ip_log:
            continue
        located = [geoip.country(event.ip) for event in record.ip_log]
        # Nearly every account is used only from home (or unresolvable IPs): nothing to count.
        if all(c is None or c == record.country for c in located):
            continue
        seen: Counter[str] = Counter()
        admin: Counter[str] = Counter()
        samples: dict[str, str] = {}
        for event, country in zip(record.ip_log, located, strict=True):
            if country is None:
                continue
            seen[country] += 1
            samples.setdefault(country, event.ip)
            if event.action in ADMIN_ACTIONS:
                admin[country] += 1
        resolved = sum(seen.values())
        foreign = resolved - seen[record.country]
        foreign_admin = sum(n for c, n in admin.items() if c != record.country)
        if resolved and (foreign / resolved >= 0.5 or foreign_admin):
            flagged.append(
                {
                    "account_id": account,
                    "declared_country": record.country,
                    "access_countries": dict(seen.most_common()),
                    "admin_countries": dict(admin.most_common()),
                    "foreign_share": round(foreign / resolved, 3),
                    "sample_ips": {c: ip for c, ip in samples.items() if c != record.country},
                }
            )
    if not flagged:
        return None
    countries = sorted({c for f in flagged for c in f["access_countries"]})
    return _signal(
        "access_geography",
        "high" if any(f["admin_countries"] for f in flagged) else "medium",
        f"{len(flagged)} account(s) accessed from countries other than declared "
        f"({', '.join(countries)})",
        {"accounts": flagged, "ip_database": geoip.source.describe()},
    )


def _days_between(start: str, end: str) -> float | None:
    try:
        a = datetime.fromisoformat(start.replace("Z", "+00:00"))
        b = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return (b - a).total_seconds() / 86400


def identity_churn(entity: Entity, records: Mapping[str, AccountRecord]) -> dict[str, Any] | None:
    """Names or owners changed within ``CHURN_DAYS`` of opening the account."""
    changes = []
    for account in entity.accounts:
        record = records[account]
        if not record.created_at:
            continue
        for change in record.history:
            if change.field not in CHURN_FIELDS:
                continue  # only identity fields count; skip parsing the dates of the rest
            days = _days_between(record.created_at, change.ts)
            if days is not None and 0 <= days <= CHURN_DAYS:
                changes.append(
                    {"account_id": account, "field": change.field, "old": change.old,
                     "new": change.new, "ts": change.ts, "days_after_creation": round(days, 1)}
                )  # fmt: skip
        for event in record.ip_log:
            if event.action not in CHURN_ACTIONS:
                continue
            days = _days_between(record.created_at, event.ts)
            if days is not None and 0 <= days <= CHURN_DAYS:
                changes.append(
                    {"account_id": account, "field": event.action, "ip": event.ip,
                     "ts": event.ts, "days_after_creation": round(days, 1)}
                )  # fmt: skip
    if not changes:
        return None
    return _signal(
        "identity_churn",
        "medium",
        f"{len(changes)} identity change(s) within {CHURN_DAYS} days of account creation",
        {"changes": changes, "window_days": CHURN_DAYS},
    )


def resellers(
    entities: Sequence[Entity], records: Mapping[str, AccountRecord]
) -> dict[str, dict[str, Any]]:
    """Billing accounts whose sub-accounts are diverse identities or geographies, keyed by the
    entity holding the billing account (or, when it is not in the input, by each sub-account's
    entity)."""
    entity_of = {a: e.entity_id for e in entities for a in e.accounts}
    subs: dict[str, list[AccountRecord]] = defaultdict(list)
    for record in records.values():
        if record.billing_account_id and record.billing_account_id != record.account_id:
            subs[record.billing_account_id].append(record)
    out: dict[str, dict[str, Any]] = {}
    for billing, members in sorted(subs.items()):
        if len(members) < RESELLER_MIN_SUBACCOUNTS:
            continue
        identities = {entity_of[m.account_id] for m in members}
        countries = Counter(m.country or "??" for m in members)
        if len(identities) < RESELLER_MIN_SUBACCOUNTS and len(countries) < 3:
            continue
        signal = _signal(
            "reseller",
            "high" if len(countries) >= 3 else "medium",
            f"billing account {billing} pays for {len(members)} sub-accounts of "
            f"{len(identities)} distinct entities in {len(countries)} countries",
            {
                "billing_account_id": billing,
                "sub_accounts": sorted(m.account_id for m in members),
                "distinct_entities": len(identities),
                "countries": dict(countries.most_common()),
                "sample_names": sorted({m.name for m in members})[:10],
            },
        )
        holder = entity_of.get(billing)
        for key in [holder] if holder else sorted(identities):
            out.setdefault(key, signal)
    return out


def attach_signals(
    entities: Sequence[Entity],
    records: Mapping[str, AccountRecord],
    usage: Mapping[str, float] | None,
    geoip: GeoIP | None,
) -> None:
    reseller_signals = resellers(entities, records)
    for entity in entities:
        found: list[dict[str, Any] | None] = [reseller_signals.get(entity.entity_id)]
        if usage:
            found.append(structuring(entity, usage))
        if geoip is not None:
            found.append(access_geography(entity, records, geoip))
        found.append(identity_churn(entity, records))
        entity.signals = [s for s in found if s is not None]
