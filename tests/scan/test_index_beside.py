"""A new snapshot's index made by a forked process while the scan goes on is the index the
plain path builds: the same parties, names, postings, frequencies and weights, the same hits."""

from __future__ import annotations

from pathlib import Path

from computekyc.ownership import load_list_parents, load_rules
from computekyc.screening import Query, ScreeningIndex, snapshot_cache_key
from computekyc.services.indexes import IndexHolder
from computekyc.settings import Settings

from .conftest import clone_home


def _names(index: ScreeningIndex) -> list[Query]:
    """Real listed names and aliases (every 40th), some with a typo, as queries."""
    names = [name for _, name, _ in index.names[::40]]
    return [Query(n) for n in names] + [Query(n[:-1] + "x") for n in names[::3] if len(n) > 6]


def test_index_made_beside_equals_the_plain_build(template_home: Path, tmp_path: Path) -> None:
    settings = clone_home(template_home, tmp_path / "home")
    holder = IndexHolder(settings)
    info = holder.active()
    key = snapshot_cache_key(info.id, info.created_at, settings.sqlalchemy_url)
    cache = ScreeningIndex.cache_path(settings.home, key)
    cache.unlink()  # a snapshot this home has no index of yet
    parties = holder.store().parties(info.id)
    plain = ScreeningIndex.build(parties, snapshot_id=key)

    holder.make_beside()
    assert info.id in holder._made_beside  # a forked process is making it
    loaded = holder.current()
    assert cache.is_file()
    assert not holder._made_beside
    assert loaded.index == plain
    assert loaded.parties == {p.party_id: p for p in parties}
    assert loaded.graph == load_list_parents(parties)
    threshold = load_rules().possible_threshold
    queries = _names(plain)
    found = [[h.to_dict() for h in hits] for hits in loaded.index.screen_many(queries, threshold)]
    assert found == [[h.to_dict() for h in hits] for hits in plain.screen_many(queries, threshold)]
    assert sum(bool(hits) for hits in found) >= len(queries) // 2

    # Once made (or loaded), nothing more is forked.
    holder.make_beside()
    assert not holder._made_beside


def test_nothing_is_forked_when_the_index_is_cached(template_home: Path, tmp_path: Path) -> None:
    settings: Settings = clone_home(template_home, tmp_path / "home")
    holder = IndexHolder(settings)
    holder.make_beside()
    assert not holder._made_beside
    assert holder.current().index.parties
