"""trade.gov Consolidated Screening List CSV (29 columns).

One party = one CSL row. The Entity List prints one row per country of an entry (3,409 rows,
3,259 distinct names in the 2026 mirror): each row has its own address, Federal Register
citation and licence text, so merging them would lose which text applies where. Screening
groups by name when it wants entries; counts stay row counts, as the CSL reports them.
"""

from __future__ import annotations

import re
from collections import Counter

from computekyc.lists.countries import country_code, country_name
from computekyc.lists.identifiers import from_csl
from computekyc.lists.model import Address, Alias, Identifier, Party, PartyType
from computekyc.lists.parsing import (
    Report,
    csv_records,
    iso_date,
    mark_truncated,
    name_key,
    require_columns,
    split_multi,
    unique_ids,
)

COLUMNS = [
    "_id",
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "standard_order",
    "license_requirement",
    "license_policy",
    "call_sign",
    "vessel_type",
    "gross_tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
    "source_list_url",
    "alt_names",
    "citizenships",
    "dates_of_birth",
    "nationalities",
    "places_of_birth",
    "source_information_url",
    "ids",
]
# Kept as they are in ``extra``: the row hash, order flag and vessel fields.
_EXTRA = ("_id", "standard_order", *COLUMNS[14:20], "source_information_url")
# Read by name in every row (the others with ``rec.get``).
_REQUIRED = [c for c in COLUMNS if c not in (*_EXTRA, "entity_number", "ids")]
_TYPES = {
    "individual": PartyType.INDIVIDUAL,
    "entity": PartyType.ENTITY,
    "vessel": PartyType.VESSEL,
    "aircraft": PartyType.AIRCRAFT,
}
_CODE = re.compile(r"\(([^)]+)\)")
_ADDRESS_END = re.compile(r"(?:^|,\s*)([A-Z]{2})$")


def matches(header: list[str]) -> bool:
    return header[: len(COLUMNS)] == COLUMNS or (
        {"source", "name", "alt_names", "addresses", "ids"} <= set(header) and len(header) >= 20
    )


def source_code(source: str) -> str:
    """``Entity List (EL) - Bureau…`` → ``EL``; ``(NS-MBS List)`` → ``MBS``."""
    match = _CODE.search(source)
    if not match:
        return re.sub(r"[^A-Z0-9]+", "", source.upper())[:12] or "CSL"
    code = match.group(1).strip().removesuffix(" List")
    return code.removeprefix("NS-")


def _addresses(text: str) -> list[Address]:
    """Split ``; ``-separated addresses; a piece not ending in ``, CC`` continues the next."""
    found: list[Address] = []
    pending: list[str] = []
    for piece in split_multi(text):
        pending.append(piece)
        match = _ADDRESS_END.search(piece)
        if match and country_name(match.group(1)):
            whole = "; ".join(pending)
            body = whole[: -len(match.group(0))].strip().rstrip(",")
            code = match.group(1)
            name = country_name(code)
            # Some rows give only the code: the country is then the whole address.
            found.append(Address(text=body or name or code, country=code, country_name=name))
            pending = []
    if pending:
        # No trailing code (some Crimea rows): fall back to a country name at the end.
        whole = "; ".join(pending)
        last = whole.rstrip(" .)").rsplit(",", 1)[-1].strip()
        code_or_none = country_code(last)
        found.append(
            Address(
                text=whole,
                country=code_or_none,
                country_name=country_name(code_or_none) if code_or_none else None,
            )
        )
    return found


# "CETC 13 subordinate institution: Bowei Integrated Circuits": one EL row per subordinate.
_SUBORDINATE = re.compile(r"^(?P<parent>.+?) subordinate institution:\s*(?P<sub>.+)$")
_MEASURE = re.compile(
    r"Authority: (?P<authority>.+?); imposed (?P<imposed>[\d/]+); status: (?P<status>[^;|]+)"
)
_STATUS_DATE = re.compile(r"(\d{1,2}/\d{1,2}/\d{2,4})")


def _subordinate_alias(party: Party) -> None:
    """The subordinate's own name as an alias, so screening finds the row under that name.

    Parent organisations written in Entity List text ("(a subsidiary of …)", "Parent
    Organization: …") are read by ``computekyc.ownership.listgraph`` from the names.
    """
    match = _SUBORDINATE.match(party.name)
    if match:
        party.aliases.append(Alias(match.group("sub").strip(), alias_type="subordinate"))


def _measures(party: Party) -> None:
    """State (ISN) sanctions print each measure as ``Authority: …; imposed …; status: …``.

    Kept in ``extra["measures"]``; when no measure is still active and all carry an end date,
    the latest end date becomes ``delisted_on`` (an expired ISN measure no longer applies).
    """
    found = [m.groupdict() for m in _MEASURE.finditer(party.remarks or "")]
    if not found:
        return
    ends: list[str] = []
    active = False
    for measure in found:
        measure["status"] = measure["status"].strip()
        measure["imposed"] = iso_date(measure["imposed"]) or measure["imposed"]
        if measure["status"].lower() == "active" or "remain" in measure["status"]:
            active = True
            continue
        date = _STATUS_DATE.findall(measure["status"])
        end = iso_date(date[-1]) if date else None
        if end:
            ends.append(end)
        else:
            active = True  # an ending we cannot date: keep the listing in force
    party.extra["measures"] = found
    party.extra["active"] = active
    if not active and ends and party.delisted_on is None:
        party.delisted_on = max(ends)


