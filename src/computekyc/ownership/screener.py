"""The small screening protocol determinations depend on, and its adapters.

Determinations only need "which listings does this name (or identifier) match, and how well".
:class:`EngineScreener` wraps the real ``computekyc.screening`` engine; :class:`ExactScreener`
matches exact normalised names and identifiers over a set of parties (no fuzzy logic) and serves
unit tests and the identifier links of every run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from computekyc.lists.model import Party, PartyType
from computekyc.ownership.graph import identifier_key
from computekyc.ownership.listgraph import norm
from computekyc.ownership.model import ListEntry
from computekyc.ownership.names import NameFrequencies
from computekyc.screening import Explanation, ScreeningIndex


class Screener(Protocol):
    snapshot_id: str | None

    def screen(self, name: str, country: str | None, type: str | None) -> list[ListEntry]: ...

    def by_identifier(self, scheme: str, value: str) -> list[ListEntry]: ...


def _entry(
    party: Party,
    score: float,
    matched: str,
    how: str,
    snapshot: str | None,
    explanation: Explanation,
    names: NameFrequencies,
) -> ListEntry:
    individual = party.type == PartyType.INDIVIDUAL
    return ListEntry(
        party_id=party.party_id,
        source=party.source,
        name=party.name,
        score=score,
        matched_name=matched,
        programs=tuple(party.programs),
        snapshot_id=snapshot,
        license_requirement=party.license_requirement,
        license_policy=party.license_policy,
        how=how,
        listed_on=party.listed_on,
        delisted_on=party.delisted_on,
        party_type=str(party.type),
        dates_of_birth=tuple(party.dates_of_birth),
        countries=tuple(party.all_countries()),
        identifiers=tuple((i.scheme, i.value) for i in party.identifiers),
        name_parts=names.parts(matched) if individual and how == "name" else (),
        explanation=explanation,
    )


class PartyIndex:
    """Parties by id, by exact normalised name/alias, and by identifier; with the commonness of
    listed persons' name parts (given, or derived from these parties)."""

    def __init__(self, parties: Iterable[Party], names: NameFrequencies | None = None) -> None:
        parties = list(parties)
        self.names = names if names is not None else NameFrequencies.build(parties)
        self.by_id: dict[str, Party] = {}
        self.by_name: dict[str, list[Party]] = defaultdict(list)
        self.by_identifier: dict[str, list[Party]] = defaultdict(list)
        for party in parties:
            self.by_id[party.party_id] = party
            for name in party.all_names():
                key = norm(name)
                if key and party not in self.by_name[key]:
                    self.by_name[key].append(party)
            for ident in party.identifiers:
                self.by_identifier[identifier_key(ident.scheme, ident.value)].append(party)


class ExactScreener:
    """Exact normalised-name and identifier matching over parties (score 1.0 or nothing)."""

    def __init__(self, parties: Iterable[Party] | PartyIndex, snapshot_id: str | None = None):
        self.index = parties if isinstance(parties, PartyIndex) else PartyIndex(parties)
        self.snapshot_id = snapshot_id

    def screen(self, name: str, country: str | None, type: str | None) -> list[ListEntry]:
        return [
            self.entry(p, 1.0, name, "name", Explanation(via="exact normalised name or alias"))
            for p in self.index.by_name.get(norm(name), [])
        ]

    def entry(
        self, party: Party, score: float, matched: str, how: str, explanation: Explanation
    ) -> ListEntry:
        return _entry(party, score, matched, how, self.snapshot_id, explanation, self.index.names)

    def by_identifier(self, scheme: str, value: str) -> list[ListEntry]:
        parties = self.index.by_identifier.get(identifier_key(scheme, value), [])
        why = Explanation(raised_by=[f"identifier {scheme} {value} matches"])
        return [self.entry(p, 1.0, f"{scheme} {value}", "identifier", why) for p in parties]


class EngineScreener:
    """Adapter over the real screening engine: ``engine.screen(name, country=, type=)``.

    The engine returns Hit objects (party_id, name, matched_name, source, programs, score,
    explanation); parties supply the licence fields the Affiliates Rule ranks owners by, and the
    exact identifier links the engine does not offer.
    """

    def __init__(
        self,
        engine: ScreeningIndex,
        parties: Iterable[Party] | PartyIndex,
        snapshot_id: str | None = None,
        limit: int = 10,
        threshold: float | None = None,
    ) -> None:
        self.engine = engine
        self.threshold = threshold
        self.exact = ExactScreener(parties, snapshot_id)
        self.snapshot_id = snapshot_id
        self.limit = limit

    def screen(self, name: str, country: str | None, type: str | None) -> list[ListEntry]:
        # threshold None: the engine's own alerting threshold.
        hits = self.engine.screen(name, country=country, type=type, threshold=self.threshold)
        out: list[ListEntry] = []
        for hit in hits[: self.limit]:
            party = self.exact.index.by_id.get(hit.party_id)
            if party is not None:
                out.append(
                    self.exact.entry(party, hit.score, hit.matched_name, "name", hit.explanation)
                )
            else:  # an index built from other parties than this screener's: keep the hit's own
                out.append(
                    ListEntry(
                        party_id=hit.party_id,
                        source=hit.source,
                        name=hit.name,
                        score=hit.score,
                        matched_name=hit.matched_name,
                        programs=tuple(hit.programs),
                        snapshot_id=self.snapshot_id,
                        explanation=hit.explanation,
                    )
                )
        return out

    def by_identifier(self, scheme: str, value: str) -> list[ListEntry]:
        return self.exact.by_identifier(scheme, value)
