"""Clustering: the numpy connected components agree with a plain union-find."""

from __future__ import annotations

import random

from computekyc.linking.cluster import Link, UnionFind, cluster


def test_components_match_union_find_on_random_graphs() -> None:
    rng = random.Random(3)
    for _ in range(300):
        ids = sorted({f"acct-{rng.randrange(10**6)}" for _ in range(rng.randint(1, 60))})
        links = []
        for _ in range(rng.randint(0, 90)):
            a, b = sorted(rng.sample(ids, 2)) if len(ids) > 1 else (ids[0], ids[0])
            if a != b:
                links.append(Link(a, b, 1.0, []))
        forest = UnionFind(ids)
        for link in links:
            forest.union(link.a, link.b)
        entities = cluster(rng.sample(ids, len(ids)), links, {})
        assert [e.accounts for e in entities] == sorted(forest.groups())
        # Every link sits in the entity holding both of its accounts.
        for entity in entities:
            assert all(k.a in entity.accounts and k.b in entity.accounts for k in entity.links)
        assert sum(len(e.links) for e in entities) == len(links)


def test_no_accounts_no_entities() -> None:
    assert cluster([], [], {}) == []