# "84 FR 54004, 10/9/19. 85 FR 44161, 7/22/20" (BIS) or "Vol. 79, No. 184, 09/23/14, Federal
# Register" (State): each Federal Register citation (its volume) and the publication date
# printed after it, before the next citation.
_FR_CITATION = re.compile(r"\b(\d{1,3})\s*FR\s*\d+|\bVol\.\s*(\d{1,3}),\s*No\.")
_FR_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b")
# BIS lists whose rows carry no start_date: the Federal Register citations are their dates.
_FR_DATED = ("EL", "MEU")
_FR_FIRST_YEAR = 1935  # volume 1 of the Federal Register is 1936: volume v is year 1935 + v


def fr_listing_date(notice: str) -> tuple[str | None, str | None]:
    """The earliest publication date of the citations in a ``federal_register_notice``, and
    why there is none (``None, reason``) when it cannot be read safely.

    A citation printed without a date ("86 FR 67319") is dated only by its volume's year: if
    that year is not after the earliest date read, the listing may be older than that date, so
    no date is given (a late ``listed_on`` would clear a party for days it was listed)."""
    citations = list(_FR_CITATION.finditer(notice))
    dates: list[str] = []
    undated_years: list[int] = []
    for index, citation in enumerate(citations):
        end = citations[index + 1].start() if index + 1 < len(citations) else len(notice)
        found = _FR_DATE.search(notice, citation.end(), end)
        value = iso_date(found.group(0)) if found else None
        if value:
            dates.append(value)
        else:
            undated_years.append(_FR_FIRST_YEAR + int(citation.group(1) or citation.group(2)))
    if not dates:
        reason = "no Federal Register citation" if not citations else "no date after a citation"
        return None, f"{reason} in federal_register_notice {notice!r}"
    earliest = min(dates)
    if any(year <= int(earliest[:4]) for year in undated_years):
        return None, f"an undated citation may be earlier than {earliest} in {notice!r}"
    return earliest, None


def _listing_date(party: Party, report: Report) -> None:
    """Rows without ``start_date`` (the Entity List, MEU, some ISN): the earliest Federal
    Register date of their citations.

    Where none can be read the listing stays in force on every date and says so:
    ``extra["listing_date"] = "unknown"`` (:attr:`Party.listing_date_unknown`) and a note."""
    if party.listed_on is not None:
        return
    if not party.federal_register and party.source not in _FR_DATED:
        return  # a list that dates its rows otherwise (or not at all): nothing to read here
    date, reason = fr_listing_date("; ".join(party.federal_register))
    if date is not None:
        party.listed_on = date
        return
    party.extra["listing_date"] = "unknown"
    report.note(party.source_line, "federal_register_notice", f"listing date unknown: {reason}")


def _countries(*values: str) -> list[str]:
    codes: list[str] = []
    for value in values:
        for item in split_multi(value):
            code = country_code(item)
            if code and code not in codes:
                codes.append(code)
    return codes


def parse(text: str, report: Report) -> tuple[list[Party], int, dict[str, int]]:
    parties: list[Party] = []
    per_source: Counter[str] = Counter()
    rows = 0
    last = last_bad = 0
    header: list[str] | None = None
    for line, row in csv_records(text, report):
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None or row == header:
            # The 2023 CSL download repeats its header line: a second header is skipped, noted.
            if header is not None:
                report.note(line, None, "repeated header line skipped")
            else:
                require_columns(row, _REQUIRED, report, line)
            header = row
            continue
        last = line
        if len(row) != len(header):
            report.bad(line, None, f"expected {len(header)} columns, found {len(row)}")
            last_bad = line
            continue
        rec = dict(zip(header, row, strict=True))
        name = rec["name"].strip()
        if not name:
            report.bad(line, "name", "empty name")
            continue
        rows += 1
        code = source_code(rec["source"])
        per_source[code] += 1
        addresses = _addresses(rec["addresses"])
        identifiers: list[Identifier] = []
        for item in split_multi(rec.get("ids", "")):
            ident = from_csl(item)
            if ident:
                identifiers.append(ident)
        entity_number = rec.get("entity_number", "").strip()
        key = entity_number or name_key(
            name, ",".join(sorted({a.country or "" for a in addresses}))
        )
        extra = {k: rec[k] for k in _EXTRA if rec.get(k, "").strip()}
        parties.append(
            Party(
                party_id=f"CSL-{code}-{key}",
                source=code,
                name=name,
                type=_TYPES.get(rec["type"].strip().lower(), PartyType.UNKNOWN),
                programs=split_multi(rec["programs"]),
                aliases=[Alias(alias) for alias in split_multi(rec["alt_names"])],
                addresses=addresses,
                identifiers=identifiers,
                countries=_countries(rec["citizenships"], rec["nationalities"]),
                dates_of_birth=split_multi(rec["dates_of_birth"]),
                places_of_birth=split_multi(rec["places_of_birth"]),
                listed_on=iso_date(rec["start_date"]),
                delisted_on=iso_date(rec["end_date"]),
                federal_register=split_multi(rec["federal_register_notice"]),
                license_requirement=rec["license_requirement"].strip() or None,
                license_policy=rec["license_policy"].strip() or None,
                remarks=rec["remarks"].strip() or None,
                title=rec["title"].strip() or None,
                source_url=rec["source_list_url"].strip() or None,
                source_line=line,
                extra=extra,
            )
        )
    if last_bad and last_bad == last:
        mark_truncated(text, report, last)
    for party in parties:
        _subordinate_alias(party)
        _measures(party)
        _listing_date(party, report)
    unique_ids(parties)
    return parties, rows, dict(per_source)
