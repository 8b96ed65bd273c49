"""What the alert page draws, taken from what a scan stored in the alert's evidence: the match
explanation token by token, the ownership paths as a graph, the account links as a graph.

Pure functions over the evidence dictionaries (``services/alerting.py`` writes them); nothing
here decides anything.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Graph:
    """Nodes and edges for the browser's graph drawing (ECharts ``graph`` series)."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def node(self, name: str, **attributes: Any) -> None:
        current = self.nodes.setdefault(name, {"name": name, "listed": [], "role": "party"})
        for key, value in attributes.items():
            if key == "listed":
                current["listed"] = sorted(set(current["listed"]) | set(value))
            elif value is not None:
                current[key] = value

    def edge(self, source: str, target: str, label: str, **attributes: Any) -> None:
        for known in self.edges:
            if known["source"] == source and known["target"] == target:
                return
        self.edges.append({"source": source, "target": target, "label": label, **attributes})

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes.values()), "edges": self.edges}

    def __bool__(self) -> bool:
        return bool(self.edges)


def match_hits(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """Each hit of a restricted-party match: our name, the listed name, score, listing, tokens."""
    rows = []
    for item in evidence.get("hits", []) or []:
        hit = item.get("hit", {})
        explanation = hit.get("explanation") or {}
        rows.append(
            {
                "our_name": item.get("name"),
                "role": item.get("role"),
                "listed_name": hit.get("name"),
                "matched_name": hit.get("matched_name"),
                "score": hit.get("score"),
                "source": hit.get("source"),
                "party_id": hit.get("party_id"),
                "programs": hit.get("programs") or [],
                "listing": item.get("listing") or {},
                "tokens": explanation.get("matches", []),
                "unmatched_query": explanation.get("unmatched_query", []),
                "unmatched_candidate": explanation.get("unmatched_candidate", []),
                "ignored": explanation.get("ignored", []),
                "raised_by": explanation.get("raised_by", []),
                "lowered_by": explanation.get("lowered_by", []),
                "via": explanation.get("via"),
            }
        )
    return rows


def _share(value: Any) -> str:
    return "share not given" if value is None else f"{float(value):g}%"


def ownership_graph(evidence: dict[str, Any]) -> Graph:
    """Owners → owned along every ownership path of a rule's evidence, with shares; listed
    owners carry their listings (drawn highlighted)."""
    graph = Graph()
    rule = evidence.get("rule")
    if not isinstance(rule, dict):
        return graph
    for path in rule.get("paths", []) or []:
        if not path:
            continue
        for step in path:
            graph.node(str(step.get("name")), listed=step.get("listed") or [])
        graph.nodes[str(path[-1].get("name"))]["role"] = "subject"
        for upper, lower in itertools.pairwise(path):
            share = upper.get("share")
            graph.edge(
                str(upper.get("name")),
                str(lower.get("name")),
                _share(share),
                share=share,
                source_of_data=upper.get("source"),
                note=upper.get("evidence"),
            )
    return graph


def link_graph(evidence: dict[str, Any], subject_id: str) -> Graph:
    """Accounts linked into one entity and the evidence of each link (payment tokens, phones,
    contacts, Splink weights); a reseller's billing account to its sub-accounts."""
    graph = Graph()
    for link in evidence.get("links", []) or []:
        a, b = str(link.get("a")), str(link.get("b"))
        kinds = [str(e.get("kind")) for e in link.get("evidence", [])]
        graph.node(a, role="account")
        graph.node(b, role="account")
        probability = link.get("probability")
        short = {k.removeprefix("same_").removeprefix("shared_").replace("_", " ") for k in kinds}
        label = ", ".join(sorted(short - {"splink match weight"})) or "linked"
        graph.edge(a, b, label, probability=probability, evidence=link.get("evidence", []))
    signal = evidence.get("signal")
    if isinstance(signal, dict):
        detail = signal.get("evidence") or {}
        billing = detail.get("billing_account_id")
        for sub in detail.get("sub_accounts", []) or []:
            graph.node(str(billing), role="account")
            graph.node(str(sub), role="account")
            graph.edge(str(billing), str(sub), "pays for")
        for account in evidence.get("accounts", []) or []:
            graph.node(str(account), role="account")
    if subject_id in graph.nodes:
        graph.nodes[subject_id]["role"] = "subject"
    return graph


def link_rows(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """The links as a table (the same facts as the graph, readable without it)."""
    rows = []
    for link in evidence.get("links", []) or []:
        rows.append(
            {
                "a": link.get("a"),
                "b": link.get("b"),
                "probability": link.get("probability"),
                "evidence": [
                    {
                        "kind": e.get("kind"),
                        "value": e.get("value", ", ".join(map(str, e.get("values", []) or []))),
                        "deterministic": bool(e.get("deterministic")),
                        "weight": e.get("match_weight_bits"),
                    }
                    for e in link.get("evidence", [])
                ],
            }
        )
    return rows


def record_ownership(record: dict[str, Any] | None) -> Graph:
    """The owners a customer record declares (nested, with shares) as a graph."""
    graph = Graph()
    if not record:
        return graph
    root = str(record.get("name") or record.get("id"))
    graph.node(root, role="subject")

    def walk(owned: str, owners: list[dict[str, Any]], depth: int) -> None:
        for owner in owners:
            name = str(owner.get("name"))
            graph.node(name)
            relation = owner.get("relation")
            label = _share(owner.get("share")) + (f" ({relation})" if relation else "")
            graph.edge(name, owned, label, share=owner.get("share"), source_of_data="declared")
            if depth < 20:  # the book reader refuses cycles; this only bounds the drawing
                walk(name, owner.get("owners") or [], depth + 1)

    walk(root, record.get("owners") or [], 0)
    return graph
