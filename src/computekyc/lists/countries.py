"""Country names → ISO 3166-1 alpha-2, offline.

The table (``data/countries.tsv``) was generated once from Debian's iso-codes and extended by
hand with the spellings the official lists actually use ("Korea, North", "Burma", "Palestinian",
"Region: Crimea"…). No network, no runtime dependency.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

_TABLE = Path(__file__).with_name("data") / "countries.tsv"
# Historic/user-assigned codes OFAC and the UN still print (Kosovo, Yugoslavia, USSR, Antilles).
_EXTRA_CODES = {"XK", "YU", "SU", "AN"}


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("’", "'").replace("&", " and ")
    text = re.sub(r"[^a-z0-9']+", " ", text)
    return re.sub(r"^the ", "", text.strip())


@cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    by_name: dict[str, str] = {}
    names: dict[str, str] = {}
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, *spellings = line.split("\t")
        names.setdefault(code, spellings[0])
        for spelling in spellings:
            by_name[_key(spelling)] = code
    return by_name, names


def country_code(text: str | None) -> str | None:
    """ISO alpha-2 for a country name or code as the lists print it; None when unknown."""
    if not text:
        return None
    return _country_code(text)


@lru_cache(maxsize=1 << 14)  # the lists print a few hundred spellings, over and over
def _country_code(text: str) -> str | None:
    raw = text.strip().strip(".")
    if not raw or raw in {"-0-", "undetermined"}:
        return None
    by_name, names = _tables()
    if len(raw) == 2 and raw.isalpha():
        code = raw.upper()
        return code if code in names or code in _EXTRA_CODES else None
    return by_name.get(_key(raw))


def country_name(code: str | None) -> str | None:
    if not code:
        return None
    return _tables()[1].get(code.upper())
