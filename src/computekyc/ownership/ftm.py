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

from computekyc.exc import InputError
from computekyc.lists.partytypes import party_type
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


def _percent(props: dict[str, Any]) -> tuple[float | None, str | None]:
    """The stated percentage, or None with what is wrong with it (kept for a red flag: a share
    of -300% or 5000% is bad data to resolve, never a stake to count or drop silently)."""
    raw = _first(props, "percentage")
    if raw is None:
        return None, None
    try:
        value = float(raw.strip().rstrip("%").replace(",", "."))
    except ValueError:
        return None, f"unreadable percentage {raw!r}"
    if not 0 <= value <= 100:  # NaN too
        return None, f"percentage {raw!r} outside 0..100%"
    return value, None


def read_ftm(path: Path) -> tuple[list[Node], list[Edge]]:
    nodes: list[Node] = []
    edges: list[Edge] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entity = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as error:
                raise InputError(f"invalid JSON: {error}", file=path, line=number) from None
            if not isinstance(entity, dict) or not entity.get("id"):
                raise InputError("not a FollowTheMoney entity", file=path, line=number, field="id")
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
                        type=str(party_type(schema, file=str(path), line=number, field="schema")),
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
                share, problem = _percent(props) if schema == "Ownership" else (None, None)
                if owner == asset:
                    problem = "states that the entity owns or directs itself"
                edges.append(
                    Edge(
                        parent=ftm_key(owner),
                        child=ftm_key(asset),
                        share=share,
                        relation="owner" if schema == "Ownership" else "director-of",
                        source="FTM",
                        valid_from=_day(_first(props, "startDate")),
                        valid_to=_day(_first(props, "endDate")),
                        evidence=f"FtM {schema} {eid}" + (f" ({role})" if role else ""),
                        problem=problem,
                    )
                )
    return nodes, edges


def load_ftm(paths: list[Path], graph: OwnershipGraph | None = None) -> OwnershipGraph:
    graph = graph if graph is not None else OwnershipGraph()
    for path in paths:
        graph.extend(*read_ftm(path))
    return graph
