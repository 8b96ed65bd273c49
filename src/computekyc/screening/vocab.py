"""The reviewed vocabulary tables behind normalisation: legal forms, generic words, Chinese terms
and the brand/acronym alias table.

The tables are CSV files in ``screening/data`` so that analysts can review and extend them without
code; an optional ``brand_aliases.csv`` (same columns) in the state folder adds local aliases.
The state folder comes from the settings: the service layer names it with :func:`use_home`
(``services.indexes.use_screening_settings``) before it screens; until then only the packaged
tables are used.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from computekyc.exc import InputError
from computekyc.screening.chinese import GROUPS_FILE, GroupRow

ALIAS_FILE = "brand_aliases.csv"
_home: Path | None = None  # the settings' state folder, named by use_home
# The vocabulary in force, resolved once per use_home (analyze asks for it on every name; a
# look for the alias file each time cost a file-system call per name).
_current: Vocabulary | None = None
# The Chinese names of listed Chinese firms that no reading derives (京东方 = BOE), from the lists.
LISTED_ZH_FILE = "zh_listed_names.csv"
# The packaged alias tables in force (a benchmark measures what each adds by leaving it out).
ALIAS_FILES: tuple[str, ...] = (ALIAS_FILE, LISTED_ZH_FILE)


class VocabError(InputError, ValueError):
    """A vocabulary file is malformed; the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class AliasRow:
    alias: str
    name: str
    kind: str  # brand | acronym
    source: str
    origin: str  # file:line, for explanations and audits


@dataclass(slots=True)
class Vocabulary:
    legal_forms: dict[tuple[str, ...], str] = field(default_factory=dict)  # words -> class
    words: dict[str, tuple[str, str]] = field(default_factory=dict)  # word -> (canonical, kind)
    zh_terms: dict[str, tuple[str, str]] = field(default_factory=dict)  # han -> (english, kind)
    aliases: list[AliasRow] = field(default_factory=list)
    zh_groups: dict[str, GroupRow] = field(default_factory=dict)  # 中航 -> AVIC row
    acronyms: set[str] = field(default_factory=set)  # folded acronyms the alias table expands
    max_legal_len: int = 1
    legal_starts: frozenset[str] = frozenset()  # the first words of the legal forms


def _rows(text: str, origin: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """CSV rows with their line numbers, skipping ``#`` comment lines; checks required fields."""
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if not line.startswith("#")]
    if not numbered:
        return []
    reader = csv.DictReader([line for _, line in numbered])
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise VocabError(f"{origin}:{numbered[0][0]}: header lacks column(s) {', '.join(missing)}")
    out: list[tuple[int, dict[str, str]]] = []
    for (lineno, _), row in zip(numbered[1:], reader, strict=False):
        for column in required:
            if not (row.get(column) or "").strip():
                raise VocabError(f"{origin}:{lineno}: field '{column}' is empty")
        out.append((lineno, {k: (v or "").strip() for k, v in row.items() if k}))
    return out


def _read_packaged(name: str) -> str:
    return (
        resources.files("computekyc.screening").joinpath("data").joinpath(name).read_text("utf-8")
    )


def parse_aliases(text: str, origin: str) -> list[AliasRow]:
    rows = _rows(text, origin, ("alias", "name", "kind", "source"))
    out: list[AliasRow] = []
    for lineno, row in rows:
        if row["kind"] not in ("brand", "acronym"):
            raise VocabError(
                f"{origin}:{lineno}: field 'kind' is {row['kind']!r}; expected brand or acronym"
            )
        out.append(AliasRow(row["alias"], row["name"], row["kind"], row["source"], origin))
    return out


def use_home(home: Path | None) -> None:
    """Read the analyst's own aliases from ``home`` (the settings' state folder) from now on in
    this process (and its forked workers); None: the packaged tables only."""
    global _home, _current
    _home = home
    _current = None  # the alias file is looked for again on the next vocabulary()


def extra_alias_path(home: Path | None = None) -> Path | None:
    """The analyst's alias file of ``home`` (default: the folder named by :func:`use_home`),
    when there is one."""
    folder = home if home is not None else _home
    if folder is None:
        return None
    path = folder / ALIAS_FILE
    return path if path.is_file() else None


@lru_cache(maxsize=4)
def _load(extra: str | None) -> Vocabulary:
    from computekyc.screening.text import fold_words  # local: text imports nothing from here

    vocab = Vocabulary()
    for lineno, row in _rows(_read_packaged("legal_forms.csv"), "legal_forms.csv", ("form",)):
        words = tuple(row["form"].split())
        if not row.get("class"):
            raise VocabError(f"legal_forms.csv:{lineno}: field 'class' is empty")
        vocab.legal_forms[words] = row["class"]
    for _, row in _rows(_read_packaged("vocab.csv"), "vocab.csv", ("word", "canonical", "kind")):
        vocab.words[row["word"]] = (row["canonical"], row["kind"])
    for _, row in _rows(_read_packaged("zh_terms.csv"), "zh_terms.csv", ("zh", "english", "kind")):
        vocab.zh_terms[row["zh"]] = (" ".join(fold_words(row["english"])), row["kind"])
    for lineno, row in _rows(
        _read_packaged(GROUPS_FILE), GROUPS_FILE, ("zh", "acronym", "english", "source")
    ):
        vocab.zh_groups[row["zh"]] = GroupRow(
            row["zh"], row["acronym"], row["english"], row["source"], f"{GROUPS_FILE}:{lineno}"
        )
    vocab.max_legal_len = max((len(k) for k in vocab.legal_forms), default=1)
    vocab.legal_starts = frozenset(k[0] for k in vocab.legal_forms if k)
    for name in ALIAS_FILES:
        vocab.aliases += parse_aliases(_read_packaged(name), name)
    if extra:
        vocab.aliases += parse_aliases(Path(extra).read_text("utf-8"), extra)
    vocab.acronyms = {" ".join(fold_words(a.alias)) for a in vocab.aliases if a.kind == "acronym"}
    return vocab


def vocabulary() -> Vocabulary:
    """The vocabulary in force: the packaged tables plus the home alias file, if any (looked for
    once after each :func:`use_home` or :func:`forget`)."""
    global _current
    found = _current
    if found is None:
        extra = extra_alias_path()
        found = _current = _load(str(extra) if extra else None)
    return found


def forget() -> None:
    """Look for the home alias file again, and read it again (it was added or changed)."""
    global _current
    _current = None
    _load.cache_clear()
