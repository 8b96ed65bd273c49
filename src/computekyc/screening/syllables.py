"""Pinyin syllables: whether a Latin word is pinyin, and whether two pinyin words are one name.

A Han name read as pinyin (天眼 = tianyan) is a sequence of syllables, one per character. A listed
name written in pinyin (Tanyuan) that spells other syllables names other characters, however
close the letters are: the two are different names, as two different Han names are. Only the
spellings that romanisations of one sound disagree on are let through (zh/z, ch/c, sh/s, ng/n:
Shenzen for Shenzhen, as southern speakers and careless lists write it), and the other readings
of characters that have several (洪都 is hongdu, not the hongdou a reading tool picks first).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

_LONGEST = 6  # the longest pinyin syllable: zhuang, chuang, shuang
_BLUR = re.compile(r"(?<=[zcs])h|(?<=n)g")
_MAX_READINGS = 64


@cache
def syllables() -> frozenset[str]:
    """Every toneless pinyin syllable of the pypinyin dictionary that has a vowel (the
    interjections m, n, ng, hm would let consonant clusters of other languages parse)."""
    from anyascii import anyascii
    from pypinyin.pinyin_dict import pinyin_dict

    out = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            syllable = anyascii(reading).lower()
            if any(v in syllable for v in "aeiou"):
                out.add(syllable)
    return frozenset(out)


@lru_cache(maxsize=65536)
def is_pinyin(word: str) -> bool:
    """Whether ``word`` splits wholly into pinyin syllables (tanyuan = tan yuan)."""
    known = syllables()
    n = len(word)
    ends = [False] * (n + 1)
    ends[0] = True
    for i in range(n):
        if not ends[i]:
            continue
        for size in range(1, min(_LONGEST, n - i) + 1):
            if word[i : i + size] in known:
                ends[i + size] = True
    return ends[n]


@lru_cache(maxsize=65536)
def readings(han: str) -> frozenset[str]:
    """Every pinyin spelling of a Han word, joined, taking each reading of characters that
    have several (at most 64 spellings)."""
    from anyascii import anyascii
    from pypinyin import Style, pinyin

    spelled = [""]
    for options in pinyin(han, style=Style.NORMAL, heteronym=True, v_to_u=True):
        choices = dict.fromkeys(anyascii(o).lower() for o in options)
        spelled = [s + c for s in spelled for c in choices][:_MAX_READINGS]
    return frozenset(spelled)


def other_syllables(han: str, han_pinyin: str, latin: str) -> bool:
    """Whether a Latin pinyin word spells other syllables than every reading of a Han word: a
    different name, not a variant spelling of it (天眼 tianyan vs Tanyuan; not 深圳 shenzhen vs
    Shenzen)."""
    if han_pinyin == latin or not is_pinyin(latin):
        return False
    spellings = readings(han) | {han_pinyin}
    return all(_BLUR.sub("", s) != _BLUR.sub("", latin) for s in spellings)


def another_reading(han: str, latin: str) -> bool:
    """Whether a Latin word is the pinyin of a Han word under another reading of one of its
    characters (洪都 = Hongdu)."""
    return latin in readings(han)
