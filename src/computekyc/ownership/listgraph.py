"""Parent edges carried by list data: 1260H ``Parent Name``, FtM-derived ParentRefs, and parent
organisations written inside Entity List names ("(a subsidiary of …)", "(Parent Organization: …)",
"…—Branch of …").

Parents name other organisations; where a parent's name is itself a listing (same normalised
name or alias) the edge points at that party, otherwise at a name-only node that determinations
screen like any declared owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from anyascii import anyascii

from computekyc.lists.model import ParentRef, Party
from computekyc.ownership.graph import OwnershipGraph
from computekyc.ownership.model import Edge, Node

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\(Parent Organization:\s*(?P<name>.+)\)\s*$", re.I), "parent"),
    (re.compile(r"\(an? (?:wholly[- ]owned )?subsidiary of\s+(?P<name>[^()]+)\)", re.I), "parent"),
    (re.compile(r"(?:—|–|,)\s*branch of\s+(?P<name>[^,;()]+?)\s*$", re.I), "branch-of"),
)


@lru_cache(maxsize=1 << 16)
def norm(name: str) -> str:
    """Loose name key: ASCII, lower case, punctuation folded to single spaces (cached: owner
    names recur across customers)."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", anyascii(name).lower()).split())


def party_key(party_id: str) -> str:
    return f"party:{party_id}"


def name_key(name: str) -> str:
    return f"name:{norm(name)}"


def parents_in_text(text: str) -> list[ParentRef]:
    """Parent organisations an Entity List entry names in its own text."""
    found: list[ParentRef] = []
    for pattern, relation in _PATTERNS:
        match = pattern.search(text)
        if match:
            name = match.group("name").strip().rstrip(".")
            # "(CNNC))": the pattern is greedy to keep nested acronyms; re-balance parentheses.
            while name.count(")") > name.count("("):
                name = name[: name.rindex(")")].rstrip()
            found.append(ParentRef(name=name, relation=relation, source_text=match.group(0)))
    return found


def party_parents(party: Party) -> list[ParentRef]:
    if party.source == "FTM":
        # FtM parents lose the statements' dates (a company's stakes over twenty years would
        # add up to well over 100%); the dated edges come from ``ownership.ftm`` instead.
        return []
    if party.parents:
        return list(party.parents)
    if party.source == "EL":
        refs: list[ParentRef] = []
        for text in party.all_names():
            refs.extend(r for r in parents_in_text(text) if r.name not in {x.name for x in refs})
        return refs
    return []


def party_node(party: Party) -> Node:
    countries = party.all_countries()
    return Node(
        key=party_key(party.party_id),
        name=party.name,
        type="individual" if str(party.type) == "individual" else "entity",
        country=countries[0] if countries else None,
        headquarters_country=countries[0] if countries else None,
        identifiers=tuple((i.scheme, i.value) for i in party.identifiers),
        source=party.source,
    )


def load_list_parents(
    parties: Iterable[Party], graph: OwnershipGraph | None = None
) -> OwnershipGraph:
    """Add every listed party and the parents the lists name for it to a graph."""
    graph = graph if graph is not None else OwnershipGraph()
    parties = list(parties)
    by_name: dict[str, str] = {}
    by_id = {party.party_id: party for party in parties}
    for party in parties:
        for name in party.all_names():
            by_name.setdefault(norm(name), party.party_id)
    for party in parties:
        refs = party_parents(party)
        if not refs:
            continue  # screening finds the party itself by name or identifier
        graph.add_node(party_node(party))
        for ref in refs:
            target = ref.party_id or by_name.get(norm(ref.name))
            parent = party_key(target) if target else name_key(ref.name)
            if target in by_id:
                graph.add_node(party_node(by_id[target]))
            else:
                graph.add_node(Node(key=parent, name=ref.name, source=f"{party.source}-parent"))
            share = ref.share
            if share is None and ref.relation == "branch-of":
                share = 100.0  # a branch is part of the same legal person
            graph.add_edge(
                Edge(
                    parent=parent,
                    child=party_key(party.party_id),
                    share=share,
                    relation=ref.relation,
                    source=party.source,
                    evidence=ref.source_text or f"{party.source} {party.party_id} names parent",
                )
            )
    return graph
