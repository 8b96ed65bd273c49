"""OFAC legacy CSV files: SDN.CSV / CONS_PRIM.CSV and their ALT, ADD and COMMENTS companions.

No header; ``-0-`` means empty; a trailing Ctrl-Z (0x1A) line ends each file. Remarks are cut
at about 1,000 characters and continue in the COMMENTS file. The companions are often newer than
the primary file, so alias/address rows whose entity is missing ("orphans") are reported, not
fatal. SDN and CONS_PRIM share one layout: a file is the consolidated (non-SDN) list when most of
its rows carry non-SDN programs (CMIC, NS-PLC, the Ukraine directive programs, 561-Related).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from computekyc.lists.countries import country_code
from computekyc.lists.identifiers import from_remark
from computekyc.lists.model import Address, Alias, Party, PartyType
from computekyc.lists.parsing import Report, clean, csv_records, iso_date, mark_truncated

PRIMARY_COLUMNS = 12
_TYPES = {
    "": PartyType.ENTITY,
    "individual": PartyType.INDIVIDUAL,
    "vessel": PartyType.VESSEL,
    "aircraft": PartyType.AIRCRAFT,
}
_ALT_TYPES = {"aka", "fka", "nka"}
# Programs that put an entry on the consolidated non-SDN list rather than the SDN list.
CONS_PROGRAMS = {"CMIC-EO13959", "NS-PLC", "UKRAINE-EO13662", "561-Related"}
_AKA = re.compile(r"\b([afn])\.k\.a\.,? '(.+?)'(?=[;.,]|\s*$)")


def rows_of(text: str, report: Report) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) per record; the Ctrl-Z end-of-file marker is dropped."""
    for line, row in csv_records(text, report):
        if row and not (len(row) == 1 and row[0].strip() in ("\x1a", "")):
            yield line, row


def sniff(rows: list[list[str]]) -> str | None:
    """Which OFAC file these first records come from, or None."""
    if not rows or not all(r and r[0].strip().isdigit() for r in rows):
        return None
    widths = Counter(len(r) for r in rows)
    width = widths.most_common(1)[0][0]
    if width == PRIMARY_COLUMNS and all(
        clean(r[2]).lower() in _TYPES for r in rows if len(r) == width
    ):
        return "ofac-prim"
    if width == 5 and all(r[2].strip().lower() in _ALT_TYPES for r in rows if len(r) == 5):
        return "ofac-alt"
    if width == 6 and all(r[1].strip().isdigit() for r in rows if len(r) == 6):
        return "ofac-add"
    if width == 2:
        return "ofac-comments"
    return None


def cons_code(programs: list[str]) -> str:
    """The CSL code of a consolidated (non-SDN) entry, from its programs.

    CMIC-EO13959 → CMIC, NS-PLC → PLC, 561-Related (CAPTA) → CAP, the Ukraine directive
    program → SSI; the remaining menu-based programs (EO 14024 directives, CAATSA, Burma,
    EO 14059) → MBS.
    """
    if "CMIC-EO13959" in programs:
        return "CMIC"
    if "NS-PLC" in programs:
        return "PLC"
    if "561-Related" in programs:
        return "CAP"
    if "UKRAINE-EO13662" in programs:
        return "SSI"
    return "MBS"


def _programs(text: str) -> list[str]:
    return [p.strip() for p in clean(text).strip("[]").split("] [") if p.strip()]


def apply_remarks(party: Party) -> None:
    """Read aliases, dates and places of birth, nationality and identifiers out of remarks."""
    remarks = party.remarks or ""
    known = {a.name for a in party.aliases}
    for kind, alias in _AKA.findall(remarks):
        if alias not in known:
            known.add(alias)
            party.aliases.append(Alias(alias, alias_type=f"{kind}ka"))
    idents = []
    for raw in remarks.split("; "):
        item = raw.strip().rstrip(".").removeprefix("alt. ")
        if item.startswith("DOB "):
            value = item[4:].strip()
            # "12 Feb 1961" becomes ISO; years, ranges and "circa" stay as printed.
            party.dates_of_birth.append(iso_date(value) or value)
        elif item.startswith("POB "):
            party.places_of_birth.append(item[4:].strip())
        elif item.startswith(("nationality ", "citizen ")):
            code = country_code(item.split(" ", 1)[1])
            if code and code not in party.countries:
                party.countries.append(code)
        elif item.startswith("Gender "):
            party.extra["gender"] = item[7:].strip()
        elif item.startswith("Linked To: "):
            party.extra.setdefault("linked_to", []).append(item[11:].strip())
        else:
            ident = from_remark(item)
            if ident and ident.value and ident not in idents:
                idents.append(ident)
    party.identifiers.extend(idents)


