"""Identifiers printed in remarks (OFAC) or in the CSL ``ids`` column → :class:`Identifier`.

The label → scheme table is shared by both layouts: OFAC writes ``Tax ID No. 7707083893
(Russia)`` inside Remarks, the CSL writes ``Tax ID No., 7707083893, RU`` in ``ids``.
"""

from __future__ import annotations

import re

from computekyc.lists.countries import country_code
from computekyc.lists.model import Identifier

# Longest labels first so "National ID No." wins over "ID No.". Values are schemes.
_LABELS: dict[str, str] = {
    "Unified Social Credit Code (USCC)": "uscc",
    "Unified Social Credit Code": "uscc",
    "Legal Entity Number": "lei",
    "LEI": "lei",
    "Registration Number": "registration",
    "Registration ID": "registration",
    "Business Registration Number": "registration",
    "Business Registration Document #": "registration",
    "Commercial Registry Number": "registration",
    "Company Number": "registration",
    "Chamber of Commerce Number": "registration",
    "Trade License No.": "registration",
    "Certificate of Incorporation Number": "registration",
    "Enterprise Number": "registration",
    "Public Registration Number": "registration",
    "Government Gazette Number": "registration",
    "Passport": "passport",
    "Diplomatic Passport": "passport",
    "National ID No.": "national-id",
    "National Foreign ID Number": "national-id",
    "Identification Number": "national-id",
    "Personal ID Card": "national-id",
    "Cedula No.": "national-id",
    "C.U.R.P.": "national-id",
    "D.N.I.": "national-id",
    "Citizen's Card Number": "national-id",
    "Residency Number": "national-id",
    "SSN": "national-id",
    "Tax ID No.": "tax-id",
    "R.F.C.": "tax-id",
    "RFC": "tax-id",
    "C.U.I.T.": "tax-id",
    "NIT #": "tax-id",
    "V.A.T. Number": "vat",
    "Vessel Registration Identification": "imo",
    "IMO": "imo",
    "MMSI": "mmsi",
    "SWIFT/BIC": "swift",
    "D-U-N-S Number": "duns",
    "ISIN": "isin",
    "Equity Ticker": "ticker",
    "Aircraft Manufacturer's Serial Number (MSN)": "aircraft-msn",
    "Aircraft Tail Number": "aircraft-tail",
    "Driver's License No.": "drivers-license",
    "Digital Currency Address - XBT": "crypto-xbt",
    "Digital Currency Address - ETH": "crypto-eth",
    "Digital Currency Address - USDT": "crypto-usdt",
    "Digital Currency Address - TRX": "crypto-trx",
    "BIK (RU)": "bik",
    "Kommersant Number": "registration",
    "Folio Mercantil No.": "registration",
    "Matricula Mercantil No": "registration",
    "Russian Federal Registration Number": "registration",
}
_ORDERED = sorted(_LABELS, key=len, reverse=True)
_PREFIXES = tuple(_ORDERED)
_REMARK = re.compile(
    r"^(?:alt\. )?(?P<label>"
    + "|".join(re.escape(label) for label in _ORDERED)
    + r")\s+(?P<value>[^\s(;][^(;]*?)(?:\s+\((?P<country>[^)]+)\))?"
    + r"(?P<note>\s+(?:[Ii]ssued|[Ee]xpires|[Ee]xpiration|[Ii]ssue).*)?$"
)


def scheme_for(label: str) -> str | None:
    return _LABELS.get(label.strip())


def from_remark(item: str) -> Identifier | None:
    """Identifier from one ``; ``-separated OFAC remarks item, e.g. ``Passport X (Iran)``."""
    text = item.strip().rstrip(".")
    if not text.removeprefix("alt. ").startswith(_PREFIXES) and not text.startswith(_PREFIXES):
        return None  # no label begins it: the pattern cannot match (most remarks items)
    match = _REMARK.match(text)
    if not match:
        return None
    value = match.group("value").strip()
    scheme = _LABELS[match.group("label")]
    if scheme == "imo":
        value = value.removeprefix("IMO").strip()
    country = match.group("country")
    note = (match.group("note") or "").strip() or None
    return Identifier(scheme=scheme, value=value, country=country_code(country), note=note)


def from_csl(item: str) -> Identifier | None:
    """Identifier from one CSL ``ids`` item: ``Label, value, CC`` (country may be empty)."""
    parts = [p.strip() for p in item.split(", ")]
    if len(parts) < 2:
        return None
    label = parts[0]
    country: str | None = None
    if len(parts) >= 3 and (parts[-1] == "" or re.fullmatch(r"[A-Z]{2}", parts[-1])):
        country = parts[-1] or None
        value = ", ".join(parts[1:-1])
    else:
        value = ", ".join(parts[1:])
    scheme = scheme_for(label)
    if scheme is None:
        return None
    if scheme == "imo":
        value = value.removeprefix("IMO").strip()
    return Identifier(scheme=scheme, value=value, country=country)
