"""What changed between two readings of a list: parties added, removed and changed.

Pure functions over parties; the store feeds them two snapshots. A party is matched by its
stable ``party_id``; "changed" lists, per field, the values added and removed, so re-screening
can be limited to the names that are new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from computekyc.lists.model import Party

# Fields whose values are compared item by item (what re-screening needs).
DETAILED = ("names", "aliases", "addresses", "programs")
# Other listing content whose change makes a party "changed" (named, without item detail).
COMPARED = (
    "type",
    "identifiers",
    "countries",
    "dates_of_birth",
    "listed_on",
    "delisted_on",
    "federal_register",
    "license_requirement",
    "license_policy",
    "remarks",
    "title",
    "parents",
)


@dataclass(frozen=True, slots=True)
class PartyRef:
    party_id: str
    source: str
    name: str


@dataclass(slots=True)
class FieldChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PartyChange:
    party_id: str
    source: str
    name: str
    fields: dict[str, FieldChange] = field(default_factory=dict)
    other_fields: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ListDiff:
    old_snapshot: int | None
    new_snapshot: int | None
    added: list[PartyRef] = field(default_factory=list)
    removed: list[PartyRef] = field(default_factory=list)
    changed: list[PartyChange] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
        }

    def by_source(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for kind, items in (("added", self.added), ("removed", self.removed)):
            for ref in items:
                out.setdefault(ref.source, {"added": 0, "removed": 0, "changed": 0})[kind] += 1
        for change in self.changed:
            out.setdefault(change.source, {"added": 0, "removed": 0, "changed": 0})["changed"] += 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts()
        data["by_source"] = self.by_source()
        return data


def _values(party: Party, name: str) -> list[str]:
    if name == "names":
        return [party.name]
    if name == "aliases":
        return [a.name for a in party.aliases]
    if name == "addresses":
        return [a.text + (f" [{a.country}]" if a.country else "") for a in party.addresses]
    return list(party.programs)


def compare(old: Party, new: Party) -> PartyChange | None:
    """Per-field change of one party, or None when nothing compared differs."""
    change = PartyChange(new.party_id, new.source, new.name)
    for name in DETAILED:
        before, after = _values(old, name), _values(new, name)
        if before != after:
            added = [v for v in after if v not in before]
            removed = [v for v in before if v not in after]
            if added or removed:
                change.fields[name] = FieldChange(added, removed)
    for name in COMPARED:
        if getattr(old, name) != getattr(new, name):
            change.other_fields.append(name)
    return change if change.fields or change.other_fields else None


def diff_parties(
    old: Iterable[Party],
    new: Iterable[Party],
    old_snapshot: int | None = None,
    new_snapshot: int | None = None,
) -> ListDiff:
    before = {p.party_id: p for p in old}
    after = {p.party_id: p for p in new}
    result = ListDiff(old_snapshot, new_snapshot)
    result.added = [
        PartyRef(p.party_id, p.source, p.name) for k, p in after.items() if k not in before
    ]
    result.removed = [
        PartyRef(p.party_id, p.source, p.name) for k, p in before.items() if k not in after
    ]
    for key, party in after.items():
        if key in before:
            change = compare(before[key], party)
            if change:
                result.changed.append(change)
    return result
