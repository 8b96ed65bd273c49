"""Plain data of the ownership domain: customers with declared owners, graph edges, list entries.

Everything here is a frozen or plain dataclass with no IO, so the engines stay pure and every
determination can be rebuilt from its inputs.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from computekyc.screening import Explanation


class Status(StrEnum):
    """A determination's answer, least to most severe (a str: JSON and comparisons see text)."""

    CLEAR = "clear"
    REVIEW = "review"
    LICENSE_REQUIRED = "license_required"
    BLOCKED = "blocked"


STATUS_ORDER = tuple(Status)
_RANK: dict[str, int] = {status: rank for rank, status in enumerate(STATUS_ORDER)}  # str keys


def worst(*statuses: str) -> Status:
    """The most severe of the given statuses (``clear`` when none)."""
    top = 0
    for status in statuses:
        rank = _RANK.get(status)
        if rank is None:
            rank = _RANK[Status(status)]  # not a status: ValueError
        if rank > top:
            top = rank
    return STATUS_ORDER[top]


def list_day(value: str | None, *, latest: bool = False) -> date | None:
    """A list's date (ISO, or partial "2019" / "2019-05") as the earliest day it can mean, or the
    latest with ``latest``; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 and parts[1] else None
        if not 1000 <= year <= 9999 or (month is not None and not 1 <= month <= 12):
            return None
    except ValueError:
        return None
    if not latest:
        return date(year, month or 1, 1)
    last_month = month or 12
    return date(year, last_month, calendar.monthrange(year, last_month)[1])


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One restricted-party listing a node was matched to, with the evidence of the match."""

    party_id: str
    source: str
    name: str
    score: float
    matched_name: str = ""
    programs: tuple[str, ...] = ()
    snapshot_id: str | None = None
    license_requirement: str | None = None
    license_policy: str | None = None
    how: str = "name"  # name, identifier, graph
    listed_on: str | None = None  # ISO dates as the list states them
    delisted_on: str | None = None
    # What the list says about the party, to corroborate a name match with a second attribute.
    party_type: str | None = None
    dates_of_birth: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # nationality, citizenship and address countries
    identifiers: tuple[tuple[str, str], ...] = ()
    # Each part of the matched name → how many listed individuals bear it (name commonness).
    name_parts: tuple[tuple[str, int], ...] = ()
    explanation: Explanation | None = field(default=None, compare=False)

    def in_force(self, on: date) -> bool:
        """Whether the listing stood on a date: listed by then and not yet removed.

        Fail safe: a listing whose date is missing or unreadable stands (see :meth:`date_note`);
        a partial date counts from its earliest day and is removed only after its latest.
        """
        listed = list_day(self.listed_on)
        if listed is not None and listed > on:
            return False
        removed = list_day(self.delisted_on, latest=True)
        return not (removed is not None and removed <= on)

    def date_note(self) -> str:
        """How the listing is dated, for evidence: "listed 2020-05-22" or "listing date unknown"."""
        if not self.listed_on:
            return "listing date unknown"
        if list_day(self.listed_on) is None:
            return f"listing date unknown (unreadable {self.listed_on!r})"
        return f"listed {self.listed_on}"

    def describe(self) -> str:
        """One line of evidence: list, id, name, how it matched, and the listing's date."""
        return (
            f"{self.source} {self.party_id} {self.name!r} ({self.how} match {self.score:.2f}; "
            f"{self.date_note()})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "source": self.source,
            "name": self.name,
            "matched_name": self.matched_name,
            "score": round(self.score, 4),
            "programs": list(self.programs),
            "snapshot_id": self.snapshot_id,
            "how": self.how,
            "listed_on": self.listed_on,
            "delisted_on": self.delisted_on,
            "listing_date": self.date_note(),
            "explanation": None if self.explanation is None else self.explanation.to_dict(),
        }


