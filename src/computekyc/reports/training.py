"""The training-run report: which runs and cumulative crossings a period holds, and who ran them.

Pure logic over what the service layer gathered (the book, the usage runs and daily summary, the
entity assignment, determinations): :func:`candidates` finds every run overlapping the period and
every cumulative threshold crossing (per account and per linked entity) dated in it;
:func:`reasons_to_report` says why one belongs in the report (a threshold crossed, the report
threshold, or a foreign or restricted customer above the floor) — an empty answer leaves it out;
:func:`report_entry` writes one entry of the ``"runs"`` list (the JSON contract of
``docs/schemas/training-runs.schema.json``). Card numbers never appear: payment means are
tokenised fingerprints, masked again in case a provider put a number there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from computekyc.book import BookAccount, BookCustomer
from computekyc.chips import UnknownHardware, assumed_chip, classify, get_chip
from computekyc.ownership import Holder
from computekyc.pii import mask_card_numbers
from computekyc.reports.criteria import TrainingCriteria
from computekyc.usage import Run

UNCLASSIFIED = "(unclassified) "
REPORT_KIND = "computekyc-training-runs/1"


@dataclass(slots=True)
class Candidate:
    """A run, or a cumulative crossing, that may belong in the report."""

    kind: str  # run | cumulative
    accounts: list[str]
    start: str  # ISO 8601 (a day for cumulative entries)
    end: str
    gpu_hours: float
    estimated_operations: float
    chips: dict[str, float]  # chip label → GPU-hours
    crossed: list[dict[str, Any]] = field(default_factory=list)
    run: Run | None = None
    basis: str = "run"  # run | rolling N days | calendar quarter, per account or linked entity
    entity_id: str | None = None

    @property
    def main_chip(self) -> str:
        if not self.chips:
            return "(none)"
        return max(sorted(self.chips), key=lambda c: self.chips[c])

    @property
    def on(self) -> date:
        """The day the entry is determined for: its last day."""
        return date.fromisoformat(self.end[:10])


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _crossed(thresholds: Iterable[Mapping[str, Any]], first: date, last: date) -> list[Any]:
    return [
        dict(t)
        for t in thresholds
        if t.get("status") == "crossed" and t.get("date") and first <= _day(t["date"]) <= last
    ]


def run_candidates(runs: Iterable[Run], first: date, last: date) -> list[Candidate]:
    """Every run overlapping the period, with the thresholds it crossed inside it."""
    out = []
    for run in runs:
        if _day(run.end) < first or _day(run.start) > last:
            continue
        out.append(
            Candidate(
                kind="run",
                accounts=[run.account],
                start=run.start,
                end=run.end,
                gpu_hours=run.gpu_hours,
                estimated_operations=run.estimated_operations,
                chips=dict(run.chips),
                crossed=_crossed(run.thresholds, first, last),
                run=run,
            )
        )
    return out


def _window_start(basis: str, crossed_on: date, window_days: int) -> date:
    if basis.startswith("calendar quarter"):
        return date(crossed_on.year, 3 * ((crossed_on.month - 1) // 3) + 1, 1)
    return crossed_on - timedelta(days=window_days - 1)


def _totals(
    rows: Mapping[str, Mapping[str, Any]], accounts: Iterable[str], start: date, end: date
) -> tuple[float, float, dict[str, float]]:
    """GPU-hours, operations and GPU-hours per chip of the accounts' days from start to end."""
    hours = ops = 0.0
    chips: dict[str, float] = defaultdict(float)
    first, last = start.isoformat(), end.isoformat()
    for account in accounts:
        for day in rows.get(account, {}).get("days", []):
            if first <= day["date"] <= last:
                hours += float(day["gpu_hours"])
                ops += float(day["estimated_operations"])
                for chip, figures in day["by_chip"].items():
                    chips[str(chip)] += float(figures["gpu_hours"])
    return round(hours, 6), ops, {k: round(v, 6) for k, v in sorted(chips.items()) if v}


