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
from computekyc.lists.parsing import Report, iso_date

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
    except ValueError:
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


def parse(text: str, report: Report) -> tuple[list[Party], int]:
    entities: dict[str, tuple[int, dict[str, Any]]] = {}
    rows = 0
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except ValueError as exc:
            report.bad(line, None, f"not JSON: {exc}")
            continue
        if not isinstance(data, dict) or "id" not in data or "schema" not in data:
            report.bad(line, "schema", "not a FollowTheMoney entity (no id/schema)")
            continue
        rows += 1
        entities[data["id"]] = (line, data)
    parties: dict[str, Party] = {}
    for ent_id, (line, data) in entities.items():
        ptype = THINGS.get(data["schema"])
        if ptype is None:
            continue
        props: dict[str, list[str]] = data.get("properties", {})
        names = props.get("name") or [data.get("caption", "")]
        name = data.get("caption") or names[0]
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
        props = data.get("properties", {})
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
        for addr_id in data.get("properties", {}).get("addressEntity", []):
            addr = entities.get(addr_id)
            if addr is None:
                continue
            full = _first(addr[1].get("properties", {}), "full")
            if full and all(a.text != full for a in party.addresses):
                country = country_code(_first(addr[1].get("properties", {}), "country"))
                party.addresses.append(Address(text=full, country=country))
    return list(parties.values()), rows
