"""Han-script person names read as Hong Kong, Taiwan and Korea write them in Latin letters.

A name of three Han characters is a family name and a given name. Besides its Mandarin pinyin
and Wade-Giles readings (``text.py``), it is read

* in **Cantonese**, spelt the Hong Kong government way (陳國強 = Chan Kwok Keung): the family
  name from the reviewed table ``han_surnames.csv``, the given name syllable by syllable from
  the Unihan ``kCantonese`` readings (``han_readings.tsv``) turned into the Hong Kong spelling by
  the rules of ``cantonese_hk.csv``;
* with the **Taiwan** spelling of the family name where it is not the Wade-Giles one (李 = Lee,
  李登輝 = Lee Teng-hui); the given name stays Wade-Giles;
* in **Korean**, when the family name is a common Korean one (金, 李, 朴, 崔 …): the family name
  as Koreans spell it (金 = Kim) and each syllable of the given name from its Sino-Korean reading
  (Unihan ``kHangul``), romanised (金正恩 = Kim Jeong Eun ~ Kim Jong Un).

These readings are parallel to the Mandarin ones (a name in Han characters does not say which
language it is in); like the Wade-Giles reading they count only whole — family and given name
both met — and the Cantonese and Taiwan ones only exactly, since a one-syllable family name
alone meets too many listed names by chance.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from anyascii import anyascii

SURNAMES_FILE = "han_surnames.csv"
READINGS_FILE = "han_readings.tsv"
RULES_FILE = "cantonese_hk.csv"

CANTONESE = (
    "Cantonese reading, Hong Kong government romanisation (han_surnames.csv; Unihan kCantonese)"
)
TAIWAN = "Taiwan spelling of the family name (han_surnames.csv), given name in Wade-Giles"
KOREAN = "Korean reading (han_surnames.csv; Unihan kHangul, romanised)"
# North Korea's own romanisation writes the vowels 어 and 으 as o and u (김정은 = Kim Jong Un,
# 리설주 = Ri Sol Ju), where the South's Revised Romanization has eo and eu (Kim Jeong Eun):
# https://en.wikipedia.org/wiki/Romanization_of_Korean#Systems (North Korean system of 1992).
KOREAN_NORTH = (
    "Korean reading, vowels as North Korea romanises them (han_surnames.csv; Unihan kHangul)"
)
# How a token of these readings was derived (explanations quote it as the segment's source).
CANTONESE_HOW = "Cantonese (Hong Kong romanisation)"
TAIWAN_HOW = "Taiwan spelling"
KOREAN_HOW = "Korean reading"
# Readings that count only whole, and token kinds that match only exactly.
WHOLE_ONLY = frozenset({CANTONESE, TAIWAN, KOREAN, KOREAN_NORTH})
EXACT_ONLY = frozenset({CANTONESE_HOW, TAIWAN_HOW})


@dataclass(frozen=True, slots=True)
class Surname:
    zh: str
    hong_kong: str
    taiwan: str
    korean: str


@dataclass(frozen=True, slots=True)
class PersonReading:
    """One reading of a person's name: family name, given-name words, how, which reading."""

    family: str
    given: tuple[str, ...]
    how: str
    via: str


def _data(name: str) -> list[str]:
    text = resources.files("computekyc.screening").joinpath("data").joinpath(name)
    return [line for line in text.read_text("utf-8").splitlines() if not line.startswith("#")]


@cache
def surnames() -> dict[str, Surname]:
    """Family name (traditional and simplified characters) -> its spellings."""
    out: dict[str, Surname] = {}
    for row in csv.DictReader(_data(SURNAMES_FILE)):
        entry = Surname(row["zh"], row["hong_kong"], row["taiwan"], row["korean"])
        out[row["zh"]] = entry
        out.setdefault(row["simplified"], entry)
    return out


@cache
def _readings() -> dict[str, tuple[str, str]]:
    lines = _data(READINGS_FILE)
    if lines[0].split("\t") != ["char", "jyutping", "hangul"]:
        raise ValueError(f"{READINGS_FILE}: unexpected header {lines[0]!r}")
    rows = (line.split("\t") for line in lines[1:])
    return {ch: (jyutping, hangul) for ch, jyutping, hangul in rows}


@cache
def _rules() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    parts: dict[str, dict[str, str]] = {"initial": {}, "final": {}, "syllable": {}}
    for row in csv.DictReader(_data(RULES_FILE)):
        parts[row["kind"]][row["part"]] = row["hong_kong"]
    return parts["initial"], parts["final"], parts["syllable"]


def hong_kong(jyutping: str) -> str | None:
    """A Jyutping syllable (tone number or not) in the Hong Kong government spelling."""
    syllable = jyutping.rstrip("0123456789")
    initials, finals, whole = _rules()
    if syllable in whole:
        return whole[syllable]
    for size in (2, 1, 0):
        initial, final = syllable[:size], syllable[size:]
        if (size == 0 or initial in initials) and final in finals:
            return (initials[initial] if size else "") + finals[final]
    return None


def _korean_syllable(ch: str) -> str | None:
    hangul = _readings().get(ch, ("", ""))[1]
    return anyascii(hangul).lower() if hangul else None


def person_readings(name: str, wade_giles: tuple[str, ...] | None) -> list[PersonReading]:
    """The Cantonese, Taiwan and Korean readings of a three-character Han name (``wade_giles``:
    its Wade-Giles syllables, from the Mandarin reading)."""
    text = unicodedata.normalize("NFKC", name).strip()
    if len(text) != 3:
        return []
    family = surnames().get(text[0])
    out: list[PersonReading] = []
    readings = _readings()
    syllables = [hong_kong(readings.get(ch, ("", ""))[0]) for ch in text[1:]]
    if family is not None and all(syllables):
        given = "".join(s for s in syllables if s)
        out.append(PersonReading(family.hong_kong.lower(), (given,), CANTONESE_HOW, CANTONESE))
    if family is not None and wade_giles and family.taiwan.lower() != wade_giles[0]:
        given = "".join(wade_giles[1:])
        out.append(PersonReading(family.taiwan.lower(), (given,), TAIWAN_HOW, TAIWAN))
    if family is not None and family.korean:
        korean = [_korean_syllable(ch) for ch in text[1:]]
        if all(korean):
            words = tuple(s for s in korean if s)
            out.append(PersonReading(family.korean.lower(), words, KOREAN_HOW, KOREAN))
            north = tuple(w.replace("eo", "o").replace("eu", "u") for w in words)
            if north != words:
                out.append(PersonReading(family.korean.lower(), north, KOREAN_HOW, KOREAN_NORTH))
    return out
