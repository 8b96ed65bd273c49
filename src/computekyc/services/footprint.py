"""What a tenant runs, not only who it says it is: the provider's own records (account e-mail
and website domains, the customer record's domains, resource names and ids, tags, charge
descriptions) matched against the reviewed table of what listed firms run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from computekyc.brands import (
    FootprintHit,
    FootprintMatcher,
    FootprintRow,
    Signal,
    load_rows,
    resolve_listed,
)
from computekyc.bulk import gc_paused
from computekyc.lists import Party
from computekyc.services.scanmemo import (
    FootprintHits,
    footprint_key,
    load_footprint_hits,
    save_footprint_hits,
)
from computekyc.settings import Settings

# Usage columns read, and the signal each is: what the tenant named its resources, its tags and
# labels, and the provider's own charge descriptions.
USAGE_FIELDS = {
    "resource_name": Signal.RESOURCE_NAME,
    "resource": Signal.RESOURCE_NAME,
    "tags": Signal.TAG,
    "charge_description": Signal.DESCRIPTION,
}


@dataclass(slots=True)
class Footprint:
    """The hits per account and per customer, and the listed parties each table row names."""

    accounts: dict[str, list[FootprintHit]] = field(default_factory=dict)
    customers: dict[str, list[FootprintHit]] = field(default_factory=dict)
    listed: dict[str, list[Party]] = field(default_factory=dict)


def usage_texts(
    engine: Any, accounts: set[str], last_day: date
) -> dict[str, list[tuple[str, str]]]:
    """Distinct (column, value) pairs of the footprint columns per account, up to ``last_day``."""
    end = ((last_day - date(1970, 1, 1)).days + 1) * 86400
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for column in USAGE_FIELDS:
        rows = engine.query(
            f"SELECT DISTINCT account, CAST({column} AS VARCHAR) AS value FROM usage "
            f"WHERE {column} IS NOT NULL AND account IS NOT NULL AND start_s < {end}"
        )
        for row in rows:
            if row["account"] in accounts and row["value"]:
                out[row["account"]].append((column, str(row["value"])))
    return dict(out)


_Value = tuple[Signal, str, str]  # (signal, field, value)


def _hits(
    matcher: FootprintMatcher,
    values: Iterable[_Value],
    seen: dict[_Value, list[FootprintHit]],
) -> list[FootprintHit]:
    """The hits of each value, each distinct value matched once per scan (``seen``: charge
    descriptions and tags recur across accounts)."""
    hits: list[FootprintHit] = []
    for key in values:
        found = seen.get(key)
        if found is None:
            signal, where, value = key
            if signal.strong:
                found = matcher.match_domain_value(signal, where, value)
            else:
                found = matcher.match_text(signal, where, value)
            seen[key] = found
        hits.extend(found)
    return hits


def find_footprint(
    settings: Settings,
    accounts: Iterable[Any],
    customers: Iterable[Any],
    usage: dict[str, list[tuple[str, str]]],
    parties: Iterable[Party],
    kept_as: tuple[str, str] | None = None,
) -> Footprint:
    """Match every account's and customer's own records against the table (packaged rows plus
    the analyst's ``$COMPUTEKYC_HOME/listed_footprint.csv``).

    ``kept_as``: (provider, a digest of the accounts, customers and usage texts). The hits are
    a function of those records and the table alone (not of the lists): they are kept for the
    provider's next scan, which takes them while that digest, the table and this code are the
    same; the listed parties each row names are read from ``parties`` every time."""
    rows = load_rows(settings.home)
    with gc_paused():  # many small acyclic values: the cyclic collector would only walk them
        kept = None
        if kept_as is not None:
            provider, records = kept_as
            key = footprint_key(records, repr(rows))
            kept = load_footprint_hits(settings, provider, key)
        found = kept or _match_records(rows, accounts, customers, usage)
        if kept_as is not None and kept is None:
            save_footprint_hits(settings, provider, key, found)
        return Footprint(found.accounts, found.customers, resolve_listed(rows, parties))


def _match_records(
    rows: list[FootprintRow],
    accounts: Iterable[Any],
    customers: Iterable[Any],
    usage: dict[str, list[tuple[str, str]]],
) -> FootprintHits:
    matcher = FootprintMatcher(rows)
    seen: dict[_Value, list[FootprintHit]] = {}
    found = FootprintHits()
    for account in accounts:
        record = account.record
        values: list[tuple[Signal, str, str]] = [
            (Signal.EMAIL_DOMAIN, "emails", contact.value) for contact in record.emails
        ]
        values += [
            (USAGE_FIELDS[column], column, value) for column, value in usage.get(account.id, [])
        ]
        hits = _hits(matcher, values, seen)
        if hits:
            found.accounts[account.id] = hits
    for customer in customers:
        values = [
            (Signal.EMAIL_DOMAIN if "@" in text else Signal.RECORD_DOMAIN, "customer record", text)
            for text in customer.web
        ]
        hits = _hits(matcher, values, seen)
        if hits:
            found.customers[customer.id] = hits
    return found
