"""Parent edges from list data: Entity List text and 1260H Parent Name."""

from __future__ import annotations

from computekyc.lists.model import Party
from computekyc.ownership import OwnershipGraph, parents_in_text


def test_entity_list_text_names_parents(parties: list[Party]) -> None:
    names = {p.name: p for p in parties if p.source == "EL"}
    baotou = next(
        n for n in names if n.startswith("Baotou Guanghua Chemical Industrial Corporation (")
    )
    (ref,) = parents_in_text(baotou)
    assert ref.name == "China National Nuclear Group Corporation (CNNC)"
    (cnooc,) = parents_in_text(
        "CNOOC Limited (a subsidiary of China National Offshore Oil Corporation)"
    )
    assert cnooc.name == "China National Offshore Oil Corporation"
    (branch,) = parents_in_text("P.A. Voronin Lukhovitsk Aviation Plant, branch of RSK MiG")
    assert branch.name == "RSK MiG" and branch.relation == "branch-of"


def test_1260h_parent_edges_in_graph(parties: list[Party], graph: OwnershipGraph) -> None:
    with_parents = [p for p in parties if p.source == "1260H" and p.parents]
    assert len(with_parents) == 197
    hik = next(p for p in with_parents if "Hikvision" in p.name)
    (edge,) = graph.parents(f"party:{hik.party_id}")
    assert edge.source == "1260H" and edge.share is None
    assert "Electronics Technology" in graph.nodes[edge.parent].name


def test_entity_list_text_parent_becomes_a_graph_edge(
    parties: list[Party], graph: OwnershipGraph
) -> None:
    baotou = next(
        p for p in parties if p.source == "EL" and p.name.startswith("Baotou Guanghua Chemical")
    )
    (edge,) = graph.parents(f"party:{baotou.party_id}")
    assert edge.source == "EL" and edge.relation == "parent"
    assert "Parent Organization" in edge.evidence
    assert graph.nodes[edge.parent].name.startswith("China National Nuclear")
