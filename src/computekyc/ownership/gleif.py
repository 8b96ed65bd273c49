"""GLEIF readers: Level 1 LEI records and Level 2 relationship records, API JSON and RR-CDF XML.

Formats read exactly as published:
- GLEIF API v1 (JSON:API): ``data`` is one resource or a list; ``lei-records`` carry
  ``attributes.entity`` (legalName, legalAddress, headquartersAddress); ``relationship-records``
  carry ``attributes.relationship`` (startNode = child, endNode = parent, type, status, periods).
- Golden copy LEI-CDF 3.1 (``lei:LEIRecord``) and RR-CDF 2.1 (``rr:RelationshipRecord``) XML.

Only accounting-consolidation relationships mean ownership/control; fund-management and sub-fund
links are skipped. GLEIF states consolidation, not a share, so edges carry ``share=None`` unless
an RR-CDF ``RelationshipQuantifier`` gives a percentage.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from computekyc.ownership.graph import OwnershipGraph
from computekyc.ownership.model import Edge, Node

RELATIONS = {
    "IS_DIRECTLY_CONSOLIDATED_BY": "consolidated-by",
    "IS_ULTIMATELY_CONSOLIDATED_BY": "ultimately-consolidated-by",
}
NS = {
    "lei": "http://www.gleif.org/data/schema/leidata/2016",
    "rr": "http://www.gleif.org/data/schema/rr/2016",
}


def lei_key(lei: str) -> str:
    return f"lei:{lei.strip().upper()}"


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _relationship_period(periods: list[dict[str, Any]]) -> tuple[date | None, date | None]:
    for period in periods:
        if period.get("type", period.get("PeriodType")) == "RELATIONSHIP_PERIOD":
            start = period.get("startDate", period.get("StartDate"))
            end = period.get("endDate", period.get("EndDate"))
            return _day(start), _day(end)
    return None, None


def _api_resources(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    data = payload.get("data")
    if isinstance(data, dict):
        yield data
    elif isinstance(data, list):
        yield from (d for d in data if isinstance(d, dict))


def _api_node(resource: dict[str, Any]) -> Node:
    attrs = resource["attributes"]
    entity = attrs["entity"]
    lei = attrs.get("lei") or resource["id"]
    return Node(
        key=lei_key(lei),
        name=entity["legalName"]["name"],
        country=(entity.get("legalAddress") or {}).get("country"),
        headquarters_country=(entity.get("headquartersAddress") or {}).get("country"),
        identifiers=(("lei", lei),),
        source="GLEIF-API",
    )


def _api_edge(resource: dict[str, Any], origin: str) -> Edge | None:
    rel = resource["attributes"]["relationship"]
    relation = RELATIONS.get(rel.get("type", ""))
    if relation is None or rel.get("status") not in (None, "ACTIVE"):
        return None
    start, end = _relationship_period(rel.get("periods") or [])
    return Edge(
        parent=lei_key(rel["endNode"]["id"]),
        child=lei_key(rel["startNode"]["id"]),
        share=None,
        relation=relation,
        source="GLEIF-API",
        valid_from=start,
        valid_to=end,
        evidence=f"GLEIF relationship {rel['type']} ({origin})",
    )


def read_gleif_api(directory: Path) -> tuple[list[Node], list[Edge]]:
    """Read every GLEIF API JSON file under ``directory`` (lei-records and relationship-records)."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    for path in sorted(directory.rglob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict):
            continue
        for resource in _api_resources(payload):
            kind = resource.get("type")
            if kind == "lei-records":
                nodes.append(_api_node(resource))
            elif kind == "relationship-records":
                edge = _api_edge(resource, path.name)
                if edge is not None:
                    edges.append(edge)
    return nodes, edges


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path, NS)
    return found.text.strip() if found is not None and found.text else None


def read_lei_cdf(path: Path) -> list[Node]:
    """LEI-CDF golden-copy XML → nodes with legal and headquarters countries."""
    nodes: list[Node] = []
    for record in ET.parse(path).getroot().iter(f"{{{NS['lei']}}}LEIRecord"):
        lei = _text(record, "lei:LEI")
        name = _text(record, "lei:Entity/lei:LegalName")
        if not lei or not name:
            continue
        nodes.append(
            Node(
                key=lei_key(lei),
                name=name,
                country=_text(record, "lei:Entity/lei:LegalAddress/lei:Country"),
                headquarters_country=_text(
                    record, "lei:Entity/lei:HeadquartersAddress/lei:Country"
                ),
                identifiers=(("lei", lei),),
                source="GLEIF-LEI-CDF",
            )
        )
    return nodes


def read_rr_cdf(path: Path) -> list[Edge]:
    """RR-CDF golden-copy XML → consolidation edges (child = StartNode, parent = EndNode)."""
    edges: list[Edge] = []
    for record in ET.parse(path).getroot().iter(f"{{{NS['rr']}}}RelationshipRecord"):
        rel = record.find("rr:Relationship", NS)
        if rel is None:
            continue
        kind = _text(rel, "rr:RelationshipType") or ""
        relation = RELATIONS.get(kind)
        if relation is None or _text(rel, "rr:RelationshipStatus") not in (None, "ACTIVE"):
            continue
        periods = [
            {
                "PeriodType": _text(p, "rr:PeriodType"),
                "StartDate": _text(p, "rr:StartDate"),
                "EndDate": _text(p, "rr:EndDate"),
            }
            for p in rel.findall("rr:RelationshipPeriods/rr:RelationshipPeriod", NS)
        ]
        start, end = _relationship_period(periods)
        share: float | None = None
        for quantifier in rel.findall("rr:RelationshipQuantifiers/rr:RelationshipQuantifier", NS):
            if _text(quantifier, "rr:QuantifierUnits") == "PERCENTAGE":
                amount = _text(quantifier, "rr:QuantifierAmount")
                # RR-CDF states the percentage as a number of percent ("1.00" would be 1%) only
                # for ownership measurements; a consolidation quantifier is not an equity share.
                if amount and _text(quantifier, "rr:MeasurementMethod") != (
                    "ACCOUNTING_CONSOLIDATION"
                ):
                    share = float(amount)
        parent = _text(rel, "rr:EndNode/rr:NodeID")
        child = _text(rel, "rr:StartNode/rr:NodeID")
        if not parent or not child:
            continue
        edges.append(
            Edge(
                parent=lei_key(parent),
                child=lei_key(child),
                share=share,
                relation=relation,
                source="GLEIF-RR",
                valid_from=start,
                valid_to=end,
                evidence=f"GLEIF RR-CDF {kind} ({path.name})",
            )
        )
    return edges


def load_gleif(ownership_dir: Path, graph: OwnershipGraph | None = None) -> OwnershipGraph:
    """Build (or extend) a graph from ``gleif-api/`` and ``gleif-golden-copy/`` under a folder."""
    graph = graph if graph is not None else OwnershipGraph()
    api = ownership_dir / "gleif-api"
    if api.is_dir():
        graph.extend(*read_gleif_api(api))
    golden = ownership_dir / "gleif-golden-copy"
    if golden.is_dir():
        for path in sorted(golden.glob("*.xml")):
            root_tag = ET.parse(path).getroot().tag
            if root_tag.endswith("LEIData"):
                graph.extend(read_lei_cdf(path), [])
            elif root_tag.endswith("RelationshipData"):
                graph.extend([], read_rr_cdf(path))
    return graph
