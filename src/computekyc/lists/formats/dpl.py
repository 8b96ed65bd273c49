"""BIS Denied Persons List as BIS publishes it: tab-separated, quoted, with a header line.

The DPL has no id column; a party is one order: id ``DPL-<hash(name, effective date)>``.
"""

from __future__ import annotations

from computekyc.lists.countries import country_code, country_name
from computekyc.lists.model import Address, Party
from computekyc.lists.parsing import Report, header_records, iso_date, name_key, unique_ids

HEADER = {"Name", "Street_Address", "City", "Country", "Effective_Date", "FR_Citation"}
_URL = "https://www.bis.gov/dpl"


def matches(first_line: str) -> bool:
    cells = {c.strip().strip('"') for c in first_line.split("\t")}
    return cells >= HEADER


def parse(text: str, report: Report) -> tuple[list[Party], int]:
    parties: list[Party] = []
    rows = 0
    for line, rec in header_records(text, report, delimiter="\t"):
        if not rec["Name"]:
            report.bad(line, "Name", "empty name")
            continue
        rows += 1
        code = country_code(rec.get("Country"))
        parts = [rec.get(k, "") for k in ("Street_Address", "City", "State", "Postal_Code")]
        address = Address(
            text=", ".join(p for p in [*parts, rec.get("Country", "")] if p),
            street=rec.get("Street_Address") or None,
            city=rec.get("City") or None,
            state=rec.get("State") or None,
            postal_code=rec.get("Postal_Code") or None,
            country=code,
            country_name=country_name(code) if code else rec.get("Country") or None,
        )
        effective = iso_date(rec.get("Effective_Date"))
        parties.append(
            Party(
                party_id=f"DPL-{name_key(rec['Name'], effective)}",
                source="DPL",
                name=rec["Name"],
                addresses=[address] if address.text else [],
                listed_on=effective,
                federal_register=[rec["FR_Citation"]] if rec.get("FR_Citation") else [],
                source_url=_URL,
                source_line=line,
                extra={
                    k.lower(): rec[k]
                    for k in ("Expiration_Date", "Standard_Order", "Last_Update", "Action")
                    if rec.get(k)
                },
            )
        )
    unique_ids(parties)
    return parties, rows
