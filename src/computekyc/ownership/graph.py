"""The ownership graph: nodes and dated parent→child edges from every source, indexed for lookup.

Sources add nodes and edges (GLEIF Level 2, FtM Ownership, list parent names, …); determinations
ask for the parents of a node on a date, or for the node holding an identifier (LEI, INN, …).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from computekyc.ownership.model import Edge, Node


def identifier_key(scheme: str, value: str) -> str:
    """Normalised identifier key; tax ids and INNs collapse together (same number in Russia)."""
    scheme = scheme.lower().strip()
    if scheme in {"inn", "inncode", "tax-id", "tax_id", "taxid", "tax"}:
        scheme = "tax"
    elif scheme in {"ogrn", "ogrncode", "registration", "registration-number", "regnumber"}:
        scheme = "reg"
    return f"{scheme}:{''.join(value.split()).upper()}"


@dataclass(slots=True)
class OwnershipGraph:
    nodes: dict[str, Node] = field(default_factory=dict)
    _parents: dict[str, list[Edge]] = field(default_factory=lambda: defaultdict(list))
    _children: dict[str, list[Edge]] = field(default_factory=lambda: defaultdict(list))
    _by_identifier: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _seen: set[tuple[str, str, str, str, float | None, date | None]] = field(default_factory=set)

    def add_node(self, node: Node) -> None:
        old = self.nodes.get(node.key)
        if old is None or (not old.headquarters_country and node.headquarters_country):
            self.nodes[node.key] = node
        for scheme, value in node.identifiers:
            keys = self._by_identifier[identifier_key(scheme, value)]
            if node.key not in keys:
                keys.append(node.key)

    def add_edge(self, edge: Edge) -> None:
        # The same edge often arrives from two files (API and golden copy, parent and child
        # views); keep one so shares are never counted twice.
        sig = (edge.parent, edge.child, edge.relation, edge.source, edge.share, edge.valid_from)
        if sig in self._seen:
            return
        self._seen.add(sig)
        self._parents[edge.child].append(edge)
        self._children[edge.parent].append(edge)

    def extend(self, nodes: Iterable[Node], edges: Iterable[Edge]) -> None:
        for node in nodes:
            self.add_node(node)
        for edge in edges:
            self.add_edge(edge)

    def parents(self, key: str, on: date | None = None) -> list[Edge]:
        edges = self._parents.get(key, [])
        return [e for e in edges if on is None or e.valid_on(on)]

    def children(self, key: str, on: date | None = None) -> list[Edge]:
        edges = self._children.get(key, [])
        return [e for e in edges if on is None or e.valid_on(on)]

    def find(self, scheme: str, value: str) -> list[str]:
        """Every node holding the identifier (a LEI record, an FtM entity with that INN, …)."""
        return list(self._by_identifier.get(identifier_key(scheme, value), []))

    def chain(self, key: str, on: date | None = None, relation: str | None = None) -> list[str]:
        """Follow single parents upward (direct-parent chains), stopping at cycles."""
        out = [key]
        seen = {key}
        current = key
        while True:
            edges = [e for e in self.parents(current, on) if relation in (None, e.relation)]
            if not edges:
                return out
            nxt = edges[0].parent
            if nxt in seen:
                return out
            out.append(nxt)
            seen.add(nxt)
            current = nxt

    def ultimate_parent(self, key: str, on: date | None = None) -> str:
        """An explicit ultimate-parent edge if a source gives one, else the top of the chain."""
        for edge in self.parents(key, on):
            if edge.relation == "ultimately-consolidated-by":
                return edge.parent
        return self.chain(key, on, relation=None)[-1]

    def __len__(self) -> int:
        return len(self.nodes)

    def edge_count(self) -> int:
        return sum(len(v) for v in self._parents.values())