@dataclass(slots=True)
class Holder:
    """A node in a customer's ownership tree: the customer itself or one (indirect) owner.

    ``share`` is the percent this node holds in its child (None when unknown, e.g. a GLEIF
    accounting-consolidation parent or a 1260H parent named without a share).
    """

    name: str
    type: str = "entity"
    country: str | None = None
    headquarters_country: str | None = None
    share: float | None = None
    # owner (a stake), parent or ultimate_parent (declared control, share or not), or the
    # relation of the graph edge it came from.
    relation: str = "owner"
    date_of_birth: str | None = None
    owners: list[Holder] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    directors: list[str] = field(default_factory=list)
    origin: str = "declared"  # declared, gleif, list-parent, ftm
    evidence: str = ""  # where a non-declared edge came from
    listings: list[ListEntry] = field(default_factory=list)
    possible: list[ListEntry] = field(default_factory=list)
    lapsed: list[ListEntry] = field(default_factory=list)  # matched, but not listed on the date
    # Name matches a second attribute did not corroborate: (entry, why) — review, not a listing.
    uncorroborated: list[tuple[ListEntry, str]] = field(default_factory=list)
    graph_key: str | None = None  # the graph node this holder was read from


@dataclass(slots=True)
class Customer:
    """One customer record from the provider's CIP data (one JSON line)."""

    id: str
    root: Holder
    addresses: list[str] = field(default_factory=list)
    line: int | None = None
    source_file: str | None = None


@dataclass(frozen=True, slots=True)
class InputError:
    """A bad customer line: the file, the line, the field and what is wrong with it."""

    file: str
    line: int
    field: str
    message: str
    id: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: field {self.field!r}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": "error",
            "error": {
                "file": self.file,
                "line": self.line,
                "field": self.field,
                "message": self.message,
            },
        }


@dataclass(frozen=True, slots=True)
class Edge:
    """A parent→child ownership/control edge from a data source, valid over a date range."""

    parent: str  # node key
    child: str
    share: float | None
    relation: str  # owner, parent, consolidated-by, ultimately-consolidated-by, director-of
    source: str  # FTM, GLEIF-API, GLEIF-RR, 1260H, EL …
    valid_from: date | None = None
    valid_to: date | None = None
    evidence: str = ""
    problem: str | None = None  # what is wrong with the stated data (e.g. a share of 5000%)

    def valid_on(self, on: date) -> bool:
        if self.valid_from and on < self.valid_from:
            return False
        return not (self.valid_to and on > self.valid_to)


@dataclass(frozen=True, slots=True)
class Node:
    """An entity or person known to the ownership graph (a LEI record, an FtM entity …)."""

    key: str
    name: str
    type: str = "entity"
    country: str | None = None
    headquarters_country: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    source: str = ""


@dataclass(slots=True)
class RuleResult:
    """One rule's outcome for one customer on one date."""

    rule: str
    version: str
    title: str
    in_force: bool
    why_in_force: str
    applies: bool
    status: Status
    reason: str
    paths: list[list[dict[str, Any]]] = field(default_factory=list)
    entries: list[ListEntry] = field(default_factory=list)
    red_flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "version": self.version,
            "title": self.title,
            "in_force": self.in_force,
            "why_in_force": self.why_in_force,
            "applied": self.applies,
            "status": str(self.status),
            "reason": self.reason,
            "paths": self.paths,
            "list_entries": [e.to_dict() for e in self.entries],
            "red_flags": self.red_flags,
        }


@dataclass(slots=True)
class Determination:
    """Status of one customer for one item on one date, with every rule and its evidence."""

    id: str
    status: Status
    rules: list[RuleResult]
    explanation: str
    item: dict[str, Any]
    as_of: date
    rules_version: str
    snapshot_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": str(self.status),
            "rules": [r.to_dict() for r in self.rules],
            "explanation": self.explanation,
            "item": self.item,
            "as_of": self.as_of.isoformat(),
            "rules_version": self.rules_version,
            "snapshot_id": self.snapshot_id,
        }
