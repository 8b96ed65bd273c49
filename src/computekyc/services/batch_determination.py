"""Determinations of a customer file (``computekyc determine``): the lists from a mirror folder
or the active snapshot (plus extra list files), ownership data from GLEIF and FollowTheMoney
files, one rule timeline, and the fuzzy or the exact matcher, made once for the whole file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from computekyc.ownership import (
    CachedScreener,
    Determination,
    Item,
    OwnershipGraph,
    RuleSet,
    Screener,
    determine,
    load_rules,
    read_customers,
    resolve_item,
)
from computekyc.ownership import InputError as CustomerLineError
from computekyc.ownership.sources import (
    build_graph,
    engine_screener,
    exact_screener,
    load_list_data,
)
from computekyc.services.indexes import use_screening_settings
from computekyc.settings import Settings


class Matcher(StrEnum):
    """How a determination finds list entries for a name."""

    ENGINE = "engine"  # the fuzzy screening engine
    EXACT = "exact"  # exact names and identifiers


@dataclass(frozen=True, slots=True)
class DeterminationSources:
    """Where a batch of determinations takes its lists, ownership data and rules from."""

    lists: Path | None = None  # a mirror folder; None: the active stored snapshot
    list_files: Sequence[Path] = ()
    ownership: Path | None = None  # a folder with gleif-api/ and gleif-golden-copy/
    ftm: Sequence[Path] = ()
    rules_file: Path | None = None
    matcher: Matcher = Matcher.ENGINE


@dataclass(slots=True)
class BatchDeterminer:
    """Everything the determinations of one customer file share, made once."""

    item: Item
    as_of: date
    rules: RuleSet
    screener: Screener
    graph: OwnershipGraph
    note: str = ""  # which list snapshot the answers come from, and why

    def determine_file(self, customers: Path) -> Iterator[Determination | CustomerLineError]:
        """One determination per customer line, or the line's error, in file order."""
        for record in read_customers(customers):
            if isinstance(record, CustomerLineError):
                yield record
                continue
            yield determine(record, self.item, self.as_of, self.screener, self.rules, self.graph)


def batch_determiner(
    settings: Settings,
    item: str,
    as_of: date,
    sources: DeterminationSources,
    *,
    pin_snapshot: bool = False,
) -> BatchDeterminer:
    """The rules, the item, the lists (``NoListData`` when there are none), the screener and the
    ownership graph for the determinations of a customer file, in that order.

    ``pin_snapshot``: determine on the stored snapshot in force on ``as_of`` (a past day gives
    the same answer after newer lists are loaded) rather than the active one."""
    use_screening_settings(settings)
    rules = load_rules(sources.rules_file)
    resolved = resolve_item(item, as_of)
    data = load_list_data(
        settings.sqlalchemy_url,
        sources.lists,
        sources.list_files,
        as_of if pin_snapshot else None,
    )
    home = settings.ensure_home()
    screener = CachedScreener(
        engine_screener(data, home, rules.possible_threshold)
        if sources.matcher is Matcher.ENGINE
        else exact_screener(data, home)
    )
    graph = build_graph(data.parties, sources.ownership, sources.ftm)
    return BatchDeterminer(resolved, as_of, rules, screener, graph, data.note)
