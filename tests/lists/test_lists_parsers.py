"""Every real list file parses, with facts checked against the files themselves."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from computekyc.lists import (
    Identifier,
    ListFormatError,
    ParsedFile,
    Party,
    PartyType,
    detect,
    parties_from,
    read_file,
    read_files,
)
from computekyc.lists.countries import country_code

RawRows = Callable[[Path], list[list[str]]]


def test_mirror_files_and_feeds(mirror: list[ParsedFile]) -> None:
    formats = {f"{Path(f.path).parent.name}/{f.name}": (f.format, f.feed) for f in mirror}
    assert formats == {
        "csl/consolidated.csv": ("csl", "csl"),
        "ofac/sdn.csv": ("ofac-sdn", "ofac-sdn"),
        "ofac/alt.csv": ("ofac-alt", "ofac-sdn"),
        "ofac/add.csv": ("ofac-add", "ofac-sdn"),
        "ofac/sdn_comments.csv": ("ofac-comments", "ofac-sdn"),
        "ofac/cons_prim.csv": ("ofac-cons", "ofac-cons"),
        "ofac/cons_alt.csv": ("ofac-alt", "ofac-cons"),
        "ofac/cons_add.csv": ("ofac-add", "ofac-cons"),
        "ofac/cons_comments.csv": ("ofac-comments", "ofac-cons"),
        "un/consolidated.xml": ("un-xml", "un"),
        "opensanctions-sources/us_dod_1260h.csv": ("dod-1260h", "dod-1260h"),
        "opensanctions-sources/us_fcc_covered_list.csv": ("fcc-covered", "fcc-covered"),
    }
    assert all(len(f.sha256) == 64 for f in mirror)
    assert not [p for f in mirror for p in f.problems if p.severity == "error"]
    ids = [p.party_id for p in parties_from(mirror)]
    assert len(ids) == len(set(ids))


def test_csl_row_counts_per_list(by_file: dict[str, ParsedFile], lists_dir: Path) -> None:
    csl = by_file["csl/consolidated.csv"]
    assert csl.source_rows == {
        "EL": 3409,
        "MEU": 70,
        "DPL": 564,
        "ISN": 528,
        "DTC": 787,
        "UVL": 186,
    }
    assert Counter(p.source for p in csl.parties) == Counter(csl.source_rows)
    # One party per CSL row; the Entity List repeats an entry once per country.
    with open(lists_dir / "csl" / "consolidated.csv", encoding="utf-8", newline="") as handle:
        el_names = {r["name"] for r in csv.DictReader(handle) if r["source"].startswith("Entity")}
    assert len(el_names) == 3259
    assert len({p.name for p in csl.parties if p.source == "EL"}) == 3259


def test_csl_addresses_end_with_iso_codes(by_file: dict[str, ParsedFile]) -> None:
    el = [p for p in by_file["csl/consolidated.csv"].parties if p.source == "EL"]
    addresses = [a for p in el for a in p.addresses]
    assert len([a for a in addresses if a.country]) / len(addresses) > 0.99
    first = el[0]
    assert first.name == "Abdul Satar Ghoura"
    assert [a.country for a in first.addresses] == ["AF", "AF"]
    assert first.federal_register == ["76 FR 71869, 11/21/11"]
    assert (
        first.license_requirement == "For all items subject to the EAR. (See § 744.11 of the EAR)"
    )


def test_hikvision_on_entity_list_and_cmic(by_id: dict[str, Party]) -> None:
    el = [p for p in by_id.values() if p.source == "EL" and "Hikvision" in p.name]
    assert [p.name for p in el] == ["Hangzhou Hikvision Digital Technology Co., Ltd."]
    assert "Hikvision" in el[0].all_names()
    assert {a.country for a in el[0].addresses} == {"CN"}
    assert any("Qianmo Road" in a.text for a in el[0].addresses)

    cmic = by_id["CONS-30946"]
    assert cmic.source == "CMIC"
    assert cmic.name == "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD."
    assert cmic.programs == ["CMIC-EO13959"]
    assert {"HIKVISION", "HANGZHOU HIKVISION DIGITAL TECHNOLOGY"} <= set(cmic.all_names())
    assert cmic.addresses[0].country == "CN"
    assert "Qianmo Road" in cmic.addresses[0].text
    assert Identifier("uscc", "91330000733796106P", "CN") in cmic.identifiers
    assert Identifier("isin", "CNE100000PM8") in cmic.identifiers


def test_sdn_entries_types_and_programs(
    by_file: dict[str, ParsedFile], lists_dir: Path, raw_rows: RawRows
) -> None:
    sdn = by_file["ofac/sdn.csv"]
    raw = raw_rows(lists_dir / "ofac" / "sdn.csv")
    assert len(raw) == len(sdn.parties) == sdn.rows == 14965
    kinds = Counter(r[2].strip() for r in raw)
    got = Counter(str(p.type) for p in sdn.parties)
    assert got == {
        "entity": kinds["-0-"],
        "individual": kinds["individual"],
        "vessel": kinds["vessel"],
        "aircraft": kinds["aircraft"],
    }
    assert {p.party_id for p in sdn.parties} == {f"SDN-{r[0]}" for r in raw}
    multi = next(p for p in sdn.parties if len(p.programs) > 2)
    assert all("[" not in prog and "]" not in prog for prog in multi.programs)


def test_ofac_companions_merge_and_orphans(
    by_file: dict[str, ParsedFile], by_id: dict[str, Party], lists_dir: Path, raw_rows: RawRows
) -> None:
    ents = {r[0] for r in raw_rows(lists_dir / "ofac" / "sdn.csv")}
    for name, field in (("alt.csv", "ent_num"), ("add.csv", "ent_num")):
        rows = raw_rows(lists_dir / "ofac" / name)
        orphans = [r for r in rows if r[0] not in ents]
        parsed = by_file[f"ofac/{name}"]
        reported = [p for p in parsed.problems if p.message.startswith("orphan row")]
        assert len(reported) == len(orphans) > 0
        assert all(p.field == field and p.line and p.severity == "warning" for p in reported)
        assert parsed.rows == len(rows)
    assert len([r for r in raw_rows(lists_dir / "ofac" / "alt.csv") if r[0] not in ents]) == 2460
    # AEROCARIBBEAN (36): alias from ALT, address from ADD.
    aero = by_id["SDN-36"]
    assert [a.name for a in aero.aliases] == ["AERO-CARIBBEAN"]
    assert aero.addresses[0].city == "Havana" and aero.addresses[0].country == "CU"
    # BANCO NACIONAL DE CUBA: "a.k.a. 'BNC'" in Remarks becomes an alias too.
    assert "BNC" in by_id["SDN-306"].all_names()


def test_comments_continue_remarks(by_id: dict[str, Party]) -> None:
    # SDN_COMMENTS.CSV row 17018 continues Sberbank's cut remarks (with an overlap, the file
    # being newer): the identifiers and aliases in the continuation are read.
    sber = by_id["SDN-17018"]
    assert sber.remarks and sber.remarks.count("Listing Date (EO 14024 Directive 3)") == 1
    assert Identifier("registration", "1027700132195", "RU") in sber.identifiers
    assert {"SBERBANK INDIA", "SBERBANK MUMBAI"} <= set(sber.all_names())


def test_cons_lists_and_codes(by_file: dict[str, ParsedFile], lists_dir: Path) -> None:
    cons = by_file["ofac/cons_prim.csv"]
    assert cons.source_rows == {"SSI": 286, "PLC": 78, "CMIC": 68, "MBS": 9, "CAP": 1}
    with open(lists_dir / "ofac" / "cons_prim.csv", encoding="utf-8", newline="") as handle:
        cmic = [r for r in csv.reader(handle) if len(r) > 3 and r[3] == "CMIC-EO13959"]
    assert len(cmic) == 68
    assert {p.party_id for p in cons.parties if p.source == "CMIC"} == {
        f"CONS-{r[0]}" for r in cmic
    }
    kunlun = next(p for p in cons.parties if p.name == "BANK OF KUNLUN CO LTD")
    assert kunlun.source == "CAP" and Identifier("swift", "CKLBCNBJ") in kunlun.identifiers


def test_cons_codes_agree_with_official_csl(
    by_file: dict[str, ParsedFile], archive_dir: Path
) -> None:
    # The 2023 CSL names the list of each OFAC entry; our program → list rule must agree for
    # every CONS entity number both files carry (the CSL prints 5 entries on SSI *and* MBS).
    official: dict[str, set[str]] = {}
    for party in read_file(archive_dir / "csl_2023-11-30_subset.csv").parties:
        official.setdefault(party.party_id.rsplit("-", 1)[-1], set()).add(party.source)
    ours = {
        p.party_id.removeprefix("CONS-"): p.source for p in by_file["ofac/cons_prim.csv"].parties
    }
    shared = ours.keys() & official.keys()
    assert len(shared) == 441
    assert all(ours[ent] in official[ent] for ent in shared)


def test_identifiers_from_remarks(by_file: dict[str, ParsedFile]) -> None:
    sdn = by_file["ofac/sdn.csv"].parties
    schemes = Counter(i.scheme for p in sdn for i in p.identifiers)
    for scheme in ("uscc", "lei", "registration", "passport", "national-id", "tax-id", "imo"):
        assert schemes[scheme] > 0, scheme
    lei_items = sum(p.remarks.count("Legal Entity Number ") for p in sdn if p.remarks)
    assert schemes["lei"] == lei_items
    vessel = next(p for p in sdn if p.type is PartyType.VESSEL and p.identifiers)
    imo = [i for i in vessel.identifiers if i.scheme == "imo"]
    assert imo and imo[0].value.isdigit() and len(imo[0].value) == 7


def test_un_xml(by_file: dict[str, ParsedFile], lists_dir: Path) -> None:
    un = by_file["un/consolidated.xml"]
    text = (lists_dir / "un" / "consolidated.xml").read_text(encoding="utf-8")
    assert Counter(str(p.type) for p in un.parties) == {
        "individual": text.count("<INDIVIDUAL>"),
        "entity": text.count("<ENTITY>"),
    }
    badege = next(p for p in un.parties if p.party_id == "UN-CDi.001")
    assert badege.name == "ERIC BADEGE"
    assert badege.countries == ["CD"] and badege.dates_of_birth == ["1971"]
    assert badege.addresses[0].country == "RW" and badege.listed_on == "2012-12-31"
    assert badege.source_line == 10  # the line of its <REFERENCE_NUMBER>
    assert all(p.source_line for p in un.parties)
    strengths = Counter(a.strength for p in un.parties for a in p.aliases)
    assert strengths["good"] == text.count("<QUALITY>Good</QUALITY>")
    assert strengths["low"] == text.count("<QUALITY>Low</QUALITY>")
    passports = [i for p in un.parties for i in p.identifiers if i.scheme == "passport"]
    assert len(passports) > 250


def test_1260h_parent_edges(by_file: dict[str, ParsedFile]) -> None:
    dod = by_file["opensanctions-sources/us_dod_1260h.csv"]
    assert dod.rows == len(dod.parties) == 397
    edges = [(p, ref) for p in dod.parties for ref in p.parents]
    assert len(edges) == 197
    hik = [(p, ref) for p, ref in edges if "Hikvision" in p.name]
    assert {ref.name for _, ref in hik} == {"China Electronics Technology Group Corporation"}
    cetc = [p for p in dod.parties if p.party_id == hik[0][1].party_id]
    assert cetc and cetc[0].name == "China Electronics Technology Group Corporation"
    assert len([p for p in dod.parties if p.delisted_on]) == 21
    assert {p.listed_on for p in dod.parties if "Hikvision" in p.name} == {
        "2021-06-03",
        "2025-01-07",
        "2026-06-08",
    }


def test_fcc_company_names(by_file: dict[str, ParsedFile]) -> None:
    fcc = by_file["opensanctions-sources/us_fcc_covered_list.csv"]
    names = [p.name for p in fcc.parties]
    assert names[:5] == [
        "Huawei Technologies Company",
        "ZTE Corporation",
        "Hytera Communications Corporation",
        "Hangzhou Hikvision Digital Technology Company",
        "Dahua Technology Company",
    ]
    assert "AO Kaspersky Lab" in names
    # Category rows ("Routers produced in a foreign country…") name no company: noted.
    assert fcc.rows == 16 and len(names) == 12
    assert [p.severity for p in fcc.problems] == ["note"] * 4


def test_csl_2023_doubled_header_and_truncated_row(archive_dir: Path) -> None:
    path = archive_dir / "csl_2023-11-30_subset.csv"
    parsed = read_file(path)
    assert parsed.format == "csl"
    # (The other notes say which rows' listing dates cannot be read from their citations.)
    header_note = [p for p in parsed.problems if p.severity == "note" and p.field is None]
    assert [(p.line, p.message) for p in header_note] == [(2, "repeated header line skipped")]
    bad = [p for p in parsed.problems if p.severity == "error"]
    assert len(bad) == 1 and bad[0].file == str(path) and bad[0].line == 4233
    assert "expected 29 columns, found 8" in bad[0].message
    assert parsed.rows == 4226
    counts = parsed.source_rows
    assert (counts["SDN"], counts["EL"], counts["DPL"], counts["SSI"]) == (1737, 919, 577, 288)
    assert {"CMIC", "MBS", "PLC", "CAP", "FSE"} <= counts.keys()


def test_archive_files(archive_dir: Path, raw_rows: RawRows) -> None:
    sample = read_file(archive_dir / "csl_2025-06_sample.csv")
    assert sample.rows == 13 and len(set(sample.source_rows)) == 10
    dpl = read_file(archive_dir / "dpl_2023-11-30.txt")
    assert dpl.format == "bis-dpl" and len(dpl.parties) == 665
    assert dpl.parties[0].listed_on == "2003-06-19"
    sdn21 = read_file(archive_dir / "sdn_2021-08-18.csv")
    assert sdn21.format == "ofac-sdn" and len(sdn21.parties) == 9083
    assert len(raw_rows(archive_dir / "sdn_2021-08-18.csv")) == 9083
    cn = read_file(archive_dir / "cn_countersanctions.csv")
    assert len(cn.parties) == 610
    ned = cn.parties[0]
    assert ned.name == "National Endowment for Democracy" and ned.countries == ["US"]
    assert any(
        a.name == "美国国家民主基金会" and a.alias_type == "original-script" for a in ned.aliases
    )
    mieu = read_file(archive_dir / "us_bis_mieu.csv")
    assert [p.source for p in mieu.parties] == ["MIEU"] * 13


def test_ftm_ownership_and_sanctions(archive_dir: Path) -> None:
    path = archive_dir / "ftm" / "zala.ftm.json"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    ownerships = [e for e in lines if e["schema"] == "Ownership"]
    parsed = read_file(path)
    refs = [ref for p in parsed.parties for ref in p.parents]
    assert len(refs) == len(ownerships) == 14
    with_share = {
        float(e["properties"]["percentage"][0])
        for e in ownerships
        if "percentage" in e["properties"]
    }
    assert {ref.share for ref in refs if ref.share is not None} == with_share
    zakharov = next(p for p in parsed.parties if p.name == "Alexander Vyacheslavovich ZAKHAROV")
    assert "US-RUSHAR" in zakharov.programs and zakharov.listed_on == "2023-07-01"
    assert len(read_file(archive_dir / "ftm" / "t1.ftm.json").parties) == 6


def test_format_detected_from_content_not_name(tmp_path: Path, lists_dir: Path) -> None:
    renamed = tmp_path / "list.txt"
    renamed.write_bytes((lists_dir / "ofac" / "cons_prim.csv").read_bytes())
    assert detect(renamed) == "ofac-prim"
    assert read_file(renamed).format == "ofac-cons"


def test_unknown_layout_refused(tmp_path: Path) -> None:
    odd = tmp_path / "customers.csv"
    odd.write_text("customer,country\nAcme GPU Cloud,US\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match="matches no known list layout") as err:
        read_file(odd)
    assert err.value.path == str(odd)
    xml = tmp_path / "other.xml"
    xml.write_text("<?xml version='1.0'?><feed/>", encoding="utf-8")
    with pytest.raises(ListFormatError, match="not the UN consolidated list"):
        read_file(xml)


def test_malformed_row_reported_and_skipped(tmp_path: Path, lists_dir: Path) -> None:
    lines = (lists_dir / "ofac" / "sdn.csv").read_text(encoding="utf-8").splitlines()[:30]
    lines.insert(10, '99999999,"BROKEN ROW",-0- ')
    path = tmp_path / "sdn.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = read_file(path)
    assert len(parsed.parties) == 30
    bad = [p for p in parsed.problems if p.severity == "error"]
    assert [(p.file, p.line) for p in bad] == [(str(path), 11)]
    assert "expected 12 columns, found 3" in str(bad[0])


def test_mostly_malformed_file_refused(tmp_path: Path, lists_dir: Path) -> None:
    lines = (lists_dir / "csl" / "consolidated.csv").read_text(encoding="utf-8").splitlines()
    cut = [lines[0], *lines[1:4], *(line[:60] for line in lines[4:12] if '"' not in line[:60])]
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(cut) + "\n", encoding="utf-8")
    with pytest.raises(ListFormatError, match="rows are malformed"):
        read_file(path)


def test_companion_without_primary_refused(lists_dir: Path) -> None:
    with pytest.raises(ListFormatError, match="needs its primary"):
        read_files([lists_dir / "ofac" / "cons_alt.csv"])


def test_country_names() -> None:
    assert country_code("Korea, North") == "KP"
    assert country_code("Burma") == "MM"
    assert country_code("China, Hong Kong Special Administrative Region") == "HK"
    assert country_code("Democratic Republic of the Congo") == "CD"
    assert country_code("Atlantis") is None


def test_isn_measures_and_expiry(by_file: dict[str, ParsedFile]) -> None:
    isn = [p for p in by_file["csl/consolidated.csv"].parties if p.source == "ISN"]
    lifted = next(
        p for p in isn if p.name == "China Machinery and Electric Equipment Import and Export Co."
    )
    assert lifted.extra["measures"] == [
        {
            "authority": "Chemical and Biological Weapons Control and Warfare Elimination Act"
            " (CBW Act)",
            "imposed": "2002-07-09",
            "status": "Lifted on 06/27/13",
        }
    ]
    assert lifted.delisted_on == "2013-06-27" and lifted.extra["active"] is False
    # A listing with any measure still active is never marked delisted.
    still = [p for p in isn if "status: Active" in (p.remarks or "")]
    assert still and all(p.delisted_on is None and p.extra["active"] for p in still)
    assert all(p.extra["active"] for p in isn if "sanctions remain" in (p.remarks or ""))


def test_entity_list_subordinates_are_aliases(by_file: dict[str, ParsedFile]) -> None:
    rows = [
        p
        for p in by_file["csl/consolidated.csv"].parties
        if " subordinate institution:" in p.name and not p.name.endswith(":")
    ]
    assert rows
    for party in rows:
        sub = party.name.split(" subordinate institution:", 1)[1].strip()
        assert any(a.name == sub and a.alias_type == "subordinate" for a in party.aliases)


def test_iso_date_as_every_format_tried_in_turn(lists_dir: Path) -> None:
    """Dates read as by trying each format (kept per text; a year alone tries none)."""
    import re
    from datetime import datetime

    from computekyc.lists.parsing import _DATE_FORMATS, iso_date

    def plain(raw: str) -> str | None:
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(raw, fmt).date().isoformat()
            except ValueError:
                continue
        return raw if re.fullmatch(r"\d{4}(-\d{2})?", raw) else None

    text = (lists_dir / "ofac" / "sdn.csv").read_text(encoding="cp1252")
    found = re.findall(r"DOB ([^;\"]+)", text)
    samples = [*found, "1961", "1961-05", "2021-02-30", "12/31/99", "circa 1970", "", "-0-"]
    assert len(found) > 1000
    for raw in samples:
        value = raw.strip().rstrip(".")
        assert iso_date(raw) == (plain(value) if value and value != "-0-" else None), raw
