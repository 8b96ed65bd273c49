"""Matching a provider's own records against what listed firms run.

Domains match exactly or as a sub-domain (``cloud.ezvizlife.com`` is EZVIZ), never as a substring
(``hikingclub.de`` is not Hikvision). Product names match as whole tokens in resource names, tags
and charge descriptions (``hik-connect-prod`` and ``HikConnect`` are Hik-Connect;
``hikconnected`` is not); a weak row (a generic word or a common given name such as "Dahua")
counts only beside another row of the same firm in the same value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from computekyc.brands.table import FootprintKind, FootprintRow, Strength
from computekyc.lists import Party


class Signal(StrEnum):
    """Where a value came from; decides how much a hit weighs."""

    EMAIL_DOMAIN = "email_domain"
    WEBSITE_DOMAIN = "website_domain"
    RECORD_DOMAIN = "record_domain"
    RESOURCE_NAME = "resource_name"
    TAG = "tag"
    DESCRIPTION = "description"

    @property
    def strong(self) -> bool:
        """A domain the account itself uses is near proof; a resource name is an indication."""
        return self in (Signal.EMAIL_DOMAIN, Signal.WEBSITE_DOMAIN, Signal.RECORD_DOMAIN)


@dataclass(frozen=True, slots=True)
class FootprintHit:
    signal: Signal
    field: str  # the record field the value was in (emails, website, ResourceName, Tags…)
    value: str
    matched: str  # the domain or the tokens that matched
    row: FootprintRow

    def to_dict(self) -> dict[str, object]:
        return {
            "signal": str(self.signal),
            "field": self.field,
            "value": self.value,
            "matched": self.matched,
            "table_row": self.row.to_dict(),
        }


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_TOKEN = re.compile(r"[a-z0-9]+")
_HOST = re.compile(r"(?<![a-z0-9.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})\b")


def tokens(text: str) -> list[str]:
    """Lower-case alphanumeric tokens; camel case split; ``+`` spelled out (Face++)."""
    return _TOKEN.findall(_CAMEL.sub(" ", text).replace("+", "plus").lower())


def host_of(value: str) -> str | None:
    """The host in an e-mail address, a URL or a bare domain; None when there is none."""
    text = value.strip().lower()
    if not text:
        return None
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    elif "://" in text or text.startswith("//"):
        text = urlsplit(text if "://" in text else "http:" + text).hostname or ""
    else:
        text = text.split("/", 1)[0]
    text = text.split(":", 1)[0].strip().rstrip(".")
    try:
        text = text.encode("idna").decode("ascii") if text and not text.isascii() else text
    except UnicodeError:
        return None
    return text if "." in text and _HOST.fullmatch(text) else None


def pieces(text: str) -> list[tuple[str, int]]:
    """Tokens with the index of the written word they come from: ``SenseNova-prod`` gives
    (sense, 0), (nova, 0), (prod, 1). A compound product must stand inside one written word."""
    out: list[tuple[str, int]] = []
    for group, word in enumerate(re.findall(r"[A-Za-z0-9+]+", text)):
        out.extend((token, group) for token in tokens(word))
    return out


class FootprintMatcher:
    """An index of the table for fast look-ups over millions of values."""

    def __init__(self, rows: Iterable[FootprintRow]) -> None:
        self.rows = list(rows)
        self._domains: dict[str, FootprintRow] = {}
        # Products by first token: (tokens, compound, row). A compound ("SenseNova", "Face++")
        # matches only inside one written word, so "Sense Nova Vision Ltd" is not SenseNova; a
        # phrase ("Hik-Connect", "Huawei Cloud") matches across words or run together.
        self._products: dict[str, list[tuple[tuple[str, ...], bool, FootprintRow]]] = {}
        self._joined: dict[str, list[FootprintRow]] = {}
        for row in self.rows:
            if row.kind is FootprintKind.DOMAIN:
                self._domains.setdefault(row.value, row)
                continue
            words = tuple(tokens(row.value))
            if not words:
                continue
            compound = len(re.findall(r"[A-Za-z0-9+]+", row.value)) == 1
            self._products.setdefault(words[0], []).append((words, compound, row))
            if len(words) > 1:
                self._joined.setdefault("".join(words), []).append(row)

    def domain(self, host: str) -> tuple[str, FootprintRow] | None:
        """The table domain ``host`` is or is under."""
        labels = host.lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            row = self._domains.get(candidate)
            if row is not None:
                return candidate, row
        return None

    def match_domain_value(self, signal: Signal, field: str, value: str) -> list[FootprintHit]:
        host = host_of(value)
        if host is None:
            return []
        found = self.domain(host)
        if found is None:
            return []
        return [FootprintHit(signal, field, value, found[0], found[1])]

    def match_text(self, signal: Signal, field: str, value: str) -> list[FootprintHit]:
        """Products as whole tokens, and table domains written inside the text."""
        hits: list[FootprintHit] = []
        for host in _HOST.findall(value.lower()):
            found = self.domain(host)
            if found is not None:
                hits.append(FootprintHit(signal, field, value, found[0], found[1]))
        runs = pieces(value)
        words = [token for token, _ in runs]
        for i, (word, group) in enumerate(runs):
            for row in self._joined.get(word, ()):
                hits.append(FootprintHit(signal, field, value, word, row))
            for phrase, compound, row in self._products.get(word, ()):
                end = i + len(phrase)
                if tuple(words[i:end]) != phrase:
                    continue
                if compound and any(g != group for _, g in runs[i:end]):
                    continue
                hits.append(FootprintHit(signal, field, value, " ".join(phrase), row))
        return _corroborated(hits)


def _corroborated(hits: list[FootprintHit]) -> list[FootprintHit]:
    """Keep strong hits, and weak ones that stand beside another row of the same firm."""
    rows_by_firm: dict[str, set[str]] = {}
    for hit in hits:
        rows_by_firm.setdefault(hit.row.listed_name, set()).add(hit.row.origin)
    kept: list[FootprintHit] = []
    seen: set[tuple[str, str]] = set()
    for hit in hits:
        if hit.row.strength is Strength.WEAK and len(rows_by_firm[hit.row.listed_name]) < 2:
            continue
        key = (hit.row.origin, hit.matched)
        if key not in seen:
            seen.add(key)
            kept.append(hit)
    return kept


def _folded(name: str) -> str:
    return " ".join(tokens(name))


def resolve_listed(
    rows: Iterable[FootprintRow], parties: Iterable[Party]
) -> dict[str, list[Party]]:
    """The listed parties each row's ``listed_name`` names (by name or alias, case and
    punctuation folded), so an alert can point at the very list entries."""
    wanted = {_folded(row.listed_name): row.listed_name for row in rows}
    found: dict[str, list[Party]] = {name: [] for name in wanted.values()}
    maybe = _may_fold_to(wanted.keys())
    for party in parties:
        names = party.all_names()
        if maybe is not None and maybe("\n".join(names).replace("+", "plus").lower()) is None:
            continue  # each name misses a token of every wanted name: none can fold to one
        for name in names:
            listed = wanted.get(_folded(name))
            if listed is not None:
                found[listed].append(party)
                break
    return found


def _may_fold_to(wanted: Collection[str]) -> Callable[[str], object] | None:
    """A quick test that a name may fold to one of ``wanted`` (folded names): a token of each
    (the one fewest wanted names share, the longest of those), searched in the name with ``+``
    spelled out and lower-cased. Folding only adds spaces to that text, so each token of a
    folded name is a substring of it; a name holding none of the tokens cannot fold to any
    wanted name. None: no test (a wanted name without tokens)."""
    if any(not name.split() for name in wanted):
        return None
    shared = Counter(word for name in wanted for word in set(name.split()))
    needles = {min(name.split(), key=lambda w: (shared[w], -len(w))) for name in wanted}
    return re.compile("|".join(re.escape(n) for n in sorted(needles))).search
