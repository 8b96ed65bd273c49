"""Han-script person names of Hong Kong, Taiwan and Korea meet the spellings their bearers
carry on the lists (Cantonese in the Hong Kong government romanisation, Taiwan spellings,
Sino-Korean readings). Every case here scored below the threshold before those readings."""

from __future__ import annotations

import pytest

from computekyc.screening import DEFAULT_THRESHOLD, ScreeningIndex, compare
from computekyc.screening.eastasian import hong_kong


@pytest.mark.parametrize(
    ("query", "listed", "segment"),
    [
        # Hong Kong officials on the OFAC list (HK-EO13936), as the SDN file spells them.
        ("李家超", "LEE, Ka Chiu", "李 = lee (Cantonese"),
        ("鄧炳強", "TANG, Ping Keung", "炳強 = pingkeung (Cantonese"),
        ("曾國衞", "TSANG, Kwok Wai", "曾 = tsang (Cantonese"),
        ("黃之鋒", "Wong Chi-fung", "黃 = wong (Cantonese"),
        # Taiwan: the family name as Taiwanese passports spell it, the given name in Wade-Giles.
        ("李登輝", "Lee Teng-hui", "李 = lee (Taiwan spelling)"),
        # Korean names in Hanja.
        ("金正恩", "KIM, Jong Un", "金 = kim (Korean reading)"),
        ("朴槿惠", "Park Geun-hye", "朴 = park (Korean reading)"),
        ("文在寅", "Moon Jae-in", "文 = moon (Korean reading)"),
    ],
)
def test_east_asian_readings_meet_the_listed_spelling(
    query: str, listed: str, segment: str
) -> None:
    result = compare(query, listed)
    assert result.score >= DEFAULT_THRESHOLD, result.explanation.summary()
    assert any(line.startswith(segment) for line in result.explanation.segments), (
        result.explanation.segments
    )
    assert result.explanation.via and "han_surnames.csv" in result.explanation.via


@pytest.mark.parametrize(
    ("query", "other"),
    [
        ("金正恩", "KIM, Jong Il"),  # another given name
        ("金正恩", "KIM, Jong Sik"),
        ("陳國強", "CHAN, Kwok Wing"),
        ("李家超", "LEE, Ka Wing"),
        ("李家超", "LEE, Chun"),  # the family name alone never carries a match
    ],
)
def test_readings_count_only_whole(query: str, other: str) -> None:
    assert compare(query, other).score < DEFAULT_THRESHOLD


def test_mandarin_readings_stay_beside_them() -> None:
    assert compare("李家超", "LI, Jiachao").score >= DEFAULT_THRESHOLD
    assert compare("張志明", "Chang Chih-ming").score >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("jyutping", "spelt"),
    [("can4", "chan"), ("wong4", "wong"), ("zoeng1", "cheung"), ("lau4", "lau"),
     ("gwok3", "kwok"), ("si1", "sze"), ("heoi2", "hui"), ("jip6", "yip"), ("ng4", "ng")],
)  # fmt: skip
def test_jyutping_in_the_hong_kong_spelling(jyutping: str, spelt: str) -> None:
    assert hong_kong(jyutping) == spelt


def test_listed_hong_kong_and_korean_people_found_from_han_script(
    mirror_index: ScreeningIndex,
) -> None:
    lee = mirror_index.screen("李家超")
    assert any(h.name == "LEE, John Ka-chiu" for h in lee), [h.name for h in lee]
    kim = mirror_index.screen("金正恩", type="individual")
    assert kim and kim[0].name == "KIM, Jong Un", [h.name for h in kim]