def cumulative_candidates(
    summary: Iterable[Mapping[str, Any]],
    entity_crossings: Mapping[str, list[dict[str, Any]]],
    entity_accounts: Mapping[str, list[str]],
    first: date,
    last: date,
    window_days: int,
) -> list[Candidate]:
    """Cumulative crossings dated in the period: per account (``summary[i]["thresholds"]``) and
    per linked entity of two or more accounts (``entity_crossings``, from
    ``usage.entity_thresholds``); the figures are the accounts' days in the window or quarter."""
    rows = {str(r["account"]): r for r in summary}
    out: list[Candidate] = []
    groups: list[tuple[str | None, list[str], list[dict[str, Any]]]] = [
        (None, [account], _crossed(row["thresholds"], first, last))
        for account, row in sorted(rows.items())
    ]
    groups += [
        (entity, sorted(entity_accounts[entity]), _crossed(crossings, first, last))
        for entity, crossings in sorted(entity_crossings.items())
        if len(entity_accounts.get(entity, [])) > 1
    ]
    for entity, accounts, crossed in groups:
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for threshold in crossed:
            if threshold["kind"] != "operations":
                continue  # a peak rate is a property of a day, reported with its runs
            by_day[threshold["date"]].append(threshold)
        for crossed_on, found in sorted(by_day.items()):
            # The rolling window and the quarter crossed on one day: one entry over the longer.
            end = _day(crossed_on)
            bases = sorted({t["basis"] for t in found})
            start = min(_window_start(b, end, window_days) for b in bases)
            hours, ops, chips = _totals(rows, accounts, start, end)
            where = f"linked entity {entity}" if entity else "account"
            out.append(
                Candidate(
                    kind="cumulative",
                    accounts=accounts,
                    start=start.isoformat(),
                    end=end.isoformat(),
                    gpu_hours=hours,
                    estimated_operations=ops,
                    chips=chips,
                    crossed=found,
                    basis=f"{' and '.join(bases)}, {where}",
                    entity_id=entity,
                )
            )
    return out


def is_foreign(customer: BookCustomer | None, criteria: TrainingCriteria) -> bool:
    """Foreign unless the customer and its headquarters are both domestic; a run without a
    customer in the book counts as foreign (its person is unknown: never assumed domestic)."""
    if customer is None:
        return True
    root = customer.customer.root
    countries = {c.upper() for c in (root.country, root.headquarters_country) if c}
    return not countries or not countries <= criteria.domestic_countries


def reasons_to_report(
    candidate: Candidate,
    customer: BookCustomer | None,
    status: str,
    criteria: TrainingCriteria,
) -> list[str]:
    """Why the candidate is in the report (empty: it is not)."""
    # A window and a quarter crossed on one day read the same: said once.
    reasons = list(
        dict.fromkeys(
            f"crossed {t['label']} on {t['date']} ({candidate.basis})" for t in candidate.crossed
        )
    )
    ops = candidate.estimated_operations
    if ops >= criteria.report_operations and not any(
        t["kind"] == "operations" and t["threshold"] >= criteria.report_operations
        for t in candidate.crossed
    ):
        reasons.append(f"{ops:.3g} operations: at or above {criteria.report_operations:.0e}")
    if candidate.kind == "run" and ops >= criteria.floor_operations:
        if customer is None:
            reasons.append(
                f"account without a customer in the book, run of {ops:.3g} operations (floor "
                f"{criteria.floor_operations:.0e}): identity unknown"
            )
        elif is_foreign(customer, criteria):
            root = customer.customer.root
            where = "/".join(sorted({c for c in (root.country, root.headquarters_country) if c}))
            reasons.append(
                f"foreign customer ({where or 'country unknown'}), run of {ops:.3g} operations "
                f"(floor {criteria.floor_operations:.0e})"
            )
        if status in criteria.restricted_statuses:
            reasons.append(
                f"customer determined {status}, run of {ops:.3g} operations "
                f"(floor {criteria.floor_operations:.0e})"
            )
    return reasons


def _owners(holder: Holder, path: list[str]) -> Iterable[dict[str, Any]]:
    for owner in holder.owners:
        chain = [*path, owner.name]
        yield {
            "name": owner.name,
            "type": owner.type,
            "country": owner.country,
            "headquarters_country": owner.headquarters_country,
            "share": owner.share,
            "relation": owner.relation,
            "identifiers": dict(owner.identifiers),
            "path": " > ".join(chain),
            "origin": owner.origin,
        }
        yield from _owners(owner, chain)


def customer_identity(customer: BookCustomer, in_book: bool) -> dict[str, Any]:
    """The customer as the book holds it: names, country, addresses, identifiers, every owner
    (declared, to the top) and director; ``matches_book`` is false when the folder's record is
    not the one the latest scan imported."""
    root = customer.customer.root
    return {
        "id": customer.id,
        "name": root.name,
        "other_names": list(customer.other_names),
        "type": root.type,
        "country": root.country,
        "headquarters_country": root.headquarters_country,
        "addresses": list(customer.customer.addresses),
        "identifiers": dict(root.identifiers),
        "beneficial_owners": list(_owners(root, [root.name])),
        "directors": list(root.directors),
        "web": list(customer.web),
        "record": {"file": customer.customer.source_file, "line": customer.customer.line},
        "content_hash": customer.content_hash,
        "matches_book": in_book,
    }


