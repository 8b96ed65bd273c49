"""Name normalisation: scripts, folding, numbers, legal forms, generic words, Chinese segmentation.

``analyze(name)`` turns a raw name in any script into one or more *forms* (readings), each a tuple
of :class:`Token`. Every token remembers where it came from and how (exact, transliterated,
translated, alias-table, acronym), so that a score can be explained token by token.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import jellyfish
from anyascii import anyascii

from computekyc.bulk import PositionalPickle
from computekyc.screening.memo import clear as memo_clear
from computekyc.screening.memo import derived, memoised, on_clear
from computekyc.screening.vocab import Vocabulary, forget, vocabulary

# Token kinds. Only NAME/PATRONYMIC/NUMBER tokens are distinctive; the others can support a
# match but never carry one.
NAME = "name"
PATRONYMIC = "patronymic"
NUMBER = "number"
INITIAL = "initial"
GENERIC = "generic"
LOCATION = "location"
PARTICLE = "particle"
LEGAL = "legal"
DISTINCTIVE = frozenset({NAME, PATRONYMIC, NUMBER})

# How a token was derived from the text the user typed.
EXACT = "exact"
TRANSLITERATED = "transliterated"
TRANSLATED = "translated"
ALIAS = "alias-table"
ACRONYM = "acronym"

# The two readings of a Han name (see chinese.py): pinyin throughout; or its words translated
# and state-group abbreviations read as the group (its acronym when the alias table expands the
# acronym, which then meets both "AVIC …" and "Aviation Industry Corporation of China").
PINYIN = "pinyin"
TRANSLATED_READING = "translated"
WADE_GILES = "Wade-Giles reading (Taiwan and older romanisations)"
ROMANISED_WG = "wade-giles"  # how a token of that reading was derived: it matches only exactly

# Scripts whose romanisation drops or guesses vowels: compare consonant skeletons instead.
VOWEL_POOR = frozenset({"arabic", "hebrew", "thai"})
# Scripts written one syllable per character.
SYLLABIC = frozenset({"han", "hangul"})

_VOWELS = str.maketrans("", "", "aeiouyw")
_DIGRAPHS = re.compile(r"(?<=[tp])h")
_CONSONANT_FOLD = str.maketrans("pvzqc", "bfskk")
_APOSTROPHES = re.compile(r"['’`ʼʻ‘´]")
_POSSESSIVE = re.compile(r"['’]s\b")
_INITIALISM = re.compile(r"(?<![a-z0-9])((?:[a-z]\.){2,}[a-z]?)(?![a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_LEET = re.compile(r"(?<=[a-z])[013459]+(?=[a-z])")
_LEET_MAP = str.maketrans("013459", "oieasg")
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
    "eighteenth": 18, "nineteenth": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "twentieth": 20, "thirtieth": 30,
    "fortieth": 40, "fiftieth": 50,
}  # fmt: skip
_HAN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
               "七": 7, "八": 8, "九": 9}  # fmt: skip
_HAN_UNITS = {"十": 10, "百": 100, "千": 1000}
_HAN_NUMBER = re.compile(r"第?[零〇一二两三四五六七八九十百千]+")
_HAN_ADMIN = frozenset("市省区县")  # administrative suffixes after a place name (深圳市)
# Short legal forms that are also ordinary words or initials: only legal at either end of a name.
_AMBIGUOUS_LEGAL_MAX = 3


@dataclass(frozen=True, slots=True)
class Token(PositionalPickle):
    text: str  # folded comparison form
    kind: str
    how: str
    orig: str  # the fragment of the input it came from
    script: str = "latin"
    legal_class: str | None = None
    phon: str = ""  # metaphone key
    skel: str = ""  # consonant skeleton

    @property
    def distinctive(self) -> bool:
        return self.kind in DISTINCTIVE


@dataclass(frozen=True, slots=True)
class NameForm(PositionalPickle):
    tokens: tuple[Token, ...]
    via: str | None = None  # None for the plain reading; else the alias/acronym rule applied

    def core(self) -> tuple[Token, ...]:
        return tuple(t for t in self.tokens if t.kind != LEGAL)


@dataclass(frozen=True, slots=True)
class Analysis(PositionalPickle):
    original: str
    forms: tuple[NameForm, ...]
    ignored: tuple[tuple[str, str], ...]  # (fragment, why) dropped before scoring

    @property
    def tokens(self) -> tuple[Token, ...]:
        return self.forms[0].tokens


def _script(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x250 or 0x1E00 <= cp <= 0x1EFF:
        return "latin"
    if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF:
        return "han"
    if 0x400 <= cp <= 0x52F:
        return "cyrillic"
    if 0x370 <= cp <= 0x3FF or 0x1F00 <= cp <= 0x1FFF:
        return "greek"
    if 0x600 <= cp <= 0x6FF or 0x750 <= cp <= 0x77F or 0xFB50 <= cp <= 0xFEFF:
        return "arabic"
    if 0x590 <= cp <= 0x5FF:
        return "hebrew"
    if 0xE00 <= cp <= 0xE7F:
        return "thai"
    if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF:
        return "hangul"
    if 0x3040 <= cp <= 0x30FF:
        return "kana"
    if unicodedata.category(ch)[0] in "LM":
        return "other"
    return "latin"  # digits, spaces, punctuation: neutral


def skeleton(text: str) -> str:
    """Consonants only, doubled letters collapsed, sounds that abjads merge folded together:
    'mohammed' -> 'mhmd', 'hassan' -> 'hsn', 'perez' -> 'brs' (Arabic has no p)."""
    bare = (
        _DIGRAPHS.sub(lambda m: m.group(0)[0], text).translate(_CONSONANT_FOLD).translate(_VOWELS)
    )
    out: list[str] = []
    for ch in bare:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=65536)
def _sounds(text: str) -> tuple[str, str]:
    """A word's metaphone key and consonant skeleton (words recur across names: made once)."""
    return jellyfish.metaphone(text), skeleton(text)


