"""FollowTheMoney entity JSON lines (OpenSanctions / yente exports).

Parties are the "thing" entities (Person, Company, Organization, LegalEntity, Vessel, Airplane);
``extra["target"]`` says whether OpenSanctions marks them as sanctioned targets (non-targets are
kept because ownership needs them: a company 100% owned by a listed person). ``Ownership``
edges become :class:`ParentRef` on the asset, with the percentage when stated; ``Sanction``
records give programs and listing/end dates; ``Address`` and ``Passport`` entities are folded
into their holders.
"""

from __future__ import annotations

import json
from typing import Any

from computekyc.lists.countries import country_code
from computekyc.lists.model import Address, Alias, Identifier, ParentRef, Party, PartyType
from computekyc.lists.parsing import Report, iso_date, mark_truncated

THINGS = {
    "Person": PartyType.INDIVIDUAL,
    "Company": PartyType.ENTITY,
    "Organization": PartyType.ENTITY,
    "LegalEntity": PartyType.ENTITY,
    "PublicBody": PartyType.ENTITY,
    "Vessel": PartyType.VESSEL,
    "Airplane": PartyType.AIRCRAFT,
}
_ID_PROPS = {
    "registrationNumber": "registration",
    "innCode": "tax-id",
    "taxNumber": "tax-id",
    "ogrnCode": "registration",
    "leiCode": "lei",
    "swiftBic": "swift",
    "imoNumber": "imo",
    "idNumber": "national-id",
    "passportNumber": "passport",
    "uscCode": "uscc",
    "kppCode": "kpp",
}


def matches(first_line: str) -> bool:
    try:
        data = json.loads(first_line)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and {"id", "schema", "properties"} <= data.keys()


def _first(props: dict[str, list[str]], key: str) -> str | None:
    values = props.get(key) or []
    return values[0] if values else None


def _share(props: dict[str, list[str]]) -> float | None:
    raw = _first(props, "percentage")
    try:
        return float(raw.rstrip("%")) if raw else None
    except ValueError:
        return None


def _properties(raw: Any, line: int, report: Report) -> dict[str, list[str]]:
    """FtM properties as lists of strings. A property written as one string is one value (not
    one value per letter); numbers, objects and other types are reported and left out."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        report.warn(line, "properties", f"expected an object, found {type(raw).__name__}: ignored")
        return {}
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            values = [value]
        elif isinstance(value, list):
            values = [v for v in value if isinstance(v, str)]
            if len(values) != len(value):
                odd = next(type(v).__name__ for v in value if not isinstance(v, str))
                report.warn(line, f"properties.{key}", f"values that are not text ({odd}) left out")
        else:
            report.warn(
                line,
                f"properties.{key}",
                f"expected a list of strings, found {type(value).__name__}: ignored",
            )
            continue
        values = [v.strip() for v in values if v.strip()]
        if values:
            out[str(key)] = values
    return out


def _entity(raw: str, line: int, report: Report) -> dict[str, Any] | None:
    """One JSON line as a checked entity (``properties`` normalised), or None (reported)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        report.bad(line, None, f"not JSON: {exc}")
        return None
    except RecursionError:
        report.bad(line, None, "not a FollowTheMoney entity: JSON nested too deeply")
        return None
    if not isinstance(data, dict) or "id" not in data or "schema" not in data:
        report.bad(line, "schema", "not a FollowTheMoney entity (no id/schema)")
        return None
    for key in ("id", "schema"):
        if not isinstance(data[key], str) or not data[key].strip():
            report.bad(line, key, f"expected a non-empty string, found {data[key]!r:.60}")
            return None
    caption = data.get("caption")
    if caption is not None and not isinstance(caption, str):
        report.warn(line, "caption", f"expected a string, found {type(caption).__name__}: ignored")
        caption = None
    return {
        **data,
        "caption": (caption or "").strip(),
        "properties": _properties(data.get("properties"), line, report),
    }