def account_identity(account: BookAccount, entity_id: str | None, in_book: bool) -> dict[str, Any]:
    """An account as the book holds it: holder, contacts, payment means by fingerprint only,
    beneficial owners, and every access (IP address, time, action)."""
    record = account.record
    return {
        "id": account.id,
        "name": record.name,
        "type": record.type,
        "country": record.country,
        "customer_id": record.customer_id,
        "billing_account_id": record.billing_account_id,
        "created_at": record.created_at,
        "emails": [{"value": c.value, "verified": c.verified} for c in record.emails],
        "phones": [{"value": c.value, "verified": c.verified} for c in record.phones],
        "addresses": list(record.addresses),
        "payment_fingerprints": [mask_card_numbers(p) for p in record.payment_fingerprints],
        "beneficial_owners": list(record.beneficial_owners),
        "declared_use": record.declared_use,
        "access": [{"ip": e.ip, "at": e.ts, "action": e.action} for e in record.ip_log],
        "entity_id": entity_id,
        "content_hash": account.content_hash,
        "matches_book": in_book,
    }


def chip_rows(chips: Mapping[str, float], on: date) -> list[dict[str, Any]]:
    """Each chip with its GPU-hours and its classification on the day (ECCN, status, rule
    version); hardware the catalogue does not know is shown at its assumed chip, as review."""
    out = []
    for label, hours in sorted(chips.items(), key=lambda kv: (-kv[1], kv[0])):
        assumed = None
        try:
            if label.startswith(UNCLASSIFIED):
                assumed = assumed_chip(label[len(UNCLASSIFIED) :].strip() or None)
                chip = assumed.chip
            else:
                chip = get_chip(label)
        except UnknownHardware:
            out.append(
                {
                    "chip": label,
                    "gpu_hours": hours,
                    "eccn": None,
                    "status": "review",
                    "note": "not in the chip catalogue",
                }
            )
            continue
        verdict = classify(chip, on)
        row: dict[str, Any] = {
            "chip": label,
            "gpu_hours": hours,
            "vendor": chip.vendor,
            "model": chip.name,
            "eccn": verdict.eccn,
            "system_eccn": verdict.system_eccn,
            "status": "review" if assumed else verdict.status,
            "rule_version": verdict.rule_version,
            "flags": list(verdict.flags),
        }
        if assumed is not None:
            row["note"] = f"unknown hardware counted as {chip.id} (vendor class)"
        out.append(row)
    return out


def method(candidate: Candidate, default_utilisation: float) -> dict[str, Any]:
    """How the operations were estimated, in words and figures."""
    run = candidate.run
    basis = (
        run.operations_basis["estimated_operations"]
        if run is not None and run.operations_basis
        else (
            "dense ops/s at the training precision x GPU-seconds x tensor-active "
            "(or the default utilisation), summed per day"
        )
    )
    out: dict[str, Any] = {
        "basis": basis,
        "default_utilisation": default_utilisation,
        "cumulative_basis": candidate.basis,
    }
    if run is not None:
        telemetry = run.features.get("telemetry_coverage")
        tensor = run.features.get("tensor_active")
        out |= {
            "precisions": run.precisions,
            "telemetry_coverage": telemetry,
            "tensor_active": tensor,
            "utilisation_used": tensor if tensor is not None else default_utilisation,
            "class": run.cls,
            "class_reasons": list(run.reasons),
            "peak_gpus": run.gpus,
            "peak_ops_per_second": run.peak_ops_per_second,
            "in_progress": run.in_progress,
            "flags": run.flags,
        }
    return out


def report_entry(
    candidate: Candidate,
    reasons: list[str],
    customer: dict[str, Any] | None,
    accounts: list[dict[str, Any]],
    entity: dict[str, Any] | None,
    determination: dict[str, Any],
    snapshot: dict[str, Any],
    rule_versions: dict[str, Any],
    default_utilisation: float,
) -> dict[str, Any]:
    """One entry of ``"runs"`` (the exact keys of the schema, and a few more)."""
    return {
        "kind": candidate.kind,
        "id": (
            f"{candidate.accounts[0]}#run{candidate.run.run}"
            if candidate.run is not None
            else f"{candidate.entity_id or candidate.accounts[0]}@{candidate.end[:10]}"
        ),
        "reasons": reasons,
        "customer": customer,
        "accounts": accounts,
        "linked_entity": entity,
        "chips": chip_rows(candidate.chips, candidate.on),
        "gpu_hours": candidate.gpu_hours,
        "estimated_operations": candidate.estimated_operations,
        "method": method(candidate, default_utilisation),
        "start": candidate.start,
        "end": candidate.end,
        "thresholds_crossed": candidate.crossed,
        "determination": determination,
        "snapshot": snapshot,
        "rule_versions": rule_versions,
    }