def _roman(word: str) -> int | None:
    if len(word) < 2 or word.strip("ivxlc"):  # a letter that is no Roman numeral
        return None
    total = 0
    for i, c in enumerate(word):
        value = _ROMAN[c]
        nxt = _ROMAN[word[i + 1]] if i + 1 < len(word) else 0
        total += -value if value < nxt else value
    # Reject non-canonical strings ("ic", "vx") by round-tripping through the standard form;
    # from 40 on (xl, l, li) a series number is rare and the name Li common (Wei Li).
    return total if 0 < total < 40 and _to_roman(total) == word else None


def _to_roman(n: int) -> str:
    out = ""
    for value, sym in ((50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += sym
            n -= value
    return out


def fold_words(text: str) -> list[str]:
    """Lower-case ASCII words of a Latin (or transliterated) text, punctuation folded."""
    # ASCII text is its own NFKC form and its own transliteration: both steps are skipped.
    s = (text if text.isascii() else anyascii(unicodedata.normalize("NFKC", text))).lower()
    s = _POSSESSIVE.sub("", s)
    s = _APOSTROPHES.sub("", s)
    if "." in s:
        s = _INITIALISM.sub(lambda m: m.group(1).replace(".", ""), s)
    s = s.replace("&", " and ").replace("%", " percent ")
    words = [
        w if w.isalpha() else _LEET.sub(lambda m: m.group(0).translate(_LEET_MAP), w)
        for w in _SPLIT.split(s)
        if w
    ]
    return _abdul(words)


# "bd" is how Arabic عبد romanises without vowels.
_ABD = frozenset({"abd", "bd", "abdel", "abdal", "abdol", "abdul", "abdoul", "abdu"})
_ARTICLE = frozenset({"al", "el", "ul", "ar", "ur", "as", "ad", "an", "ash", "az", "at"})


def _abdul(words: list[str]) -> list[str]:
    """Fold the romanisations of Arabic 'abd al-' (servant of) to one word: Abd al-Aziz, Abdel
    Aziz and Abdul Aziz all become 'abdul aziz'."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in _ABD:
            out.append("abdul")
            i += 2 if i + 1 < len(words) and words[i + 1] in _ARTICLE else 1
            continue
        out.append(w)
        i += 1
    return out


def _numbers(words: list[str]) -> list[tuple[str, bool]]:
    """Fold ordinals and number words to digits; returns (word, is_number) pairs."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(words):
        w = words[i]
        # Digits and ordinals start with a digit (the words are folded ASCII).
        m = _ORDINAL.match(w) if "0" <= w[0] <= "9" else None
        if m is not None or w.isdigit():
            out.append((str(int(m.group(1) if m else w)), True))
            i += 1
            continue
        if w in _UNITS or w in _TENS:
            value = 0
            # "forty four", "forty-four", "Forty 4" all read 44.
            while i < len(words) and _number_word(words[i], value):
                word = words[i]
                value += _UNITS.get(word, _TENS.get(word, int(word) if word.isdigit() else 0))
                i += 1
            out.append((str(value), True))
            continue
        roman = _roman(w) if out else None  # never the first word: "Vi", "Li"…
        if roman is not None:
            out.append((str(roman), True))
        else:
            out.append((w, False))
        i += 1
    return out


def _number_word(word: str, so_far: int) -> bool:
    if word in _UNITS or word in _TENS:
        return True
    return bool(so_far) and word.isdigit() and int(word) < 10


# Kinds of the Latin vocabulary that a pinyin syllable only looks like: 德 = de, 拉 = la, 迪 = di
# are syllables of a name, not the particles of "de la" or "di"; 孔 = kong, 洪 = hong are
# family names, not Hong Kong.
_LATIN_ONLY = frozenset({PARTICLE, LOCATION})
# Derivations of Han text that render its meaning (a translation, a table's name), not its sound.
_HAN_MEANING = frozenset({TRANSLATED, ALIAS, ACRONYM})


def _is_legal(kind: tuple[str, str | None] | None) -> bool:
    return kind is not None and kind[0] == LEGAL


def _han_number(run: str) -> int | None:
    if not run or any(c not in _HAN_DIGITS and c not in _HAN_UNITS for c in run):
        return None
    total, digit = 0, 0
    for c in run:
        if c in _HAN_DIGITS:
            digit = _HAN_DIGITS[c]
        else:
            total += (digit or 1) * _HAN_UNITS[c]
            digit = 0
    return total + digit


@memoised(65536)
def _pinyin(run: str) -> tuple[str, ...]:
    # pypinyin and OpenCC load their tables on import (a second or more): only Han names pay.
    from pypinyin import Style, lazy_pinyin

    return tuple(anyascii(s).lower() for s in lazy_pinyin(run, style=Style.NORMAL, v_to_u=True))


@memoised(65536)
def _simplified(text: str) -> str:
    """Traditional characters folded to simplified (華為 -> 华为)."""
    return str(_t2s().convert(text))


@lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


def _han_table(vocab: Vocabulary, reading: str) -> tuple[dict[str, Any], tuple[int, ...]]:
    """The brands of the alias table by their Han alias, and the lengths of the keys a reading
    looks up in a run (reviewed terms, brands, and, in the translated reading, group
    abbreviations), longest first: only those lengths can match. Made once per vocabulary."""

    def make() -> tuple[dict[str, Any], tuple[int, ...]]:
        brands = {a.alias: a for a in vocab.aliases if a.kind == "brand"}
        groups = vocab.zh_groups if reading != PINYIN else {}
        sizes = {len(k) for k in (*vocab.zh_terms, *brands, *groups)}
        return brands, tuple(sorted(sizes, reverse=True))

    return derived(vocab, "han " + reading, make)


class _Builder:
    """Accumulates tokens from the segments of one name."""

    def __init__(self, vocab: Vocabulary, reading: str = PINYIN) -> None:
        self.vocab = vocab
        self.reading = reading
        self.han_groups = False  # a group abbreviation or brand was met (the readings differ)
        self.han_glossed = False  # a word was translated from CC-CEDICT
        self.raw: list[tuple[str, str, str, str, bool]] = []  # text, how, orig, script, number
        self.fixed: dict[int, tuple[str, str]] = {}  # index -> (kind, legal class) pre-decided
        self.ignored: list[tuple[str, str]] = []

    def add_words(self, text: str, how: str, orig: str, script: str) -> None:
        words = _numbers(fold_words(text))
        # Explanations quote the typed word: pair folded words with the typed ones when they
        # line up one to one, else quote the folded word itself.
        typed = orig.split()
        if how == EXACT or len(typed) != len(words):
            typed = [w for w, _ in words]
        for (word, is_number), shown in zip(words, typed, strict=True):
            self.raw.append((word, how, shown, script, is_number))

    def add_fixed(self, words: str, how: str, orig: str, kind: str, legal: str | None) -> None:
        for word in words.split():
            if kind != LEGAL and self.vocab.words.get(word, ("", ""))[1] == "stop":
                # 理工 = "science and technology": the English joins words the Chinese has not
                # got; "and" would be left over against a listed name without it.
                continue
            self.fixed[len(self.raw)] = (kind, legal or "")
            self.raw.append((word, how, orig, "han", False))

    def add_han(self, text: str, whole_name: bool) -> None:
        text = _simplified(text)
        zh = self.vocab.zh_terms
        groups = self.vocab.zh_groups
        if self.reading == PINYIN:
            # The pinyin reading reads group abbreviations as pinyin like any other word (中航
            # = zhonghang); it only notes that the other readings will differ.
            self.han_groups |= any(key in text for key in groups)
            groups = {}
        brands, sizes = _han_table(self.vocab, self.reading)
        i, pending = 0, ""
        last_kind = ""

        def flush() -> None:
            nonlocal pending
            if not pending:
                return
            if whole_name and not self.raw and i >= len(text) and 2 <= len(pending) <= 3:
                # A short all-Han name is a person: family name + joined given name (习近平).
                syllables = _pinyin(pending)
                parts = [(syllables[0], pending[0]), ("".join(syllables[1:]), pending[1:])]
                for part, orig in parts:
                    self.raw.append((part, TRANSLITERATED, orig, "han", False))
            else:
                for word in self._segments(pending):
                    self._add_segment(word)
            pending = ""

        while i < len(text):
            if text[i] in _HAN_ADMIN and last_kind == LOCATION and not pending:
                self.ignored.append((text[i], "administrative suffix"))
                i += 1
                continue
            match = ""
            for size in sizes:
                if size > len(text) - i:
                    continue
                piece = text[i : i + size]
                if piece in zh or piece in brands or piece in groups:
                    match = piece
                    break
            number_run = _HAN_NUMBER.match(text, i)
            # Numerals are ordinals after 第 (第十五研究所) or carry a unit (十, 百); a bare digit
            # character is usually part of a name (三一 = Sany).
            if (
                not match
                and number_run
                and (
                    number_run.group(0)[0] == "第"
                    or any(c in _HAN_UNITS for c in number_run.group(0))
                )
                and _han_number(number_run.group(0).lstrip("第"))
            ):
                flush()
                value = _han_number(number_run.group(0).lstrip("第"))
                self.raw.append((str(value), TRANSLATED, number_run.group(0), "han", True))
                i += len(number_run.group(0))
                last_kind = NUMBER
                continue
            if not match:
                pending += text[i]
                i += 1
                continue
            if (
                self.reading == PINYIN
                and match in brands
                and match not in zh
                and match not in self.vocab.zh_groups  # 中航工业: AVIC in both readings
            ):
                # The pinyin reading keeps a brand as pinyin (海康威视 = haikangweishi: a
                # listing or a customer may write it so); the translated reading reads it as
                # the brand (Hikvision).
                self.han_groups = True
                pending += match
                i += len(match)
                continue
            flush()
            if match in brands:
                row = brands[match]
                for word in fold_words(row.name):
                    self.raw.append((word, ALIAS, match, "han", False))
                last_kind = NAME
            elif match in groups:
                self._add_group(match)
                last_kind = NAME
            else:
                english, kind = zh[match]
                how = TRANSLITERATED if kind == LOCATION else TRANSLATED
                legal = self.vocab.legal_forms.get(tuple(english.split()))
                if kind == "legal":
                    self.add_fixed(english, how, match, LEGAL, legal or "weak")
                else:
                    self.add_fixed(english, how, match, kind, None)
                last_kind = kind
            i += len(match)
        flush()

    def _segments(self, run: str) -> list[str]:
        if self.reading == PINYIN:
            # The pinyin reading keeps a run joined (洪都 = hongdu): the lists write company
            # words joined, the scorer meets split spellings, and the pieces of a foreign name
            # in Chinese (多米尼卡) would meet one-word aliases.
            return [run]
        return self._translated_segments(run)

    def _translated_segments(self, run: str) -> list[str]:
        if len(run) <= 2:
            return [run]
        from computekyc.screening import chinese

        return chinese.segment(run)

    def _gloss(self, word: str) -> str | None:
        if len(word) < 2:
            return None
        from computekyc.screening import chinese

        return chinese.gloss(word, self.vocab.words.__contains__)

    def _add_group(self, abbreviation: str) -> None:
        """中航: AVIC in the translated reading (the pinyin reading has zhonghang: some
        subsidiaries keep the pinyin). A group whose acronym the alias table does not expand
        is spelled out instead (中科院 = Chinese Academy of Sciences)."""
        row = self.vocab.zh_groups[abbreviation]
        acronym = " ".join(fold_words(row.acronym))
        english = row.acronym if acronym in self.vocab.acronyms else row.english
        for word in fold_words(english):
            self.raw.append((word, ALIAS, abbreviation, "han", False))

    def _add_segment(self, word: str) -> None:
        """One segmented word of a run the tables do not cover: its CC-CEDICT translation in the
        translated readings (words of two or more characters: single characters are too
        ambiguous), else its pinyin, joined (洪都 -> hongdu)."""
        if self.reading == PINYIN:
            # Whether the translated reading will differ: a word of the run has a gloss (known
            # already when a brand or group was met: then jieba and CC-CEDICT need not load).
            if not (self.han_groups or self.han_glossed):
                self.han_glossed = any(
                    self._gloss(piece) for piece in self._translated_segments(word)
                )
        elif len(word) >= 2:
            english = self._gloss(word)
            if english:
                for part in fold_words(english):
                    self.raw.append((part, TRANSLATED, word, "han", False))
                return
        self.raw.append(("".join(_pinyin(word)), TRANSLITERATED, word, "han", False))

    def build(self) -> tuple[Token, ...]:
        vocab = self.vocab
        n = len(self.raw)
        kinds: list[tuple[str, str | None] | None] = [None] * n
        legal_starts = vocab.legal_starts
        words = [r[0] for r in self.raw]
        for idx, (kind, legal) in self.fixed.items():
            kinds[idx] = (kind, legal or None)
        # Legal forms: longest phrase first, anywhere for multi-word or long forms, at either end
        # for short ones (AG, SA, AS, CO could be ordinary words or initials).
        i = 0
        while i < n:
            if (
                kinds[i] is not None
                or self.raw[i][4]
                or self.raw[i][3] == "han"
                or words[i] not in legal_starts  # no legal form starts with the word
            ):
                # A Han syllable is not a legal form for spelling like one (奥 = ao, 萨 = sa):
                # Chinese legal forms come from the term table, already decided.
                i += 1
                continue
            for size in range(min(vocab.max_legal_len, n - i), 0, -1):
                phrase = tuple(words[i : i + size])
                cls = vocab.legal_forms.get(phrase)
                if cls is None:
                    continue
                short = size == 1 and len(phrase[0]) <= _AMBIGUOUS_LEGAL_MAX
                at_end = (
                    i == 0 or i + size == n or all(_is_legal(kinds[j]) for j in range(i + size, n))
                )
                if short and (n < 2 or not at_end) and phrase[0] not in ("ltd", "llc", "ooo"):
                    continue
                for j in range(i, i + size):
                    kinds[j] = (LEGAL, cls)
                break
            i += 1
        tokens: list[Token] = []
        legal_run: list[int] = []
        for idx, (word, how, orig, script, is_number) in enumerate(self.raw):
            decided = kinds[idx]
            if decided is not None and decided[0] == LEGAL:
                legal_run.append(idx)
                nxt = kinds[idx + 1] if idx + 1 < n else None
                if nxt is not None and nxt[0] == LEGAL and nxt[1] == decided[1]:
                    continue
                form = " ".join(words[j] for j in legal_run)
                legal_run = []
                tokens.append(Token(form, LEGAL, how, orig, script, decided[1]))
                continue
            if is_number:
                kind, text = NUMBER, word
            elif decided is not None:
                kind, text = decided[0], word
            elif word in vocab.words and not (
                script == "han" and how not in _HAN_MEANING and vocab.words[word][1] in _LATIN_ONLY
            ):
                text, kind = vocab.words[word]
                if kind in ("stop", "title"):
                    self.ignored.append((word, "title" if kind == "title" else "stop word"))
                    continue
            elif len(word) == 1 and script != "han":  # 阿 = a is a syllable, not an initial
                kind, text = INITIAL, word
            elif word.endswith(("ovich", "evich", "ovna", "evna", "ievich", "ovych", "ivna")):
                kind, text = PATRONYMIC, word
            else:
                kind, text = NAME, word
            phon, skel = _sounds(text)
            tokens.append(Token(text, kind, how, orig, script, None, phon, skel))
        if not tokens and self.ignored:
            # A name made only of stop words or titles ("The The") keeps them rather than vanish.
            return tuple(Token(w, NAME, EXACT, w, "latin") for w, _ in self.ignored)
        return tuple(tokens)


def _tokens(
    name: str, vocab: Vocabulary, reading: str = PINYIN
) -> tuple[tuple[Token, ...], list[tuple[str, str]]]:
    tokens, ignored, _ = _read(name, vocab, reading)
    return tokens, ignored


def _read(
    name: str, vocab: Vocabulary, reading: str
) -> tuple[tuple[Token, ...], list[tuple[str, str]], bool]:
    """Tokens, ignored fragments, and whether the reading has Han words another reading would
    read otherwise."""
    builder = _Builder(vocab, reading)
    segments: list[tuple[str, str]] = []
    if name.isascii():
        # One Latin segment (ASCII is its own NFKC form): the common case, without a pass per
        # character.
        if name:
            segments.append(("latin", name))
    else:
        for ch in unicodedata.normalize("NFKC", name):
            script = _script(ch)
            if segments and segments[-1][0] == script:
                segments[-1] = (script, segments[-1][1] + ch)
            else:
                segments.append((script, ch))
    only_han = all(s == "han" or not seg.strip() for s, seg in segments)
    for script, segment in segments:
        if script == "han":
            builder.add_han(segment, whole_name=only_han)
        elif script == "latin":
            builder.add_words(segment, EXACT, segment, "latin")
        elif script == "hangul":
            # A Hangul block is a syllable: romanise them apart to align with "Kim Jong Un".
            for word in segment.split():
                builder.add_words(" ".join(word), TRANSLITERATED, word, script)
        else:
            builder.add_words(segment, TRANSLITERATED, segment, script)
    return builder.build(), builder.ignored, builder.han_groups or builder.han_glossed


def _find(seq: list[str], sub: list[str]) -> int:
    for i in range(len(seq) - len(sub) + 1):
        if seq[i : i + len(sub)] == sub:
            return i
    return -1


_Rule = tuple[list[str], tuple[Token, ...], str, str]


@lru_cache(maxsize=4)
def _alias_rules(vocab_id: int) -> dict[str, list[_Rule]]:
    """Rewrite rules from the alias table, both directions, keyed by their first word:
    (from words, to tokens, how, note)."""
    vocab = vocabulary()
    rules: dict[str, list[_Rule]] = {}
    for row in vocab.aliases:
        # Read in the translated reading: a Han alias is its brand there (海康威视 = hikvision),
        # not its pinyin, which would rewrite Latin names ("Hua Wei") into the brand.
        alias_tokens = tuple(
            t for t in _tokens(row.alias, vocab, TRANSLATED_READING)[0] if t.kind != LEGAL
        )
        name_tokens = tuple(t for t in _tokens(row.name, vocab)[0] if t.kind != LEGAL)
        alias_words = [t.text for t in alias_tokens]
        name_words = [t.text for t in name_tokens]
        if not alias_words or not name_words or alias_words == name_words:
            continue
        how = ACRONYM if row.kind == "acronym" else ALIAS
        note = f"{row.kind} {row.alias} = {row.name} ({row.source})"
        rules.setdefault(alias_words[0], []).append((alias_words, name_tokens, how, note))
        rules.setdefault(name_words[0], []).append((name_words, alias_tokens, how, note))
    return rules


def _rewrite(tokens: tuple[Token, ...], vocab: Vocabulary) -> list[NameForm]:
    forms: list[NameForm] = []
    core = [t for t in tokens if t.kind != LEGAL]
    words = [t.text for t in core]
    table = _alias_rules(id(vocab))
    rules = [rule for word in dict.fromkeys(words) for rule in table.get(word, ())]
    for src, dst, how, note in rules:
        at = _find(words, src)
        if at < 0:
            continue
        replaced = core[at : at + len(src)]
        orig = " ".join(dict.fromkeys(t.orig for t in replaced))
        new = [replace(t, how=how, orig=orig) for t in dst]
        position = tokens.index(replaced[0])
        before = [t for t in tokens[:position] if t not in replaced]
        after = [t for t in tokens[position:] if t not in replaced]
        forms.append(NameForm(tuple(before + new + after), note))
        if len(forms) >= 3:
            break
    return forms


@lru_cache(maxsize=200_000)
def analyze(name: str) -> Analysis:
    """All readings of ``name``: the plain one first, then alias-table and acronym rewrites."""
    vocab = vocabulary()
    tokens, ignored, differs = _read(name, vocab, PINYIN)
    forms = [NameForm(tokens), *_rewrite(tokens, vocab)]
    if differs:
        # Han words that translate or abbreviate a state group: the parallel reading.
        other = _read(name, vocab, TRANSLATED_READING)[0]
        if other != tokens and all(other != f.tokens for f in forms):
            # No alias rewrites of this one: every form costs a scoring pass per candidate, and
            # the listed names' own rewrites already meet an acronym.
            forms.append(NameForm(other, HAN_NOTE))
        forms = _shared_tokens(forms)
    wade_giles = _wade_giles(name, vocab)
    if wade_giles and all(wade_giles != f.tokens for f in forms):
        forms.append(NameForm(wade_giles, WADE_GILES))
    for reading in _person_readings(name, vocab):
        if all(reading.tokens != f.tokens for f in forms):
            forms.append(reading)
    return Analysis(name, tuple(forms), tuple(ignored))


on_clear(analyze.cache_clear)


def _wade_giles(name: str, vocab: Vocabulary) -> tuple[Token, ...] | None:
    """A person's name of three Han characters in Wade-Giles, a syllable a word, as Taiwan
    and older listings write it (蔡英文 = Tsai Ing-wen). Two-character names are left to
    pinyin: they are as often foreign names in Chinese (林达 = Linda), whose one-syllable
    Wade-Giles words would meet one-word aliases on the lists."""
    if name.isascii():
        return None  # no Han character
    text = unicodedata.normalize("NFKC", name).strip()
    if len(text) != 3 or any(_script(ch) != "han" for ch in text):
        return None
    syllables = _wade_giles_syllables(_simplified(text))
    builder = _Builder(vocab)
    # Family name, then the given name joined as the pinyin reading has it: "Ing-wen" and
    # "Ingwen" both meet it, while a lone syllable ("ta", "pu") meets nothing.
    builder.raw.append((syllables[0], ROMANISED_WG, text[0], "han", False))
    builder.raw.append(("".join(syllables[1:]), ROMANISED_WG, text[1:], "han", False))
    return builder.build()


def _person_readings(name: str, vocab: Vocabulary) -> list[NameForm]:
    """A three-character Han name read in Cantonese, with the Taiwan family name, or in Korean
    (see eastasian.py): parallel readings, family name then given name."""
    if name.isascii():
        return []  # no Han character
    text = unicodedata.normalize("NFKC", name).strip()
    if len(text) != 3 or any(_script(ch) != "han" for ch in text):
        return []
    from computekyc.screening.eastasian import person_readings

    out: list[NameForm] = []
    for reading in person_readings(text, _wade_giles_syllables(_simplified(text))):
        builder = _Builder(vocab)
        builder.raw.append((reading.family, reading.how, text[0], "han", False))
        for position, word in enumerate(reading.given):
            orig = text[1:] if len(reading.given) == 1 else text[1 + position]
            builder.raw.append((word, reading.how, orig, "han", False))
        out.append(NameForm(builder.build(), reading.via))
    return out


@memoised(65536)
def _wade_giles_syllables(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(anyascii(s).lower().replace("'", "") for s in lazy_pinyin(
        text, style=Style.WADEGILES))  # fmt: skip


def _shared_tokens(forms: list[NameForm]) -> list[NameForm]:
    """The readings with equal tokens made one object, so that the scorer compares each token
    once per candidate however many readings carry it."""
    seen: dict[Token, Token] = {}
    return [NameForm(tuple(seen.setdefault(t, t) for t in form.tokens), form.via) for form in forms]


HAN_NOTE = (
    "Han words translated (zh_terms.csv, CC-CEDICT), group abbreviations read as the group "
    "(zh_groups.csv)"
)


def clear_caches() -> None:
    """Forget cached analyses and the vocabulary (after the alias file changed)."""
    forget()
    analyze.cache_clear()
    _alias_rules.cache_clear()
    memo_clear()
