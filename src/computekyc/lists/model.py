"""The domain model of a listed party, shared by every list format.

One :class:`Party` is one listing on one source list. Loaders turn each official layout into
parties; the store keeps them per snapshot; screening and ownership read them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from computekyc.bulk import PositionalPickle


class PartyType(StrEnum):
    ENTITY = "entity"
    INDIVIDUAL = "individual"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Alias(PositionalPickle):
    name: str
    alias_type: str = "aka"  # aka, fka, nka, brand, original-script, previous, weak-aka …
    strength: str | None = None  # "strong"/"weak" (OFAC), "good"/"low" (UN) where the source says
    script: str | None = None


@dataclass(frozen=True, slots=True)
class Address(PositionalPickle):
    text: str = ""
    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    country_name: str | None = None


@dataclass(frozen=True, slots=True)
class Identifier(PositionalPickle):
    scheme: str  # uscc, lei, registration, passport, national-id, tax-id, imo, swift, …
    value: str
    country: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ParentRef(PositionalPickle):
    """A parent organisation named by the source (1260H `Parent Name`, FtM Ownership, EL text)."""

    name: str
    party_id: str | None = None
    share: float | None = None  # percent, when the source states it
    relation: str = "parent"  # parent, owner, subsidiary-of
    source_text: str | None = None


@dataclass(slots=True)
class Party(PositionalPickle):
    party_id: str  # stable across snapshots: "<feed-prefix>-<source key>"
    source: str  # list code: EL, MEU, DPL, UVL, ISN, DTC, CMIC, SDN, SSI, UN, 1260H, FCC, FTM …
    name: str
    type: PartyType = PartyType.UNKNOWN
    programs: list[str] = field(default_factory=list)
    aliases: list[Alias] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # ISO alpha-2: nationality, citizenship …
    dates_of_birth: list[str] = field(default_factory=list)
    places_of_birth: list[str] = field(default_factory=list)
    listed_on: str | None = None  # ISO date
    delisted_on: str | None = None
    federal_register: list[str] = field(default_factory=list)
    license_requirement: str | None = None
    license_policy: str | None = None
    remarks: str | None = None
    title: str | None = None
    parents: list[ParentRef] = field(default_factory=list)
    source_url: str | None = None
    source_file: str | None = None
    source_line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def listing_date_unknown(self) -> bool:
        """The source gives no readable listing date (``listed_on`` is None for that reason):
        the listing counts as in force on every date; say "listing date unknown"."""
        return self.extra.get("listing_date") == "unknown"

    def all_names(self) -> list[str]:
        names = [self.name]
        for alias in self.aliases:
            if alias.name and alias.name not in names:
                names.append(alias.name)
        return names

    def all_countries(self) -> list[str]:
        found: list[str] = []
        for code in [*self.countries, *(a.country for a in self.addresses)]:
            if code and code not in found:
                found.append(code)
        return found

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = str(self.type)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Party:
        data = dict(data)
        data["type"] = PartyType(data.get("type") or "unknown")
        data["aliases"] = [Alias(**a) for a in data.get("aliases", [])]
        data["addresses"] = [Address(**a) for a in data.get("addresses", [])]
        data["identifiers"] = [Identifier(**i) for i in data.get("identifiers", [])]
        data["parents"] = [ParentRef(**p) for p in data.get("parents", [])]
        return cls(**data)

    def content(self) -> dict[str, Any]:
        """What the listing says, without where it was read from (file and line move freely)."""
        data = self.to_dict()
        data.pop("source_file", None)
        data.pop("source_line", None)
        return data

    def content_hash(self) -> str:
        blob = json.dumps(self.content(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()
