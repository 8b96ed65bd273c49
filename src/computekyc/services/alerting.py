"""From a scan's findings to alert drafts: one function per engine, each with its evidence.

Every draft has a stable discriminator (the listed party, the rule, the threshold, the linked
customer…) so that an unchanged scan raises exactly the drafts it raised before, and evidence
that is a pure function of the inputs (no times, no scan ids), so that it does not update them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from computekyc.alerts import AlertDraft, AlertType, Severity, Subject, SubjectKind
from computekyc.book import Book, BookCustomer
from computekyc.brands import FootprintHit
from computekyc.bulk import gc_paused
from computekyc.lists.model import Party
from computekyc.ownership import Determination, Holder, RuleResult, RuleSet
from computekyc.screening import entity_key
from computekyc.services.determination import CustomerDetermination, holder_queries
from computekyc.services.footprint import Footprint
from computekyc.services.indexes import LoadedIndex
from computekyc.services.screening import HitRecord, NameQuery, query_key
from computekyc.usage import Run

RESTRICTED = ("blocked", "license_required")
# Determination rules whose application is an alert of its own (listed_customer is raised as
# restricted_party_match with the screening hit's explanation).
RULE_ALERTS = {
    "ofac_50": (AlertType.OWNERSHIP_BLOCKED, Severity.CRITICAL),
    "bis_affiliates": (AlertType.AFFILIATES_RULE, Severity.HIGH),
    "hq_advanced_computing": (AlertType.HEADQUARTERS_D5, Severity.HIGH),
}
SIGNAL_ALERTS = {
    "reseller": AlertType.RESELLER,
    "structuring": AlertType.STRUCTURING,
    "access_geography": AlertType.ACCESS_GEOGRAPHY,
    "identity_churn": AlertType.IDENTITY_CHURN,
}


@dataclass(slots=True)
class ScanFacts:
    book: Book
    as_of: date
    rules: RuleSet
    loaded: LoadedIndex
    hits: dict[str, list[HitRecord]]
    # Per customer; a customer left out was determined clear (see raises_drafts).
    determinations: dict[str, CustomerDetermination]
    usage: dict[str, dict[str, Any]]  # account → usage summary (totals, by chip, by day)
    runs: list[Run]
    unknown_hardware: dict[str, list[dict[str, Any]]]
    entities: list[dict[str, Any]]
    footprint: Footprint = field(default_factory=Footprint)
    # Customers no query of whose declared tree (holder_queries) has a hit: only their other
    # names can still match (the scan knows them from its list-reach check).
    quiet_trees: Container[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Role:
    """Who a screened name is, relative to the subject: the customer, an owner, a director…"""

    role: str
    query: NameQuery
    severity: Severity
    share: float | None = None


def _holder_roles(holder: Holder, depth: int) -> Iterator[Role]:
    if depth:
        yield Role(
            "owner",
            NameQuery(holder.name, holder.country, holder.type),
            Severity.HIGH,
            holder.share,
        )
    for director in holder.directors:
        yield Role("director", NameQuery(director, None, "individual"), Severity.MEDIUM)
    for owner in holder.owners:
        if owner.origin == "declared":
            yield from _holder_roles(owner, depth + 1)


def customer_roles(customer: BookCustomer) -> list[Role]:
    root = customer.customer.root
    roles = [Role("customer", NameQuery(root.name, root.country, root.type), Severity.CRITICAL)]
    roles += [
        Role("customer (other name)", NameQuery(n, root.country, root.type), Severity.CRITICAL)
        for n in customer.other_names
    ]
    return roles + list(_holder_roles(root, 0))


def _holder_keys(holder: Holder, depth: int) -> Iterator[str]:
    """The query keys of :func:`_holder_roles`, without building the roles."""
    if depth:
        yield query_key(holder.name, holder.country, holder.type)
    for director in holder.directors:
        yield query_key(director, None, "individual")
    for owner in holder.owners:
        if owner.origin == "declared":
            yield from _holder_keys(owner, depth + 1)


def customer_keys(customer: BookCustomer) -> Iterator[str]:
    """The query keys of :func:`customer_roles`, without building the roles."""
    root = customer.customer.root
    yield query_key(root.name, root.country, root.type)
    for name in customer.other_names:
        yield query_key(name, root.country, root.type)
    yield from _holder_keys(root, 0)


def account_matched(record: Any, hits: Mapping[str, list[HitRecord]]) -> bool:
    """Whether a query of :func:`account_roles` has a hit, without building the roles."""
    kind = "individual" if record.type == "individual" else "entity"
    if hits.get(query_key(record.name, record.country, kind)):
        return True
    owners = record.beneficial_owners  # mostly none: no generator made for them
    return bool(owners) and any(hits.get(query_key(owner, None, None)) for owner in owners)


def customer_matched(
    customer: BookCustomer, hits: Mapping[str, list[HitRecord]], quiet_tree: bool
) -> bool:
    """Whether a query of :func:`customer_roles` has a hit; of a quiet tree (no query of
    :func:`holder_queries` has one, and those of the roles are among them) only the other
    names are asked."""
    if not quiet_tree:
        return any(hits.get(key) for key in customer_keys(customer))
    root = customer.customer.root
    return any(hits.get(query_key(n, root.country, root.type)) for n in customer.other_names)


def customer_queries(customer: BookCustomer) -> Iterable[NameQuery]:
    yield from holder_queries(customer.customer.root)
    root = customer.customer.root
    for name in customer.other_names:
        yield NameQuery(name, root.country, root.type)


def account_roles(record: Any) -> list[Role]:
    kind = "individual" if record.type == "individual" else "entity"
    roles = [
        Role("account holder", NameQuery(record.name, record.country, kind), Severity.CRITICAL)
    ]
    roles += [
        Role("beneficial owner", NameQuery(owner, None, None), Severity.HIGH)
        for owner in record.beneficial_owners
    ]
    return roles


def in_force(party: Party | None, on: date) -> bool:
    """Whether a listing is in force on a day (no listing known: yes, fail safe)."""
    if party is None:
        return True
    day = on.isoformat()
    if party.listed_on and party.listed_on[:10] > day:
        return False
    return not (party.delisted_on and party.delisted_on[:10] <= day)


def _match_drafts(facts: ScanFacts, subject: Subject, roles: list[Role]) -> Iterator[AlertDraft]:
    """One alert per listed entity per person of the subject (the customer under any of its
    names, each owner, each director): a 1260H entity's tranche rows fold into one, and every
    row and name that matched stays in the evidence with its explanation."""
    groups: dict[tuple[str, str], list[tuple[Role, HitRecord]]] = {}
    for role in roles:
        who = role.role.split(" (")[0] if role.role.startswith("customer") else role.role
        person = who if who in ("customer", "account holder") else f"{who}:{role.query.name}"
        for hit in facts.hits.get(role.query.key, []):
            if float(hit["score"]) < facts.rules.match_threshold:
                continue
            if not in_force(facts.loaded.parties.get(hit["party_id"]), facts.as_of):
                continue
            listed, _ = entity_key(hit["source"], hit["party_id"])
            groups.setdefault((person, f"{hit['source']}:{listed}"), []).append((role, hit))
    for (person, listed), found in groups.items():
        found.sort(key=lambda rh: (-float(rh[1]["score"]), rh[1]["party_id"], rh[0].query.name))
        role, best = found[0]
        who = f"{role.role} {role.query.name!r}"
        if role.share is not None:
            who += f" ({role.share:g}%)"
        rows = len({h["party_id"] for _, h in found})
        yield AlertDraft(
            type=AlertType.RESTRICTED_PARTY_MATCH,
            severity=min((r.severity for r, _ in found), key=lambda s: s.rank),
            subject=subject,
            summary=(
                f"{who} matches {best['source']} {best['name']!r} (score "
                f"{float(best['score']):.2f}" + (f", {rows} listed rows)" if rows > 1 else ")")
            ),
            evidence={
                "role": role.role,
                "name": role.query.name,
                "country": role.query.country,
                "share": role.share,
                "hits": [
                    {
                        "name": r.query.name,
                        "role": r.role,
                        "hit": h,
                        "listing": _listing(facts.loaded.parties.get(h["party_id"])),
                    }
                    for r, h in found
                ],
                "snapshot": facts.loaded.snapshot,
            },
            discriminator=f"{person}|{listed}",
        )


def _listing(party: Party | None) -> dict[str, Any] | None:
    if party is None:
        return None
    return {
        "party_id": party.party_id,
        "source": party.source,
        "programs": list(party.programs),
        "listed_on": party.listed_on,
        "delisted_on": party.delisted_on,
        "license_requirement": party.license_requirement,
        "source_file": party.source_file,
        "source_line": party.source_line,
    }


def raises_drafts(result: CustomerDetermination) -> bool:
    """Whether a customer's determinations can raise anything: a rule of :data:`RULE_ALERTS`
    applied, or a status other than clear (review, restricted: also the rental and linked
    alerts). A clear determination raises nothing, so a scan need not keep it."""
    return result.worst.status != "clear" or any(
        r.applies and r.rule in RULE_ALERTS for d in result.determinations for r in d.rules
    )


def _without_snapshots(value: Any) -> Any:
    """Evidence without the snapshot its list entries were read from: what a decision rests on.
    A new snapshot with the same listings changes nothing (a decided or suppressed alert stays
    so); a listing that changed still shows in its name, programs, dates or score."""
    if isinstance(value, dict):
        return {k: _without_snapshots(v) for k, v in value.items() if k != "snapshot_id"}
    if isinstance(value, list):
        return [_without_snapshots(v) for v in value]
    return value


def _rule_drafts(subject: Subject, result: CustomerDetermination) -> Iterator[AlertDraft]:
    # Of each rule of RULE_ALERTS, the first determination (and in it the first result) that
    # applied it: one pass over the results.
    first: dict[str, tuple[Determination, RuleResult]] = {}
    for det in result.determinations:
        for r in det.rules:
            if r.applies and r.rule in RULE_ALERTS and r.rule not in first:
                first[r.rule] = (det, r)
    for rule, (kind, severity) in RULE_ALERTS.items():
        if rule in first:
            det, applied = first[rule]
            evidence = {
                "rule": applied.to_dict(),
                "item": det.item,
                "status": det.status,
                "as_of": det.as_of.isoformat(),
                "rules_version": det.rules_version,
            }
            yield AlertDraft(
                type=kind,
                severity=severity,
                subject=subject,
                summary=f"{applied.title}: {applied.reason}",
                evidence=evidence,
                discriminator=rule,
                material=_without_snapshots(evidence),
            )
    worst = result.worst
    if worst.status == "review":
        findings = [r.to_dict() for r in worst.rules if r.status == "review"]
        review: dict[str, Any] = {
            "findings": findings,
            "item": worst.item,
            "as_of": worst.as_of.isoformat(),
        }
        yield AlertDraft(
            type=AlertType.DETERMINATION_REVIEW,
            severity=Severity.MEDIUM,
            subject=subject,
            summary=worst.explanation,
            evidence=review,
            material=_without_snapshots(review),
        )


def _listing_date(det: Determination, on: date) -> str | None:
    """Since when the customer has been restricted: the earliest listing behind an applied
    rule; None (the whole period) when the restriction rests on no listing (headquarters) or on
    a listing whose date is unknown (it may be older than every dated one: fail safe)."""
    applied = [r for r in det.rules if r.applies and r.status in RESTRICTED]
    entries = [e for r in applied for e in r.entries]
    if any(not r.entries for r in applied) or any(not e.listed_on for e in entries):
        return None
    return min((e.listed_on or "")[:10] for e in entries) if entries else None


def _controlled_since(
    facts: ScanFacts, accounts: list[str], since: str | None
) -> tuple[float, dict[str, float], dict[str, float]]:
    total = 0.0
    by_account: dict[str, float] = {}
    by_chip: dict[str, float] = defaultdict(float)
    for account in accounts:
        row = facts.usage.get(account)
        if row is None:
            continue
        hours = 0.0
        for day in row["days"]:
            if since is not None and day["date"] < since:
                continue
            for chip, figures in day["by_chip"].items():
                value = float(figures["controlled_gpu_hours"] or 0.0)
                hours += value
                by_chip[str(chip)] += value
        if hours > 0:
            by_account[account] = round(hours, 3)
            total += hours
    return round(total, 3), by_account, {k: round(v, 3) for k, v in by_chip.items() if v > 0}


def _rental_draft(
    facts: ScanFacts, subject: Subject, result: CustomerDetermination, accounts: list[str]
) -> AlertDraft | None:
    worst = result.worst
    if worst.status not in RESTRICTED:
        return None
    since = _listing_date(worst, facts.as_of)
    total, by_account, by_chip = _controlled_since(facts, accounts, since)
    if total <= 0:
        return None
    return AlertDraft(
        type=AlertType.CONTROLLED_RENTAL,
        severity=Severity.CRITICAL,
        subject=subject,
        summary=(
            f"{worst.status} customer used {total:,.1f} controlled GPU-hours"
            + (f" since its listing on {since}" if since else "")
            + f" (as of {facts.as_of})"
        ),
        evidence={
            "status": worst.status,
            "since": since,
            "period": (
                f"from the listing on {since} to {facts.as_of}"
                if since
                else f"the whole period to {facts.as_of} (the restriction has no listing date)"
            ),
            "controlled_gpu_hours": total,
            "by_account": by_account,
            "by_chip": by_chip,
            "explanation": worst.explanation,
        },
    )


def _training_drafts(facts: ScanFacts, restricted_accounts: set[str]) -> Iterator[AlertDraft]:
    crossed: dict[tuple[str, str, float], list[dict[str, Any]]] = defaultdict(list)
    for run in facts.runs:
        for threshold in run.thresholds:
            if threshold["status"] != "crossed":
                continue
            crossed[(run.account, threshold["kind"], float(threshold["threshold"]))].append(
                {
                    "run": run.run,
                    "class": run.cls,
                    "chip": run.chip,
                    "gpus": run.gpus,
                    "start": run.start,
                    "end": run.end,
                    "in_progress": run.in_progress,
                    "estimated_operations": run.estimated_operations,
                    "peak_ops_per_second": run.peak_ops_per_second,
                    "crossed_on": threshold["date"],
                    "reasons": run.reasons,
                }
            )
    for (account, kind, limit), found in sorted(crossed.items()):
        unit = "operations" if kind == "operations" else "operations/s"
        severity = Severity.HIGH if kind != "operations" or limit >= 1e25 else Severity.MEDIUM
        if account in restricted_accounts:
            severity = Severity.CRITICAL
        first = min(r["crossed_on"] or "" for r in found)
        yield AlertDraft(
            type=AlertType.TRAINING_THRESHOLD,
            severity=severity,
            subject=Subject(SubjectKind.ACCOUNT, account),
            summary=f"{len(found)} run(s) crossed {limit:.0e} {unit} (first on {first})",
            evidence={"threshold": limit, "kind": kind, "runs": found},
            discriminator=f"{kind}:{limit:g}",
        )


def _footprint_drafts(
    subject: Subject, hits: list[FootprintHit], listed: dict[str, list[Party]]
) -> Iterator[AlertDraft]:
    """One alert per listed firm whose domains or products the subject's own records carry:
    high when an e-mail, website or record domain is the firm's, medium for resource names,
    tags and charge descriptions."""
    by_firm: dict[str, list[FootprintHit]] = defaultdict(list)
    for hit in hits:
        by_firm[hit.row.listed_name].append(hit)
    for firm, firm_hits in sorted(by_firm.items()):
        strong = any(h.signal.strong for h in firm_hits)
        parties = listed.get(firm, [])
        shown = sorted({f"{h.field}: {h.matched}" for h in firm_hits})
        yield AlertDraft(
            type=AlertType.LISTED_BRAND_OR_DOMAIN,
            severity=Severity.HIGH if strong else Severity.MEDIUM,
            subject=subject,
            summary=(
                f"uses what {firm} runs ({'; '.join(shown[:3])}"
                + (f"; +{len(shown) - 3} more" if len(shown) > 3 else "")
                + ")"
                + ("" if parties else " — the listed party is not in this snapshot: review")
            ),
            evidence={
                "listed_name": firm,
                "listed_parties": [
                    {"party_id": p.party_id, "source": p.source, "name": p.name} for p in parties
                ],
                "hits": [h.to_dict() for h in firm_hits],
            },
            discriminator=firm,
            material={
                "parties": sorted(p.party_id for p in parties),
                "hits": sorted({(h.field, h.matched, h.row.origin) for h in firm_hits}),
            },
        )


def _linked_draft(
    account: str,
    records: dict[str, Any],
    entity: dict[str, Any],
    to_what: str,
    evidence: dict[str, Any],
    discriminator: str,
) -> AlertDraft:
    """An account linked (one entity) to something restricted: a restricted customer's
    accounts, or an account that uses what a listed firm runs."""
    entity_id = str(entity["entity_id"])
    return AlertDraft(
        type=AlertType.LINKED_TO_RESTRICTED,
        severity=Severity.HIGH,
        subject=Subject(
            SubjectKind.ACCOUNT, account, records[account].name if account in records else None
        ),
        summary=f"linked (entity {entity_id}) to {to_what}",
        evidence={"entity_id": entity_id, **evidence, "links": entity.get("links", [])},
        discriminator=discriminator,
    )


def build_drafts(facts: ScanFacts) -> list[AlertDraft]:
    # The drafts and their evidence are acyclic: the cyclic collector would only walk the heap.
    with gc_paused():
        return _build_drafts(facts)


def _build_drafts(facts: ScanFacts) -> list[AlertDraft]:
    drafts: list[AlertDraft] = []
    hits = facts.hits
    accounts_of: dict[str, list[str]] = defaultdict(list)
    records: dict[str, Any] = {}
    for account in facts.book.accounts:
        account_id, record = account.id, account.record
        records[account_id] = record
        if record.customer_id:
            accounts_of[record.customer_id].append(account_id)
    restricted: dict[str, str] = {}  # customer → why
    quiet = facts.quiet_trees
    for customer in facts.book.customers:
        # Most subjects have nothing: no hit (their roles are built only when one of them has),
        # no footprint, a determination that raises nothing (clear, no alerting rule applied).
        matched = customer_matched(customer, hits, customer.id in quiet)
        web_hits = facts.footprint.customers.get(customer.id)
        result = facts.determinations.get(customer.id)
        if not (matched or web_hits or (result is not None and raises_drafts(result))):
            continue
        subject = Subject(SubjectKind.CUSTOMER, customer.id, customer.customer.root.name)
        matches = list(_match_drafts(facts, subject, customer_roles(customer))) if matched else []
        drafts.extend(matches)
        if web_hits:
            drafts.extend(_footprint_drafts(subject, web_hits, facts.footprint.listed))
        if result is not None:
            drafts.extend(_rule_drafts(subject, result))
            if result.worst.status in RESTRICTED:
                rental = _rental_draft(facts, subject, result, sorted(accounts_of[customer.id]))
                if rental is not None:
                    drafts.append(rental)
        if result is not None and result.worst.status in RESTRICTED:
            restricted[customer.id] = f"determination {result.worst.status}"
        elif any(d.evidence["role"].startswith("customer") for d in matches):
            restricted[customer.id] = "the customer matches a listed party"
    restricted_accounts = {a for c in restricted for a in accounts_of.get(c, ())}
    footprint_accounts, unknown_hardware = facts.footprint.accounts, facts.unknown_hardware
    for account_id, record in records.items():
        matched = account_matched(record, hits)
        account_hits = footprint_accounts.get(account_id)
        unknown = unknown_hardware.get(account_id)
        if not (matched or account_hits or unknown):
            continue
        subject = Subject(SubjectKind.ACCOUNT, account_id, record.name)
        if matched:
            drafts.extend(_match_drafts(facts, subject, account_roles(record)))
        if account_hits:
            drafts.extend(_footprint_drafts(subject, account_hits, facts.footprint.listed))
        if unknown:
            drafts.append(
                AlertDraft(
                    type=AlertType.UNCLASSIFIED_HARDWARE,
                    severity=Severity.LOW,
                    subject=subject,
                    summary=(
                        "usage on hardware the chip catalogue does not know: "
                        + ", ".join(u["hardware_name"] for u in unknown)
                    ),
                    evidence={"hardware": unknown},
                )
            )
    drafts.extend(_training_drafts(facts, restricted_accounts))
    for entity in facts.entities:
        entity_id = str(entity["entity_id"])
        members = list(entity["accounts"])
        for signal in entity.get("signals", []):
            kind = SIGNAL_ALERTS.get(signal["kind"])
            if kind is None:
                continue
            drafts.append(
                AlertDraft(
                    type=kind,
                    severity=Severity(signal["severity"]),
                    subject=Subject(SubjectKind.ENTITY, entity_id),
                    summary=signal["summary"],
                    evidence={"signal": signal, "accounts": members},
                )
            )
        for source_account in members:
            source_hits = facts.footprint.accounts.get(source_account)
            if not source_hits:
                continue
            firms = sorted({h.row.listed_name for h in source_hits})
            if source_account in restricted_accounts:
                continue  # a restricted customer's links are raised below, once
            for account in members:
                if account == source_account:
                    continue
                drafts.append(
                    _linked_draft(
                        account,
                        records,
                        entity,
                        f"account {source_account}, which uses what {', '.join(firms)} run(s)",
                        {"footprint_account": source_account, "listed_firms": firms},
                        f"footprint:{source_account}",
                    )
                )
        linked = sorted(
            {
                str(records[a].customer_id)
                for a in members
                if a in restricted_accounts and records[a].customer_id is not None
            }
        )
        if not linked:
            continue
        for account in members:
            own = records[account].customer_id if account in records else None
            for customer_id in linked:
                if own == customer_id:
                    continue
                why = restricted[str(customer_id)]
                drafts.append(
                    _linked_draft(
                        account,
                        records,
                        entity,
                        f"accounts of customer {customer_id}: {why}",
                        {"restricted_customer": customer_id, "why": why, "account_customer": own},
                        str(customer_id),
                    )
                )
    return drafts
