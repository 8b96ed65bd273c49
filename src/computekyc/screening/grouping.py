"""Fold the hits on one listed entity into one group, for presentation to an analyst.

The engine returns one hit per listed *row* (``ScreeningIndex.screen`` and friends must keep
doing so: ownership reads each row's listing and delisting dates). Some lists publish the same
entity on several rows, and an analyst then sees one alert three times. :func:`group_hits`
folds those rows into one :class:`HitGroup` that keeps every row as evidence.

The rule, decided from how the loaders in ``computekyc.lists`` build party ids:

* **1260H** — one row per tranche listing: ``1260H-<name_key(Clean Name)>-<start date>``
  (``undated`` without one; ``-2``… when a file repeats name and date). The stem before the
  date is the entity; the date is the tranche. Rows with the same stem fold.
* **Every other list** — the party id *is* the listed entry. CSL ids hash the name with the
  address countries, so one Entity List name in two countries gives two ids with different
  addresses: different list entries, never folded. The ``-2`` suffix of colliding ids only
  says two rows hashed alike (e.g. the same name at other addresses), not that the source
  names one entity, so those stay apart too. OFAC/UN ids are the source's own entry numbers.

Folding never crosses lists: a CMIC, EL and 1260H hit on the same company stay three groups,
because each is a different legal consequence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from computekyc.lists.model import Party
from computekyc.screening.index import Hit

# See computekyc.lists.formats.tables._dod_1260h and computekyc.lists.parsing.unique_ids.
_1260H_ID = re.compile(
    r"^(?P<stem>1260H-[0-9a-f]{16})-(?P<tranche>\d{4}-\d{2}-\d{2}|undated)(?:-\d+)?$"
)


def entity_key(source: str, party_id: str) -> tuple[str, str | None]:
    """``(entity key, tranche)`` of a listed row: rows with equal source and key fold."""
    if source == "1260H":
        match = _1260H_ID.match(party_id)
        if match:
            return match["stem"], match["tranche"]
    return party_id, None


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One listed row of a group: the evidence that the group stands for."""

    party_id: str
    score: float
    matched_name: str
    tranche: str | None = None  # the 1260H tranche date read from the id, None elsewhere
    listed_on: str | None = None  # from the party, when the caller passed the parties
    delisted_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class HitGroup:
    """The hits on one listed entity of one list: the best hit, and every member row."""

    key: str  # the entity key (the party id when the list has one row per entity)
    best: Hit  # the best-scoring member: its score, explanation, primary name
    members: tuple[GroupMember, ...]  # ordered by party id: for 1260H, chronological tranches

    @property
    def source(self) -> str:
        return self.best.source

    @property
    def score(self) -> float:
        return self.best.score

    @property
    def party_ids(self) -> list[str]:
        return [m.party_id for m in self.members]

    @property
    def tranches(self) -> list[str]:
        return [m.tranche for m in self.members if m.tranche is not None]

    def to_dict(self) -> dict[str, Any]:
        """The best hit's keys, unchanged for existing consumers, plus the member rows."""
        return {
            **self.best.to_dict(),
            "entity_key": self.key,
            "members": [m.to_dict() for m in self.members],
        }


def group_hits(hits: Sequence[Hit], parties: Mapping[str, Party] | None = None) -> list[HitGroup]:
    """Fold ``hits`` on the same entity of the same list into groups (rule: module docstring).

    Groups come in the order of their best hit in ``hits`` (the engine's best-first order); the
    best hit is the highest score, the earlier hit on a tie. ``parties`` (party id → party), when
    given, adds each member's listing and delisting dates. Pure: ``hits`` is not changed.
    """
    found: dict[tuple[str, str], list[tuple[int, Hit, str | None]]] = {}
    for position, hit in enumerate(hits):
        key, tranche = entity_key(hit.source, hit.party_id)
        found.setdefault((hit.source, key), []).append((position, hit, tranche))
    groups: list[tuple[int, HitGroup]] = []
    for (_, key), rows in found.items():
        # The best: highest score, then the earliest position (the engine's tie order).
        position, best, _ = min(rows, key=lambda row: (-row[1].score, row[0]))
        members = sorted(
            (_member(hit, tranche, parties) for _, hit, tranche in rows),
            key=lambda m: m.party_id,
        )
        groups.append((position, HitGroup(key, best, tuple(members))))
    groups.sort(key=lambda item: item[0])
    return [group for _, group in groups]


def _member(hit: Hit, tranche: str | None, parties: Mapping[str, Party] | None) -> GroupMember:
    party = parties.get(hit.party_id) if parties is not None else None
    return GroupMember(
        hit.party_id,
        hit.score,
        hit.matched_name,
        tranche,
        party.listed_on if party else None,
        party.delisted_on if party else None,
    )
