"""Plain data of the ownership domain: customers with declared owners, graph edges, list entries.

Everything here is a frozen or plain dataclass with no IO, so the engines stay pure and every
determination can be rebuilt from its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

STATUS_ORDER = ("clear", "review", "license_required", "blocked")


def worst(*statuses: str) -> str:
    """The most severe of the given statuses (``clear`` when none)."""
    return max(statuses, key=STATUS_ORDER.index, default="clear")


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

    def in_force(self, on: date) -> bool:
        """Whether the listing stood on a date: listed by then and not yet removed."""
        day = on.isoformat()
        if self.listed_on and self.listed_on[:10] > day:
            return False
        return not (self.delisted_on and self.delisted_on[:10] <= day)

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
    owners: list[Holder] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    directors: list[str] = field(default_factory=list)
    origin: str = "declared"  # declared, gleif, list-parent, ftm
    evidence: str = ""  # where a non-declared edge came from
    listings: list[ListEntry] = field(default_factory=list)
    possible: list[ListEntry] = field(default_factory=list)
    lapsed: list[ListEntry] = field(default_factory=list)  # matched, but not listed on the date


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
    status: str
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
            "status": self.status,
            "reason": self.reason,
            "paths": self.paths,
            "list_entries": [e.to_dict() for e in self.entries],
            "red_flags": self.red_flags,
        }


@dataclass(slots=True)
class Determination:
    """Status of one customer for one item on one date, with every rule and its evidence."""

    id: str
    status: str
    rules: list[RuleResult]
    explanation: str
    item: dict[str, Any]
    as_of: date
    rules_version: str
    snapshot_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "rules": [r.to_dict() for r in self.rules],
            "explanation": self.explanation,
            "item": self.item,
            "as_of": self.as_of.isoformat(),
            "rules_version": self.rules_version,
            "snapshot_id": self.snapshot_id,
        }