@dataclass(slots=True)
class Primary:
    parties: dict[str, Party] = field(default_factory=dict)
    rows: int = 0
    cons: bool = False
    per_source: Counter[str] = field(default_factory=Counter)


def parse_primary(text: str, report: Report) -> Primary:
    out = Primary()
    records = list(rows_of(text, report))
    if records and len(records[-1][1]) != PRIMARY_COLUMNS:
        mark_truncated(text, report, records[-1][0])
    program_rows = [_programs(r[3]) for _, r in records if len(r) == PRIMARY_COLUMNS]
    cons_rows = sum(1 for progs in program_rows if CONS_PROGRAMS & set(progs))
    out.cons = bool(program_rows) and cons_rows > len(program_rows) / 2
    for line, row in records:
        if len(row) != PRIMARY_COLUMNS:
            report.bad(line, None, f"expected {PRIMARY_COLUMNS} columns, found {len(row)}")
            continue
        ent_num, name = row[0].strip(), clean(row[1])
        if not ent_num.isdigit():
            report.bad(line, "ent_num", f"not a number: {row[0]!r}")
            continue
        if not name:
            report.bad(line, "SDN_Name", "empty name")
            continue
        kind = clean(row[2]).lower()
        if kind not in _TYPES:
            report.bad(line, "SDN_Type", f"unknown type {row[2]!r}")
            continue
        programs = _programs(row[3])
        code = cons_code(programs) if out.cons else "SDN"
        extra = {
            key: clean(value)
            for key, value in zip(
                ("call_sign", "vessel_type", "tonnage", "grt", "vessel_flag", "vessel_owner"),
                row[5:11],
                strict=True,
            )
            if clean(value)
        }
        extra["ent_num"] = ent_num
        out.rows += 1
        out.per_source[code] += 1
        out.parties[ent_num] = Party(
            party_id=f"{'CONS' if out.cons else 'SDN'}-{ent_num}",
            source=code,
            name=name,
            type=_TYPES[kind],
            programs=programs,
            title=clean(row[4]) or None,
            remarks=clean(row[11]) or None,
            source_url="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"
            + ("CONS_PRIM.CSV" if out.cons else "SDN.CSV"),
            source_line=line,
            extra=extra,
        )
    return out


def join_comment(remarks: str, comment: str) -> str:
    """Remarks continued by a COMMENTS row.

    The comment continues the remarks where they were cut, mid-word. When the COMMENTS file
    is newer than the primary file, the cut moved: the comment then repeats the end of the
    remarks, so it is joined after the overlap instead of duplicating it.
    """
    tail = remarks[-40:]
    at = comment.find(tail) if len(tail) >= 20 else -1
    if at >= 0:
        return remarks + comment[at + len(tail) :]
    return remarks + comment


def attach(kind: str, text: str, report: Report, primary: Primary, primary_name: str) -> int:
    """Merge one companion file into its primary's parties; returns the rows read."""
    rows = 0
    width = {"ofac-alt": 5, "ofac-add": 6, "ofac-comments": 2}[kind]
    last = last_bad = 0
    for line, row in rows_of(text, report):
        last = line
        if len(row) != width or not row[0].strip().isdigit():
            report.bad(line, None, f"expected {width} columns starting with ent_num")
            last_bad = line
            continue
        rows += 1
        party = primary.parties.get(row[0].strip())
        if party is None:
            report.warn(
                line,
                "ent_num",
                f"orphan row: ent_num {row[0].strip()} is not in {primary_name}",
            )
            continue
        if kind == "ofac-alt":
            alias = clean(row[3])
            if alias:
                remark = clean(row[4])
                party.aliases.append(
                    Alias(
                        alias,
                        alias_type=row[2].strip().lower(),
                        strength="weak" if "weak" in remark.lower() else None,
                    )
                )
        elif kind == "ofac-add":
            street, city, country = clean(row[2]), clean(row[3]), clean(row[4])
            code = country_code(country.removeprefix("Region: ")) or country_code(country)
            text_parts = [p for p in (street, city, country) if p]
            if text_parts:
                party.addresses.append(
                    Address(
                        text=", ".join(text_parts),
                        street=street or None,
                        city=city or None,
                        country=code,
                        country_name=country or None,
                    )
                )
        else:
            party.remarks = join_comment(party.remarks or "", row[1])
    if last_bad and last_bad == last:
        mark_truncated(text, report, last)
    return rows
