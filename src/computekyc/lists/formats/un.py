"""UN Security Council Consolidated List XML (``CONSOLIDATED_LIST`` with INDIVIDUALS, ENTITIES).

Party id ``UN-<REFERENCE_NUMBER>`` (e.g. ``UN-CDi.001``): the reference number is the UN's own
permanent key of a listing. Alias QUALITY ``Good``/``Low`` becomes the alias strength.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from computekyc.lists.countries import country_code
from computekyc.lists.model import Address, Alias, Identifier, Party, PartyType
from computekyc.lists.parsing import Report, iso_date

_SOURCE_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
_DOC_SCHEMES = {
    "passport": "passport",
    "numéro de passeport": "passport",
    "número de pasaporte": "passport",
    "national identification number": "national-id",
}
_ALIAS_TYPES = {"a.k.a.": "aka", "f.k.a.": "fka", "good": "aka", "low": "weak-aka"}


def _text(node: ET.Element | None, tag: str) -> str:
    if node is None:
        return ""
    return re.sub(r"\s+", " ", node.findtext(tag) or "").strip()


def _values(node: ET.Element, tag: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", v.text).strip()
        for v in node.findall(f"{tag}/VALUE")
        if v.text and v.text.strip()
    ]


def _address(node: ET.Element) -> Address | None:
    parts = {tag: _text(node, tag) for tag in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE")}
    country = _text(node, "COUNTRY")
    note = _text(node, "NOTE")
    text = ", ".join(p for p in (*parts.values(), country) if p)
    if not text:
        return None
    if note:
        text = f"{text} ({note})"
    return Address(
        text=text,
        street=parts["STREET"] or None,
        city=parts["CITY"] or None,
        state=parts["STATE_PROVINCE"] or None,
        postal_code=parts["ZIP_CODE"] or None,
        country=country_code(country),
        country_name=country or None,
    )


def _dob(node: ET.Element) -> str | None:
    kind = _text(node, "TYPE_OF_DATE").upper()
    if kind == "BETWEEN":
        low, high = _text(node, "FROM_YEAR"), _text(node, "TO_YEAR")
        return f"{low}/{high}" if low or high else None
    value = iso_date(_text(node, "DATE")) or _text(node, "YEAR")
    if value and kind == "APPROXIMATELY":
        return f"circa {value}"
    return value or None


def parse(data: bytes, report: Report) -> tuple[list[Party], int]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        report.bad(exc.position[0], None, f"XML not well-formed: {exc}")
        return [], 0
    except ValueError as exc:  # e.g. an encoding the declaration names but Python lacks
        report.bad(None, None, f"XML not readable: {exc}")
        return [], 0
    # ElementTree keeps no line numbers: find each listing's line from its reference number,
    # so every party still points at its place in the file.
    lines: dict[str, int] = {}
    for line_no, raw in enumerate(data.splitlines(), start=1):
        if b"<REFERENCE_NUMBER>" in raw:
            found = raw.split(b"<REFERENCE_NUMBER>", 1)[1].split(b"<", 1)[0]
            lines.setdefault(found.decode("utf-8", "replace").strip(), line_no)
    parties: list[Party] = []
    rows = 0
    for tag, kind in (("INDIVIDUALS/INDIVIDUAL", "INDIVIDUAL"), ("ENTITIES/ENTITY", "ENTITY")):
        for node in root.findall(tag):
            ref = _text(node, "REFERENCE_NUMBER")
            name = " ".join(
                _text(node, t)
                for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
                if _text(node, t)
            )
            if not ref or not name:
                report.bad(
                    None,
                    "REFERENCE_NUMBER" if not ref else "FIRST_NAME",
                    f"{kind} {_text(node, 'DATAID')}: missing reference number or name",
                )
                continue
            rows += 1
            party = Party(
                party_id=f"UN-{ref}",
                source="UN",
                name=name,
                type=PartyType.INDIVIDUAL if kind == "INDIVIDUAL" else PartyType.ENTITY,
                programs=[p for p in [_text(node, "UN_LIST_TYPE")] if p],
                listed_on=iso_date(_text(node, "LISTED_ON")),
                remarks=_text(node, "COMMENTS1") or None,
                title="; ".join(_values(node, "TITLE") + _values(node, "DESIGNATION")) or None,
                source_url=_SOURCE_URL,
                source_line=lines.get(ref),
                extra={"dataid": _text(node, "DATAID"), "reference_number": ref},
            )
            original = _text(node, "NAME_ORIGINAL_SCRIPT")
            if original:
                party.aliases.append(Alias(original, alias_type="original-script"))
            for alias in node.findall(f"{kind}_ALIAS"):
                alias_name = _text(alias, "ALIAS_NAME")
                if not alias_name:
                    continue
                quality = _text(alias, "QUALITY").lower()
                party.aliases.append(
                    Alias(
                        alias_name,
                        alias_type=_ALIAS_TYPES.get(quality, "aka"),
                        strength=quality if quality in ("good", "low") else None,
                    )
                )
            for addr_node in node.findall(f"{kind}_ADDRESS"):
                address = _address(addr_node)
                if address:
                    party.addresses.append(address)
            for nationality in _values(node, "NATIONALITY"):
                code = country_code(nationality)
                if code and code not in party.countries:
                    party.countries.append(code)
            for doc in node.findall("INDIVIDUAL_DOCUMENT"):
                number = _text(doc, "NUMBER")
                if not number:
                    continue
                label = _text(doc, "TYPE_OF_DOCUMENT")
                issuer = _text(doc, "ISSUING_COUNTRY") or _text(doc, "COUNTRY_OF_ISSUE")
                party.identifiers.append(
                    Identifier(
                        scheme=_DOC_SCHEMES.get(label.lower(), "document"),
                        value=number,
                        country=country_code(issuer),
                        note="; ".join(
                            p for p in (label, _text(doc, "DATE_OF_ISSUE"), _text(doc, "NOTE")) if p
                        )
                        or None,
                    )
                )
            for dob_node in node.findall("INDIVIDUAL_DATE_OF_BIRTH"):
                dob = _dob(dob_node)
                if dob:
                    party.dates_of_birth.append(dob)
            for pob in node.findall("INDIVIDUAL_PLACE_OF_BIRTH"):
                place = ", ".join(
                    p for p in (_text(pob, t) for t in ("CITY", "STATE_PROVINCE", "COUNTRY")) if p
                )
                if place:
                    party.places_of_birth.append(place)
            gender = _text(node, "GENDER")
            if gender:
                party.extra["gender"] = gender
            parties.append(party)
    return parties, rows
