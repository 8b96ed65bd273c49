"""FollowTheMoney (FtM) entity JSON lines → graph nodes and dated Ownership/Directorship edges.

The lists package turns FtM entities into parties; this reader keeps what a party cannot hold:
each ``Ownership`` statement with its percentage and start/end dates (ownership of a company
changes over time, and a determination "as of" a date must see the stakes held then), and each
``Directorship`` (for the shared-director red flag).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from computekyc.ownership.graph import OwnershipGraph
from computekyc.ownership.model import Edge, Node

PARTY_SCHEMAS = {"Company", "Organization", "LegalEntity", "Person", "PublicBody"}
ID_PROPS = {"innCode": "inn", "ogrnCode": "ogrn", "leiCode": "lei", "registrationNumber": "reg"}


def ftm_key(entity_id: str) -> str:
    # The same key the lists package's FtM parties get (party id "FTM-<entity id>"), so a
    # customer matched to an FtM party lands on this node.
    return f"party:FTM-{entity_id}"


def _first(props: dict[str, Any], name: str) -> str | None:
    values = props.get(name) or []
    return str(values[0]) if values else None


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        # FtM allows partial dates ("2015", "2015-11"); keep the earliest day they can mean.
        parts = ([*value.split("-"), "01", "01"])[:3]
        return date(int(parts[0]), int(parts[1] or 1), int(parts[2] or 1))


def _percent(props: dict[str, Any]) -> float | None:
    raw = _first(props, "percentage")
    if raw is None:
        return None
    try:
        return float(raw.rstrip("%").replace(",", "."))
    except ValueError:
        return None


def read_ftm(path: Path) -> tuple[list[Node], list[Edge]]:
    nodes: list[Node] = []
    edges: list[Edge] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            entity = json.loads(line)
            schema = entity.get("schema")
            props: dict[str, Any] = entity.get("properties") or {}
            eid = str(entity["id"])
            if schema in PARTY_SCHEMAS:
                identifiers = tuple(
                    (scheme, str(value))
                    for prop, scheme in ID_PROPS.items()
                    for value in props.get(prop) or []
                )
                country = _first(props, "jurisdiction") or _first(props, "country")
                nodes.append(
                    Node(
                        key=ftm_key(eid),
                        name=str(entity.get("caption") or _first(props, "name") or eid),
                        type="individual" if schema == "Person" else "entity",
                        country=country.upper() if country else None,
                        headquarters_country=country.upper() if country else None,
                        identifiers=identifiers,
                        source=f"FTM:{path.name}",
                    )
                )
            elif schema in {"Ownership", "Directorship"}:
                owner_prop, asset_prop = (
                    ("owner", "asset") if schema == "Ownership" else ("director", "organization")
                )
                owner, asset = _first(props, owner_prop), _first(props, asset_prop)
                if not owner or not asset:
                    continue
                role = _first(props, "role")
                edges.append(
                    Edge(
                        parent=ftm_key(owner),
                        child=ftm_key(asset),
                        share=_percent(props) if schema == "Ownership" else None,
                        relation="owner" if schema == "Ownership" else "director-of",
                        source="FTM",
                        valid_from=_day(_first(props, "startDate")),
                        valid_to=_day(_first(props, "endDate")),
                        evidence=f"FtM {schema} {eid}" + (f" ({role})" if role else ""),
                    )
                )
    return nodes, edges


def load_ftm(paths: list[Path], graph: OwnershipGraph | None = None) -> OwnershipGraph:
    graph = graph if graph is not None else OwnershipGraph()
    for path in paths:
        graph.extend(*read_ftm(path))
    return graph