def parse(text: str, report: Report) -> tuple[list[Party], int]:
    entities: dict[str, tuple[int, dict[str, Any]]] = {}
    rows = last_bad = 0
    lines = text.splitlines()
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        data = _entity(raw, line, report)
        if data is None:
            last_bad = line
            continue
        rows += 1
        entities[data["id"]] = (line, data)
    if last_bad and last_bad == len(lines):
        mark_truncated(text, report, last_bad)
    parties: dict[str, Party] = {}
    for ent_id, (line, data) in entities.items():
        ptype = THINGS.get(data["schema"])
        if ptype is None:
            continue
        props: dict[str, list[str]] = data["properties"]
        names = props.get("name") or [data["caption"]]
        name = data["caption"] or names[0]
        if not name:
            report.bad(line, "name", f"{data['schema']} {ent_id}: no name nor caption")
            continue
        aliases = [Alias(n) for n in names if n != name]
        aliases += [Alias(n) for n in props.get("alias", []) if n != name]
        aliases += [Alias(n, alias_type="previous") for n in props.get("previousName", [])]
        countries = []
        for key in ("country", "nationality", "citizenship", "jurisdiction"):
            for value in props.get(key, []):
                code = country_code(value)
                if code and code not in countries:
                    countries.append(code)
        idents = [
            Identifier(scheme=scheme, value=value)
            for prop, scheme in _ID_PROPS.items()
            for value in props.get(prop, [])
        ]
        addresses = [Address(text=a) for a in props.get("address", [])]
        parties[ent_id] = Party(
            party_id=f"FTM-{ent_id}",
            source="FTM",
            name=name,
            type=ptype,
            aliases=aliases,
            addresses=addresses,
            identifiers=idents,
            countries=countries,
            dates_of_birth=props.get("birthDate", []),
            places_of_birth=props.get("birthPlace", []),
            remarks="\n".join(props.get("notes", [])) or None,
            source_line=line,
            extra={"schema": data["schema"], "target": bool(data.get("target"))},
        )
    for ent_id, (line, data) in entities.items():
        props = data["properties"]
        schema = data["schema"]
        if schema == "Ownership":
            owner_id, asset_id = _first(props, "owner"), _first(props, "asset")
            asset = parties.get(asset_id or "")
            owner = parties.get(owner_id or "")
            if asset is None or owner is None:
                report.warn(line, "asset", f"Ownership {ent_id}: owner or asset not in the file")
                continue
            asset.parents.append(
                ParentRef(
                    name=owner.name,
                    party_id=owner.party_id,
                    share=_share(props),
                    relation="owner",
                    source_text=_first(props, "role"),
                )
            )
        elif schema == "Sanction":
            holder = parties.get(_first(props, "entity") or "")
            if holder is None:
                report.warn(line, "entity", f"Sanction {ent_id}: entity not in the file")
                continue
            for program in props.get("programId", []) or props.get("program", []):
                if program not in holder.programs:
                    holder.programs.append(program)
            dates = [d for d in (iso_date(x) for x in props.get("startDate", [])) if d]
            dates += [d for d in (iso_date(x) for x in props.get("listingDate", [])) if d]
            if dates and (holder.listed_on is None or min(dates) < holder.listed_on):
                holder.listed_on = min(dates)
            ends = [d for d in (iso_date(x) for x in props.get("endDate", [])) if d]
            if ends:
                holder.delisted_on = max(ends)
        elif schema == "Address":
            continue  # joined below through addressEntity
        elif schema in ("Passport", "Identification"):
            holder = parties.get(_first(props, "holder") or "")
            number = _first(props, "number") or _first(props, "passportNumber")
            if holder is not None and number:
                holder.identifiers.append(
                    Identifier(
                        scheme="passport" if schema == "Passport" else "national-id",
                        value=number,
                        country=country_code(_first(props, "country")),
                    )
                )
    for ent_id, party in parties.items():
        _, data = entities[ent_id]
        for addr_id in data["properties"].get("addressEntity", []):
            addr = entities.get(addr_id)
            if addr is None:
                continue
            full = _first(addr[1]["properties"], "full")
            if full and all(a.text != full for a in party.addresses):
                country = country_code(_first(addr[1]["properties"], "country"))
                party.addresses.append(Address(text=full, country=country))
    return list(parties.values()), rows
