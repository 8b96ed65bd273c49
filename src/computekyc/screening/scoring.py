"""Pairwise name scoring with explanations.

A score is a weighted token alignment:

    score = Σ sim·(w_q + w_c) over aligned pairs  /  (Σ (w_q + w_c) + α·extras + β·conflicts)

* token weights come from the token kind (generic words, places, particles and legal forms weigh
  little) times a rarity factor from the list corpus when an index supplies one;
* *extras* are tokens present on one side only (a middle name, "Hangzhou", "Digital"); they
  lower the score gently, so a short brand still finds the full legal name and vice versa;
* *conflicts* are words left unmatched on both sides, paired off (a different surname or
  patronymic, another initial, another country in brackets); they lower the score hard, except
  numbers (fund and vessel series), which only nudge it;
* a match carried only by generic words, places or legal forms is capped below any threshold.

The same formula serves people and companies, so a score means the same for both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

from rapidfuzz.distance import JaroWinkler, Levenshtein

from computekyc.screening.eastasian import EXACT_ONLY, WHOLE_ONLY
from computekyc.screening.memo import derived
from computekyc.screening.syllables import another_reading, other_syllables, readings
from computekyc.screening.text import (
    ALIAS,
    DISTINCTIVE,
    EXACT,
    GENERIC,
    HAN_NOTE,
    INITIAL,
    LEGAL,
    LOCATION,
    NAME,
    NUMBER,
    PARTICLE,
    PATRONYMIC,
    ROMANISED_WG,
    SYLLABIC,
    TRANSLATED,
    TRANSLITERATED,
    VOWEL_POOR,
    WADE_GILES,
    Analysis,
    NameForm,
    Token,
    analyze,
    skeleton,
)
from computekyc.screening.vocab import AliasRow, Vocabulary, vocabulary

# The alerting threshold: scores at or above it are reported as hits. Chosen on the labelled dev
# pairs (see benchmarks/bench_screening.py) and kept the same for people and organisations.
DEFAULT_THRESHOLD = 0.74

KIND_WEIGHT = {NAME: 1.0, PATRONYMIC: 0.8, NUMBER: 0.6, INITIAL: 0.35, GENERIC: 0.3,
               LOCATION: 0.35, PARTICLE: 0.25, LEGAL: 0.1}  # fmt: skip
# How much a one-sided token costs, per kind (legal forms are judged by class instead).
EXTRA_COST = {NAME: 0.6, PATRONYMIC: 0.3, NUMBER: 0.8, INITIAL: 0.3, GENERIC: 0.35,
              LOCATION: 0.35, PARTICLE: 0.3, LEGAL: 0.0}  # fmt: skip
# What an unmatched token weighs when the other side has an unmatched token too (two different
# words in the same slot): a contradicting initial or place says more than its match weight.
CONFLICT_WEIGHT = {NAME: 1.0, PATRONYMIC: 0.8, NUMBER: 0.1, INITIAL: 1.0, GENERIC: 0.6,
                   LOCATION: 0.8, PARTICLE: 0.25, LEGAL: 0.0}  # fmt: skip
CONFLICT_COST = 2.0
# A generic word or place read from Chinese (集团, 工业, 中国) against another one in an English
# listing is a difference of translation more than of name ("Nuclear Industry Group" for
# "National Nuclear Corporation"): it conflicts at this fraction of the usual rate.
HAN_SUPPORT_CONFLICT = 0.25
NASAB_FACTOR = 0.7
MEMBER_NUMBER_FACTOR = 0.7
GENERIC_ONLY_CAP = 0.45
LEGAL_CLASS_FACTOR = 0.72
MIN_TOKEN_SIM = 0.75
LENGTH_FACTOR = 0.9
SKELETON_SIM = 0.85
VARIANT_SIM = 0.97
JOIN_MIN = 0.9
# Only a joined similarity of JOIN_MIN or more counts, so the edit distance may stop under it
# (0.0: computed in full; tests compare both ways on real names).
JOINED_FLOOR = JOIN_MIN
STRONG_LEGAL = frozenset({"llc", "stock", "partnership", "bank", "nonprofit"})
# First letters that romanisations swap freely (Catherine / Katherine, Wladimir / Vladimir).
_FIRST_LETTER_EQUIV = frozenset(frozenset(p) for p in ("ck", "vw", "ie", "ou", "sz", "gk", "jy"))

Rarity = Callable[[str], float]
# Readings of Han person names that count only whole, and token derivations matched only exactly.
_WHOLE_ONLY = WHOLE_ONLY | {WADE_GILES}
_EXACT_ONLY = EXACT_ONLY | {ROMANISED_WG}


def _no_rarity(_: str) -> float:
    return 1.0


@dataclass(frozen=True, slots=True)
class TokenMatch:
    query: str
    candidate: str
    how: str  # exact, fuzzy, transliterated, translated, alias-table, acronym, initial, joined …
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "candidate": self.candidate,
            "how": self.how,
            "similarity": round(self.similarity, 3),
        }


@dataclass(slots=True)
class Explanation:
    matches: list[TokenMatch] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # generic, legal-form, title, stop words
    unmatched_query: list[str] = field(default_factory=list)
    unmatched_candidate: list[str] = field(default_factory=list)
    lowered_by: list[str] = field(default_factory=list)  # what lowered the score, and by how much
    raised_by: list[str] = field(default_factory=list)
    via: str | None = None  # alias-table / acronym rule used
    # How each matched Chinese segment was read, and from which table or dictionary:
    # "中航 = avic (group abbreviation, zh_groups.csv:12: https://www.avic.com/ …)".
    segments: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"segments": self.segments} if self.segments else {}
        return {
            **extra,
            "matches": [m.to_dict() for m in self.matches],
            "ignored": self.ignored,
            "unmatched_query": self.unmatched_query,
            "unmatched_candidate": self.unmatched_candidate,
            "lowered_by": self.lowered_by,
            "raised_by": self.raised_by,
            "via": self.via,
        }

    def summary(self) -> str:
        parts = [f"{m.query}~{m.candidate} ({m.how} {m.similarity:.2f})" for m in self.matches]
        text = "; ".join(parts) or "no token matched"
        if self.via:
            text += f" | via {self.via}"
        if self.segments:
            text += " | segments: " + "; ".join(self.segments)
        if self.ignored:
            text += " | ignored: " + ", ".join(self.ignored)
        if self.lowered_by:
            text += " | lowered by: " + "; ".join(self.lowered_by)
        if self.raised_by:
            text += " | raised by: " + "; ".join(self.raised_by)
        return text


@dataclass(slots=True)
class MatchResult:
    score: float
    explanation: Explanation
    query_form: NameForm | None = None
    candidate_form: NameForm | None = None

    def is_match(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.score >= threshold


_ENDINGS = re.compile(r"(?:iy|ii|ij|yi|yy|yj)$")


@lru_cache(maxsize=65536)
def _romanised(word: str) -> str:
    """Fold the spellings that Russian romanisation systems disagree on."""
    return _ENDINGS.sub("y", word.replace("ks", "x"))


def _first_letters_close(a: str, b: str) -> bool:
    return a[0] == b[0] or frozenset((a[0], b[0])) in _FIRST_LETTER_EQUIV


def token_similarity(a: Token, b: Token) -> tuple[float, str]:
    """Similarity of two tokens in [0, 1] and how it was established (0 below the fuzzy floor)."""
    if a.text == b.text:
        if a.how == EXACT and b.how == EXACT:
            return 1.0, EXACT
        return 1.0, a.how if a.how != EXACT else b.how
    if a.kind in (NUMBER, LEGAL) or b.kind in (NUMBER, LEGAL):
        return 0.0, ""  # numbers and legal forms never match fuzzily
    if a.how in _EXACT_ONLY or b.how in _EXACT_ONLY:
        return 0.0, ""  # the Wade-Giles reading is itself the variant spelling: exact only
    if (a.how == ALIAS and a.script == "han") or (b.how == ALIAS and b.script == "han"):
        return 0.0, ""  # a table's reading of Han text (中核 = CNNC) is not a spelling: CNOOC
    if a.kind == INITIAL or b.kind == INITIAL:
        short, long_ = (a, b) if a.kind == INITIAL else (b, a)
        if long_.kind != INITIAL and long_.text.startswith(short.text):
            return 0.9, "initial"
        return 0.0, ""
    ta, tb = a.text, b.text
    if _romanised(ta) == _romanised(tb):
        # Arkadiy / Arkadii / Arkady, Aleksandr / Alexandr: one name in two romanisation systems.
        origin = a.how if a.how != EXACT else b.how
        return VARIANT_SIM, "variant" if origin == EXACT else f"{origin}+variant"
    if a.script == b.script and a.script in SYLLABIC:
        # One Han character or Hangul block is one syllable of the name: a different character is
        # a different name, even when the romanisation happens to be close (习近平 vs 习近朋).
        return 0.0, ""
    if (a.script == "han") != (b.script == "han"):
        # The same for a Han name's pinyin against a listed pinyin name: tianyan is not Tanyuan;
        # but a character read otherwise is the same name (洪都 = Hongdu, not hongdou).
        han, other = (a, b) if a.script == "han" else (b, a)
        if han.how == TRANSLITERATED and han.kind == NAME and other.script == "latin":
            if another_reading(han.orig, other.text):
                return 1.0, "transliterated+other reading"
            if other_syllables(han.orig, han.text, other.text):
                return 0.0, ""
    if (a.script in VOWEL_POOR) != (b.script in VOWEL_POOR) and a.skel and b.skel:
        # Arabic, Hebrew, Thai romanisations omit or guess vowels: compare consonants.
        skel = 0.95 * Levenshtein.normalized_similarity(a.skel, b.skel)
        if skel >= MIN_TOKEN_SIM:
            return skel, f"{a.how if a.how != EXACT else b.how}+consonants"
    if min(len(ta), len(tb)) <= 3:
        # Short tokens get one edit at most (Jong-un / Jong-uun, Si / Xi) and never more.
        if Levenshtein.distance(ta, tb) == 1 and min(len(ta), len(tb)) >= 2:
            return 0.8, "fuzzy" if a.how == b.how == EXACT else f"{a.how}+fuzzy"
        return 0.0, ""
    # The blend below reaches MIN_TOKEN_SIM only if the edit similarity is at least 0.5: cut off
    # there, which makes the common case (two unrelated words) cheap.
    lev = Levenshtein.normalized_similarity(ta, tb, score_cutoff=0.5)
    if not lev:
        return 0.0, ""
    sim = blend = 0.5 * (lev + JaroWinkler.similarity(ta, tb))
    how = "fuzzy"
    if a.phon and a.phon == b.phon and sim < 0.88 and lev >= 0.6:
        sim, how = 0.88, "phonetic"
    if not _first_letters_close(ta, tb):
        sim *= 0.92
    gap = abs(len(ta) - len(tb))
    if gap and (ta[-1] == "s") != (tb[-1] == "s"):
        gap -= 1  # Baltic and plural -s (Sergejs Lavrovs) is an ending, not another name
    if gap:
        # A typo rarely changes a name's length, while different names built on one stem often do
        # (Lukashevich / Lukashenko, Albano / Albanese).
        sim *= LENGTH_FACTOR ** min(gap, 3)
    if (
        sim < SKELETON_SIM
        and blend >= 0.7
        and len(a.skel) >= 3
        and a.skel == b.skel
        and ta[0] == tb[0]
    ):
        # Same consonants, other vowels: the usual spread of romanisations of one name
        # (Husayn / Hussein, Joonng / Jong), which the length penalty must not throw out.
        sim, how = SKELETON_SIM, "consonants"
    if sim < MIN_TOKEN_SIM:
        return 0.0, ""
    if a.how != EXACT or b.how != EXACT:
        how = f"{a.how if a.how != EXACT else b.how}+{how}"
    return sim, how


def _weight(t: Token, rarity: Rarity) -> float:
    w = KIND_WEIGHT[t.kind]
    return w * rarity(t.text) if t.kind in (NAME, PATRONYMIC) else w


def _pair_joined(
    left: list[Token],
    other: list[Token],
    pairs: list[tuple[Token, Token, float, str]],
    swap: bool = False,
) -> None:
    """Pair two adjacent leftover words with one leftover word written joined on the other side
    ("Patr ushev" ~ "Patrushev", "Mohammad Hasni" ~ "Mohammadhasni"). Mutates the lists."""
    for i in range(len(left) - 1):
        a, b = left[i], left[i + 1]
        if a.kind not in DISTINCTIVE or b.kind not in DISTINCTIVE:
            continue
        merged = a.text + b.text
        for o in other:
            if o.kind not in DISTINCTIVE or abs(len(o.text) - len(merged)) > 2:
                continue
            sim = Levenshtein.normalized_similarity(merged, o.text)
            if sim >= 0.85:
                token = Token(merged, NAME, "joined", f"{a.orig} {b.orig}")
                pairs.append((o, token, sim, "joined") if swap else (token, o, sim, "joined"))
                left[i : i + 2] = []
                other.remove(o)
                return


_NOT_SYLLABLES = frozenset({LEGAL, NUMBER, GENERIC})


def _pair_syllables(
    left: list[Token],
    other: list[Token],
    pairs: list[tuple[Token, Token, float, str]],
    swap: bool = False,
) -> None:
    """Pair a Han word's pinyin with the same syllables written as several words on the other
    side (智道创宇 = Zhi Dao Chuang Yu, 海康威视 = Hai Kang Wei Shi), in any reading of its
    characters. Mutates the lists."""
    for han in [t for t in left if t.script == "han" and t.how == TRANSLITERATED]:
        if han.kind != NAME:
            continue
        spellings = readings(han.orig) | {han.text}
        longest = max(len(s) for s in spellings)
        for i in range(len(other)):
            joined = ""
            for j in range(i, len(other)):
                word = other[j]
                if word.script == "han" or word.kind in _NOT_SYLLABLES:
                    break
                joined += word.text
                if len(joined) > longest:
                    break
                if j > i and joined in spellings:
                    orig = " ".join(t.orig for t in other[i : j + 1])
                    token = Token(joined, NAME, "joined", orig)
                    how = "transliterated+syllables"
                    pairs.append((token, han, 1.0, how) if swap else (han, token, 1.0, how))
                    left.remove(han)
                    del other[i : j + 1]
                    break
            else:
                continue
            break


def _rare(t: Token, rarity: Rarity) -> float:
    return rarity(t.text) if t.kind in (NAME, PATRONYMIC) else 1.0


def _conflict_weight(t: Token, rarity: Rarity) -> float:
    weight = CONFLICT_WEIGHT[t.kind] * _rare(t, rarity)
    if t.script == "han" and not t.distinctive:
        weight *= HAN_SUPPORT_CONFLICT
    return weight


def _other_member_number(q_left: list[Token], c_left: list[Token]) -> bool:
    """A Chinese ordinal (第一, 第十四研究所) numbers one member of a group: another number on
    the other side is another institute or bureau, not a series of one fund."""
    q_numbers = [t for t in q_left if t.kind == NUMBER]
    c_numbers = [t for t in c_left if t.kind == NUMBER]
    return bool(q_numbers and c_numbers) and any(t.script == "han" for t in q_numbers + c_numbers)


def _after_bin(tokens: tuple[Token, ...]) -> Token | None:
    for i, t in enumerate(tokens[:-1]):
        if t.kind == PARTICLE and t.text == "bin":
            return tokens[i + 1]
    return None


def _nasab_differs(
    q: tuple[Token, ...], c: tuple[Token, ...], pairs: list[tuple[Token, Token, float, str]]
) -> bool:
    """In Arabic names the word after bin/ibn is the father's: swapping it with the given name
    (Salman bin Muhammad vs Muhammad bin Salman) names another person."""
    fq = _after_bin(q)
    if fq is None:
        return False
    fc = _after_bin(c)
    if fc is None:
        return False
    first_q = next((t for t in q if t.distinctive), None)
    first_c = next((t for t in c if t.distinctive), None)
    paired = {(id(a), id(b)) for a, b, _, _ in pairs}
    return (id(fq), id(first_c)) in paired and (id(first_q), id(fc)) in paired


def _joined(tokens: tuple[Token, ...], with_legal: bool) -> str:
    return "".join(t.text.replace(" ", "") for t in tokens if with_legal or t.kind != LEGAL)


@dataclass(slots=True)
class _Scored:
    score: float
    pairs: list[tuple[Token, Token, float, str]]
    q_left: list[Token]
    c_left: list[Token]
    lowered: list[str]


# Token similarities already computed while scoring one pair of names, by token identity (the
# query token's, then the candidate token's): the readings of a name share most of their token
# objects (see text.analyze).
Memo = dict[int, dict[int, tuple[float, str]]]


def _score_tokens(
    q: tuple[Token, ...], c: tuple[Token, ...], rarity: Rarity, memo: Memo | None = None
) -> _Scored:
    sims: list[tuple[float, int, int, str]] = []
    # A single letter stands for a given name only beside a name word ("V. Putin"); in "K M A"
    # or "M&P Trading" the letters are an initialism and must not expand to anything.
    q_initials = any(t.kind in (NAME, PATRONYMIC) for t in q)
    c_initials = any(t.kind in (NAME, PATRONYMIC) for t in c)
    # Per candidate token: whether it is such a lone initial, and its identity (the memo key).
    c_side = [(b, b.kind == INITIAL and not c_initials, id(b)) for b in c]
    for i, a in enumerate(q):
        lone_a = a.kind == INITIAL and not q_initials
        known_a = None
        if memo is not None:
            known_a = memo.get(id(a))
            if known_a is None:
                known_a = memo[id(a)] = {}
        for j, (b, lone_b, id_b) in enumerate(c_side):
            if (lone_a or lone_b) and a.text != b.text:
                continue
            if known_a is None:
                s, how = token_similarity(a, b)
            else:
                known = known_a.get(id_b)
                if known is None:
                    known = known_a[id_b] = token_similarity(a, b)
                s, how = known
            if s > 0:
                sims.append((s, i, j, how))
    sims.sort(key=itemgetter(0), reverse=True)  # stable: equal similarities keep their order
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs: list[tuple[Token, Token, float, str]] = []
    for s, i, j, how in sims:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        pairs.append((q[i], c[j], s, how))
    q_left = [t for i, t in enumerate(q) if i not in used_q]
    c_left = [t for j, t in enumerate(c) if j not in used_c]
    if q_left and c_left:
        _pair_joined(q_left, c_left, pairs)
        _pair_joined(c_left, q_left, pairs, swap=True)
        if any(t.script == "han" for t in q_left) != any(t.script == "han" for t in c_left):
            _pair_syllables(q_left, c_left, pairs)
            _pair_syllables(c_left, q_left, pairs, swap=True)
    # A word repeated on one side ("Sergey Sergey Shoigu") adds nothing once its twin matched,
    # unless the other side has a different word in its place (Abdul Jan vs Mohammad Jan).
    if not c_left:
        q_seen = {a.text for a, _, _, _ in pairs}
        q_left = [t for t in q_left if t.text not in q_seen]
    if not q_left:
        c_seen = {b.text for _, b, _, _ in pairs}
        c_left = [t for t in c_left if t.text not in c_seen]
    matched = full = 0.0
    distinctive_matched = False
    for a, b, s, _ in pairs:
        w = _weight(a, rarity) + _weight(b, rarity)
        matched += s * w
        full += w
        distinctive_matched |= a.kind in DISTINCTIVE or b.kind in DISTINCTIVE
    lowered: list[str] = []
    q_conf = sum(_conflict_weight(t, rarity) for t in q_left)
    c_conf = sum(_conflict_weight(t, rarity) for t in c_left)
    conflict = min(q_conf, c_conf)
    extra = 0.0
    for left, conf in ((q_left, q_conf), (c_left, c_conf)):
        # The part of a side's leftovers that is paired off against the other side's leftovers is
        # a contradiction (charged below at the conflict rate); the rest is one-sided.
        one_sided = 1.0 - conflict / conf if conf > 0 else 1.0
        extra += one_sided * sum(_weight(t, rarity) * EXTRA_COST[t.kind] for t in left)
    if conflict > 0:
        lowered.append(
            "different words on both sides: "
            + ", ".join(t.text for t in q_left if CONFLICT_WEIGHT[t.kind])
            + " vs "
            + ", ".join(t.text for t in c_left if CONFLICT_WEIGHT[t.kind])
        )
    denominator = full + extra + CONFLICT_COST * 2 * conflict
    score = matched / denominator if denominator > 0 else 0.0
    if full and matched < full - 1e-9:
        lowered.append("fuzzy token matches")
    if extra > 0:
        lone = [t.text for t in q_left + c_left if EXTRA_COST[t.kind] > 0]
        if lone:
            lowered.append("words on one side only: " + ", ".join(lone))
    if pairs and not distinctive_matched and score > GENERIC_ONLY_CAP:
        # Generic words, places and legal forms never carry a match. A name made only of them
        # ("Digital Technologies LLC") matches only when every word of it is there on both sides.
        any_distinctive = any(t.kind in DISTINCTIVE for t in q) or any(
            t.kind in DISTINCTIVE for t in c
        )
        leftover = [t for t in q_left + c_left if t.kind != LEGAL]
        if any_distinctive or (leftover and not _han_generic_rendering(q, c, leftover)):
            score = GENERIC_ONLY_CAP
            lowered.append("only generic words, places or legal forms matched")
    if _other_member_number(q_left, c_left):
        score *= MEMBER_NUMBER_FACTOR
        lowered.append("another numbered member of the group (第一 = 1st vs 2nd)")
    if _nasab_differs(q, c, pairs):
        score *= NASAB_FACTOR
        lowered.append("the father's name (after bin/ibn) is in a different place")
    q_classes = {t.legal_class for t in q if t.legal_class in STRONG_LEGAL}
    c_classes = {t.legal_class for t in c if t.legal_class in STRONG_LEGAL}
    if q_classes and c_classes and not q_classes & c_classes:
        score *= LEGAL_CLASS_FACTOR
        lowered.append(
            f"legal forms differ ({'/'.join(sorted(q_classes))} vs {'/'.join(sorted(c_classes))})"
        )
    return _Scored(score, pairs, q_left, c_left, lowered)


_STRUCTURE_WORDS = frozenset({"group", "holding"})


def _han_generic_rendering(
    q: tuple[Token, ...], c: tuple[Token, ...], leftover: list[Token]
) -> bool:
    """A name made only of organisational words, read from Chinese, against its English
    rendering: the translation adds or drops a word ("China National Chemical Engineering Group"
    for 中国化学工程集团; 研究所 = research institute for "Institute"). One generic word left
    over is a difference of translation, unless it is a word that tells a group from its
    member companies (集团 = Group, 控股 = Holding), which no translation adds or drops; a
    Chinese legal form spells such a word too (集团有限公司 = Group Co. Ltd.)."""
    if (any(t.script == "han" for t in q)) == (any(t.script == "han" for t in c)):
        return False
    words = [{w for t in side for w in t.text.split()} for side in (q, c)]
    for side, other in ((q, words[1]), (c, words[0])):
        spelled = {w for t in side if t.kind == LEGAL and t.script == "han" for w in t.text.split()}
        if any(w in _STRUCTURE_WORDS and w not in other for w in spelled):
            return False  # 集团有限公司 against a listed member company
    han_legal = {w for side in (q, c) for t in side if t.kind == LEGAL for w in t.text.split()}
    rest = [t for t in leftover if t.text not in han_legal]
    return len(rest) <= 1 and all(
        t.kind == GENERIC and t.text not in _STRUCTURE_WORDS for t in rest
    )


def _joined_score(q: tuple[Token, ...], c: tuple[Token, ...], floor: float = 0.0) -> float:
    """Similarity of the names written without spaces, for merged/split words (SiemensAG).
    ``floor``: a similarity under it may be answered as 0 (the edit distance stops early)."""
    best = 0.0
    if sorted(t.text for t in q if t.kind == NUMBER) != sorted(
        t.text for t in c if t.kind == NUMBER
    ):
        return 0.0  # "Solutions II" vs "Solutions": a different number is not a spacing variant
    for with_legal in (False, True):
        jq, jc = _joined(q, with_legal), _joined(c, with_legal)
        if len(jq) >= 5 and len(jc) >= 5:
            best = max(best, Levenshtein.normalized_similarity(jq, jc, score_cutoff=floor))
    if any(t.script in VOWEL_POOR for t in q) != any(t.script in VOWEL_POOR for t in c):
        # عبد الله ~ Abdullah: compare the consonants of the whole name.
        sq, sc = skeleton(_joined(q, False)), skeleton(_joined(c, False))
        if len(sq) >= 3 and len(sc) >= 3:
            # 0.99 of the floor: a similarity just under floor / 0.95 is still computed exactly.
            cut = 0.99 * floor / 0.95
            best = max(best, 0.95 * Levenshtein.normalized_similarity(sq, sc, score_cutoff=cut))
    return best


def score_forms(
    q: NameForm, c: NameForm, rarity: Rarity = _no_rarity, memo: Memo | None = None
) -> _Scored:
    result = _score_tokens(q.tokens, c.tokens, rarity, memo)
    q_core = [t for t in q.tokens if t.kind != LEGAL]
    c_core = [t for t in c.tokens if t.kind != LEGAL]
    if len(q.tokens) != len(c.tokens) and result.score < JOIN_MIN:
        joined = _joined_score(q.tokens, c.tokens, JOINED_FLOOR)
        if joined >= JOIN_MIN and joined > result.score:
            jq = " ".join(t.text for t in q_core)
            jc = " ".join(t.text for t in c_core)
            probe = Token(jq, NAME, "joined", jq)
            result = _Scored(
                joined,
                [(probe, Token(jc, NAME, "joined", jc), joined, "joined")],
                [],
                [],
                ["words merged or split"],
            )
    return result


def best_match(
    query: Analysis, candidate: Analysis, rarity: Rarity = _no_rarity, memo: Memo | None = None
) -> tuple[_Scored, NameForm, NameForm]:
    """The best-scoring pair of readings. ``memo``: token similarities kept by the caller across
    candidates (its tokens must stay alive while it is used)."""
    best: tuple[_Scored, NameForm, NameForm] | None = None
    if memo is None and len(query.forms) * len(candidate.forms) > 1:
        memo = {}
    q_person, c_person = _han_person(query.original), _han_person(candidate.original)
    for qf in query.forms:
        for cf in candidate.forms:
            scored = score_forms(qf, cf, rarity, memo)
            if _partial_wade_giles(qf, scored.q_left) or _partial_wade_giles(cf, scored.c_left):
                continue
            if (q_person and _partial(scored, cf, han_is_query=True)) or (
                c_person and _partial(scored, qf, han_is_query=False)
            ):
                scored = _capped(scored, "only part of a personal name written in Chinese matched")
            if best is None or scored.score > best[0].score:
                best = (scored, qf, cf)
    if best is None:  # only partial Wade-Giles readings: score the plain readings
        first = query.forms[0], candidate.forms[0]
        best = (score_forms(*first, rarity), *first)
    return best


_INTERPUNCT = frozenset("·・‧•･")


@lru_cache(maxsize=65536)
def _han_person(name: str) -> bool:
    """Whether a name is a person's name written in Han characters: a foreign name with its
    parts joined by an interpunct (亚当·金 = Adam Kim), or one to three characters alone (a
    family name and a given name: 顾立雄; or one of them: 楚)."""
    text = unicodedata.normalize("NFKC", name).strip()
    han = [ch for ch in text if _han_char(ch)]
    if not han or any(not (_han_char(ch) or ch in _INTERPUNCT) for ch in text):
        return False
    return len(han) < len(text) or len(han) <= 3


def _han_char(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def _partial(scored: _Scored, other: NameForm, han_is_query: bool) -> bool:
    """A personal name counts only whole. It is met only in part when a part of it is left
    over and what matched is one character (金 = Jin, 丹 = Dan: a family name or one syllable)
    or the other side is one word (亚当 = Adam, against the one-word alias ADAM); or when its
    parts run together into one other word (林达 = Linda; not 飞帆 = Fei-fan). A part that
    meets the other side's part only loosely (贝拉克 Beilake for Barack, beside 奥巴马 =
    Obama) is scored as usual. The other name counts whole too: one character (楚 = Chu) meets
    only a name of one word (not CHU Na), and a family name with a one-syllable given name,
    each character read as pinyin (威利 = Wei Li), does not meet a name with a further word
    (WEI Li Fang)."""
    one_word = sum(t.distinctive for t in other.tokens) <= 1
    if one_word and any(how == "joined" for *_, how in scored.pairs):
        return True
    left = scored.q_left if han_is_query else scored.c_left
    other_left = scored.c_left if han_is_query else scored.q_left
    han = [a if han_is_query else b for a, b, _, _ in scored.pairs]
    matched = {t.orig for t in han}
    chars = sum(len(orig) for orig in matched if orig.strip())
    if not any(t.distinctive for t in left):
        if sum(len(t.orig) for t in han if t.orig.strip()) == 1:
            # One character; a twin word of the other name counts (李 is not LI, Li).
            return bool(other_left) or sum(t.distinctive for t in other.tokens) > 1
        by_character = len(han) == 2 and all(
            len(t.orig) == 1 and t.how == TRANSLITERATED for t in han
        )
        return by_character and any(t.distinctive for t in other_left)
    return chars <= 1 or one_word


def _capped(scored: _Scored, why: str) -> _Scored:
    if scored.score <= GENERIC_ONLY_CAP:
        return scored
    return _Scored(
        GENERIC_ONLY_CAP, scored.pairs, scored.q_left, scored.c_left, [*scored.lowered, why]
    )


def _partial_wade_giles(form: NameForm, left: list[Token]) -> bool:
    """The Wade-Giles reading counts only whole: family and given name both met. Half of it
    (a one-syllable family name) meets too many listed names by chance."""
    return form.via in _WHOLE_ONLY and any(t.distinctive for t in left)


def explain(
    scored: _Scored, query: Analysis, candidate: Analysis, qf: NameForm, cf: NameForm
) -> Explanation:
    exp = Explanation()
    for a, b, s, how in scored.pairs:
        exp.matches.append(
            TokenMatch(
                a.orig if a.how != EXACT else a.text, b.orig if b.how != EXACT else b.text, how, s
            )
        )
    for side, tokens in (("query", qf.tokens), ("candidate", cf.tokens)):
        for t in tokens:
            if t.kind == LEGAL:
                exp.ignored.append(f"{t.orig if t.how != EXACT else t.text} (legal form, {side})")
    for word, why in (*query.ignored, *candidate.ignored):
        exp.ignored.append(f"{word} ({why})")
    generic = [
        (a, b)
        for a, b, _, _ in scored.pairs
        if not (a.distinctive or b.distinctive) and a.kind != LEGAL
    ]
    for a, _ in generic:
        exp.ignored.append(f"{a.text} ({a.kind} word: supports, cannot carry a match)")
    exp.unmatched_query = [t.text for t in scored.q_left if t.kind != LEGAL]
    exp.unmatched_candidate = [t.text for t in scored.c_left if t.kind != LEGAL]
    exp.lowered_by = list(scored.lowered)
    via = qf.via or cf.via
    if via is None or via == HAN_NOTE:
        # A brand met inside Han text names its table row (海康威视 = Hikvision, its source).
        via = _alias_source(qf, cf) or via
    exp.via = via
    exp.segments = _han_segments(scored.pairs, qf, cf)
    return exp


def _han_segments(pairs: list[tuple[Token, Token, float, str]], *forms: NameForm) -> list[str]:
    """One line per matched Chinese segment: what it was read as, and the table, dictionary or
    romanisation behind the reading."""
    matched = [t for a, b, _, _ in pairs for t in (a, b) if t.script == "han"]
    if not matched:
        return []
    vocab = vocabulary()
    brands = _alias_rows(vocab, "brand")
    lines: list[str] = []
    for orig in dict.fromkeys(t.orig for t in matched):
        token = next(t for t in matched if t.orig == orig)
        form = next((f for f in forms if token in f.tokens), None)
        words = " ".join(t.text for t in (form.tokens if form else (token,)) if t.orig == orig)
        if token.how == ALIAS and orig in vocab.zh_groups:
            row = vocab.zh_groups[orig]
            source = f"group abbreviation, {row.origin}: {row.source}"
        elif token.how == ALIAS and orig in brands:
            source = f"brand alias, {brands[orig].origin}: {brands[orig].source}"
        elif token.kind == NUMBER:
            source = "Chinese numeral"
        elif orig in vocab.zh_terms and token.how in (TRANSLATED, TRANSLITERATED):
            source = "reviewed term table zh_terms.csv"
        elif token.how == TRANSLATED:
            source = "CC-CEDICT"
        elif token.how == ROMANISED_WG:
            source = "Wade-Giles"
        elif token.how == TRANSLITERATED:
            source = "pinyin"
            spelled = _spelled_as(token, pairs)
            if spelled is not None:
                words, source = spelled
        else:
            source = token.how
        lines.append(f"{orig} = {words} ({source})")
    return lines


def _alias_rows(vocab: Vocabulary, kind: str | None) -> dict[str, AliasRow]:
    """The alias table by alias (of one kind, or all), made once per vocabulary."""
    return derived(
        vocab,
        f"aliases {kind}",
        lambda: {row.alias: row for row in vocab.aliases if kind is None or row.kind == kind},
    )


def _spelled_as(
    token: Token, pairs: list[tuple[Token, Token, float, str]]
) -> tuple[str, str] | None:
    """How a Han word's pinyin met the other side when not letter for letter: in another
    reading of its characters (洪都 = hongdu), or written a syllable a word."""
    for a, b, _, how in pairs:
        if token in (a, b) and how in ("transliterated+other reading", "transliterated+syllables"):
            other = b if token is a else a
            if how == "transliterated+other reading":
                return other.text, "pinyin, another reading of a character"
            return other.orig, "pinyin, written a syllable a word"
    return None


def _alias_source(*forms: NameForm) -> str | None:
    """The alias-table row behind a brand token met inside Han text (海康威视 = Hikvision)."""
    rows: dict[str, AliasRow] | None = None
    for form in forms:
        for t in form.tokens:
            if t.how != ALIAS:
                continue
            rows = _alias_rows(vocabulary(), None) if rows is None else rows
            row = rows.get(t.orig)
            if row is not None:
                return f"{row.kind} {row.alias} = {row.name} ({row.source})"
    return None


def compare(name1: str, name2: str, rarity: Rarity = _no_rarity) -> MatchResult:
    """Score two names against each other, with the explanation. Symmetric up to rounding."""
    q, c = analyze(name1), analyze(name2)
    scored, qf, cf = best_match(q, c, rarity)
    return MatchResult(round(scored.score, 4), explain(scored, q, c, qf, cf), qf, cf)
