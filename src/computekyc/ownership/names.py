"""How common a person's name is, measured on the lists themselves.

A name-only match of an individual is weak evidence when every part of the name recurs across
many listed persons ("ZHANG, Wei": on the mirror of 2026 "zhang" is borne by 13 listed individuals
and "wei" by 11). The counts are derived once per list snapshot and cached on disk beside the
screening index, keyed the same way.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from computekyc.bulk import atomic_file
from computekyc.lists.model import Party, PartyType
from computekyc.ownership.listgraph import norm

FORMAT = 1


def name_parts(name: str) -> list[str]:
    """The parts of a name as counted here (ASCII-folded words of two letters or more)."""
    return [part for part in norm(name).split() if len(part) >= 2]


@dataclass(slots=True)
class NameFrequencies:
    """Per name part, the number of distinct listed individuals whose names contain it."""

    counts: dict[str, int] = field(default_factory=dict)
    individuals: int = 0

    @classmethod
    def build(cls, parties: Iterable[Party]) -> NameFrequencies:
        counts: Counter[str] = Counter()
        individuals = 0
        for party in parties:
            if party.type != PartyType.INDIVIDUAL:
                continue
            individuals += 1
            parts: set[str] = set()
            for name in party.all_names():
                parts.update(name_parts(name))
            counts.update(parts)
        # Parts borne by one person say nothing about commonness; keep the file small.
        return cls({p: n for p, n in counts.items() if n > 1}, individuals)

    def parts(self, name: str) -> tuple[tuple[str, int], ...]:
        """Each part of ``name`` with the number of listed individuals bearing it."""
        seen: list[str] = []
        for part in name_parts(name):
            if part not in seen:
                seen.append(part)
        return tuple((part, self.counts.get(part, 1)) for part in seen)

    @staticmethod
    def cache_path(home: Path, key: str) -> Path:
        return home / "ownership" / f"name-frequencies-{key}-v{FORMAT}.json"

    @classmethod
    def cached(
        cls, home: Path, key: str, parties: Callable[[], Iterable[Party]]
    ) -> NameFrequencies:
        """From the per-snapshot cache file when present, else built and written atomically."""
        path = cls.cache_path(home, key)
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                return cls({str(k): int(v) for k, v in data["counts"].items()}, data["individuals"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass  # a broken cache is rebuilt below
        found = cls.build(parties())
        with atomic_file(path) as handle:
            data = {"individuals": found.individuals, "counts": found.counts}
            handle.write(json.dumps(data).encode("utf-8"))
        return found
