"""OpenSanctions source tables: DoD 1260H, FCC Covered List, PRC counter-sanctions, BIS MIEU.

These are CSV tables OpenSanctions transcribes from official publications (MIT). Each is
recognised by its header. One party = one row (a 1260H row is one tranche listing of a company,
with its own start and end date; the ``Parent Name`` of a row is its parent edge).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from computekyc.lists.countries import country_code
from computekyc.lists.model import Alias, ParentRef, Party, PartyType
from computekyc.lists.parsing import (
    Report,
    header_records,
    iso_date,
    name_key,
    split_multi,
    unique_ids,
)

_1260H_URL = "https://www.defense.gov/News/Releases/"
_FCC_URL = "https://www.fcc.gov/supplychain/coveredlist"
# "…equipment produced by Huawei Technologies Company, including…" → the company.
_FCC_COMPANY = re.compile(
    r"\b(?:produced(?: or provided)?|provided|supplied(?:, directly or indirectly,)?) by "
    r"(?P<name>.+?)(?:,? (?:including|to the extent|or any of its|subject to|and its)\b|\.?$)"
)
_TYPES = {
    "person": PartyType.INDIVIDUAL,
    "company": PartyType.ENTITY,
    "organization": PartyType.ENTITY,
    "legalentity": PartyType.ENTITY,
    "vessel": PartyType.VESSEL,
    "airplane": PartyType.AIRCRAFT,
}


def kind(header: list[str]) -> str | None:
    cols = set(header)
    if {"Clean Name", "Parent Name", "Start date"} <= cols:
        return "dod-1260h"
    if "covered_equipment_or_services" in cols:
        return "fcc-covered"
    if {"Chinese name", "Body", "List"} <= cols:
        return "cn-countersanctions"
    if {"Type", "Name", "Program", "Topics"} <= cols:
        return "opensanctions-table"
    return None


def _dod_1260h(line: int, rec: dict[str, str], report: Report) -> Party | None:
    name = rec["Clean Name"] or rec["Name"]
    if not name:
        report.bad(line, "Clean Name", "empty name")
        return None
    start = iso_date(rec["Start date"])
    aliases = [Alias(a) for a in split_multi(rec["Alias"], ";")]
    aliases += [Alias(a, alias_type="previous") for a in split_multi(rec["Previous Name"], ";")]
    if rec["Name"] and rec["Name"] != name:
        aliases.append(Alias(rec["Name"].rstrip("*").strip(), alias_type="as-published"))
    parent = rec["Parent Name"]
    return Party(
        party_id=f"1260H-{name_key(name)}-{start or 'undated'}",
        source="1260H",
        name=name,
        type=PartyType.ENTITY,
        programs=["1260H"],
        aliases=aliases,
        listed_on=start,
        delisted_on=iso_date(rec["End date"]),
        remarks=rec["Note"] or None,
        parents=[ParentRef(name=parent, relation="parent", source_text=parent)] if parent else [],
        source_url=rec["Source Url"] or _1260H_URL,
        source_line=line,
        # The trailing "*" in the published name marks a company re-listed from earlier tranches.
        extra={"published_name": rec["Name"]} if rec["Name"] else {},
    )


def _fcc(line: int, rec: dict[str, str], report: Report) -> Party | None:
    text = rec["covered_equipment_or_services"]
    match = _FCC_COMPANY.search(text)
    if not match:
        # Category entries ("Routers produced in a foreign country…") name no company.
        report.note(line, "covered_equipment_or_services", "names no company: not a party")
        return None
    name = match.group("name").strip().rstrip(",")
    return Party(
        party_id=f"FCC-{name_key(name)}",
        source="FCC",
        name=name,
        type=PartyType.ENTITY,
        programs=["FCC-COVERED"],
        listed_on=iso_date(rec["date_of_inclusion_on_covered_list"]),
        remarks=text,
        source_url=_FCC_URL,
        source_line=line,
    )


def _cn(line: int, rec: dict[str, str], report: Report) -> Party | None:
    if not rec["Name"] and not rec["Chinese name"]:
        report.bad(line, "Name", "empty name")
        return None
    name = rec["Name"] or rec["Chinese name"]
    aliases = [Alias(a) for a in split_multi(rec["Alias"], ";")]
    if rec["Chinese name"] and rec["Chinese name"] != name:
        aliases.append(Alias(rec["Chinese name"], alias_type="original-script", script="Hani"))
    country = country_code(rec["Country"])
    date = iso_date(rec["Date"])
    return Party(
        party_id=f"CNCS-{name_key(name, date)}",
        source="CN-CS",
        name=name,
        type=_TYPES.get(rec["Type"].lower(), PartyType.UNKNOWN),
        programs=[p for p in [rec["List"] or rec["Body"]] if p],
        aliases=aliases,
        countries=[country] if country else [],
        listed_on=date,
        delisted_on=iso_date(rec["End date"]),
        remarks=rec["Summary"] or rec["Chinese summary"] or None,
        source_url=rec["Source URL"] or None,
        source_line=line,
        extra={"body": rec["Body"]} if rec["Body"] else {},
    )


def _table(line: int, rec: dict[str, str], report: Report) -> Party | None:
    if not rec["Name"]:
        report.bad(line, "Name", "empty name")
        return None
    program = rec["Program"]
    # US-BIS-MIEU → MIEU: the short code after the issuing body, as the CSL codes read.
    code = program.rsplit("-", 1)[-1] if program else "OS"
    country = country_code(rec.get("Country"))
    return Party(
        party_id=f"{code}-{name_key(rec['Name'])}",
        source=code,
        name=rec["Name"],
        type=_TYPES.get(rec["Type"].lower(), PartyType.UNKNOWN),
        programs=[program] if program else [],
        aliases=[Alias(a) for a in split_multi(rec.get("Alias"), ";")],
        countries=[country] if country else [],
        listed_on=iso_date(rec.get("Date")),
        delisted_on=iso_date(rec.get("End date")),
        source_url=rec.get("Source URL") or None,
        source_line=line,
    )


_BUILDERS: dict[str, Callable[[int, dict[str, str], Report], Party | None]] = {
    "dod-1260h": _dod_1260h,
    "fcc-covered": _fcc,
    "cn-countersanctions": _cn,
    "opensanctions-table": _table,
}


# The columns each builder reads by name (others with ``rec.get``).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "dod-1260h": (
        "Name", "Clean Name", "Alias", "Previous Name", "Parent Name", "Note", "Start date",
        "End date", "Source Url",
    ),
    "fcc-covered": ("covered_equipment_or_services", "date_of_inclusion_on_covered_list"),
    "cn-countersanctions": (
        "Type", "Name", "Alias", "Chinese name", "Country", "List", "Body", "Date", "End date",
        "Summary", "Chinese summary", "Source URL",
    ),
    "opensanctions-table": ("Type", "Name", "Program"),
}  # fmt: skip


def parse(fmt: str, text: str, report: Report) -> tuple[list[Party], int]:
    build = _BUILDERS[fmt]
    parties: list[Party] = []
    rows = 0
    for line, rec in header_records(text, report, required=_REQUIRED[fmt]):
        party = build(line, rec, report)
        rows += 1
        if party is not None:
            parties.append(party)
    unique_ids(parties)
    if fmt == "dod-1260h":
        _link_parents(parties)
    return parties, rows


def _link_parents(parties: list[Party]) -> None:
    """Point a 1260H parent at its own 1260H listing when the parent is listed too (CETC…)."""
    by_name: dict[str, str] = {}
    for party in parties:
        for name in party.all_names():
            by_name.setdefault(name_key(name), party.party_id)
    for party in parties:
        party.parents = [
            replace(ref, party_id=by_name.get(name_key(ref.name), ref.party_id))
            for ref in party.parents
        ]
