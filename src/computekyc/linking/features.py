"""Normalised linking features per account, with frequency caps for shared infrastructure.

A value seen on more accounts than its cap (a corporate NAT's IP, a coworking address, a
cloud-egress address, the ``info@`` local part) says nothing about who is behind an account, so it
is removed from the linking features before Splink sees them. The capped values are kept and
reported, so an analyst can see what was treated as shared infrastructure and why.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import Any

from anyascii import anyascii

from computekyc.linking.records import AccountRecord

# Free-mail and mass-market mailbox domains: a shared one says nothing about identity.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.jp", "ymail.com", "hotmail.com",
        "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.com", "gmx.de", "web.de", "mail.ru", "yandex.ru", "yandex.com",
        "qq.com", "foxmail.com", "163.com", "126.com", "sina.com", "sohu.com", "yeah.net",
        "aliyun.com", "naver.com", "daum.net", "rediffmail.com", "zoho.com", "tutanota.com",
    }
)  # fmt: skip
# Legal-form and filler words: "Dragon AI Pte. Ltd." and "Dragon AI Limited" are one name.
LEGAL_WORDS = frozenset(
    {
        "co", "company", "ltd", "limited", "inc", "incorporated", "llc", "llp", "lp", "corp",
        "corporation", "plc", "pte", "pty", "sdn", "bhd", "berhad", "gmbh", "ag", "sa", "sas",
        "srl", "bv", "nv", "oy", "ab", "as", "kk", "jsc", "pjsc", "ooo", "the", "and", "of",
    }
)  # fmt: skip
_NON_WORD = re.compile(r"[^a-z0-9]+")
_NON_DIGIT = re.compile(r"[^0-9]+")

# Default caps: how many accounts may share a value before it counts as shared infrastructure.
DEFAULT_CAPS: dict[str, int] = {
    "ips": 8,
    "addresses": 8,
    "phones": 8,
    "email_locals": 8,
    "corp_domains": 25,
    "owners": 12,
    "payments": 12,
    "name_block": 40,
}
ARRAY_FEATURES = (
    "email_locals",
    "corp_domains",
    "phones",
    "ips",
    "addresses",
    "owners",
    "payments",
)


@lru_cache(maxsize=200_000)
def norm_text(value: str) -> str:
    """Latin, lower-case, punctuation-free words (cross-script names become comparable)."""
    # Most values are ASCII already: skip the (slow) folding for them.
    folded = (
        value.lower() if value.isascii() else anyascii(unicodedata.normalize("NFKC", value)).lower()
    )
    return " ".join(_NON_WORD.sub(" ", folded).split())


@lru_cache(maxsize=200_000)
def norm_name(value: str) -> str:
    """A name without legal-form words; falls back to the full text if nothing else is left."""
    words = norm_text(value).split()
    kept = [w for w in words if w not in LEGAL_WORDS]
    return " ".join(kept or words)


def split_email(value: str) -> tuple[str, str]:
    """(local, domain): ``+tags`` dropped; dots dropped for Gmail, which ignores them."""
    local, _, domain = value.strip().lower().rpartition("@")
    domain = domain.strip(".")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        domain = "gmail.com"
    return local, domain


def norm_phone(value: str) -> str:
    digits = _NON_DIGIT.sub("", value)
    return digits[2:] if digits.startswith("00") else digits


@dataclass(slots=True)
class Features:
    """Column-oriented features of all accounts (index i = ``records[i]``)."""

    account_ids: list[str]
    name_norm: list[str]
    name_block: list[str | None]
    country: list[str | None]
    arrays: dict[str, list[list[str] | None]]
    capped: dict[str, dict[str, int]] = field(default_factory=dict)  # feature → value → accounts
    verified: list[list[str]] = field(default_factory=list)  # verified e-mails/phones, customer_id
    # Per array feature: (pairs of accounts sharing a kept value, accounts with a non-null value);
    # the exact frequency of "shares ≥ 1 value" that random sampling is too coarse to see.
    sharing: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The Arrow form Splink reads, built once per run and shared by training and prediction.
    arrow: Any = None

    def columns(self) -> dict[str, Sequence[object]]:
        # The lists themselves, not copies: Arrow only reads them.
        out: dict[str, Sequence[object]] = {
            "account_id": self.account_ids,
            "name_norm": self.name_norm,
            "name_block": self.name_block,
            "country": self.country,
        }
        out.update(self.arrays)
        return out


def _raw_columns(records: Sequence[AccountRecord]) -> dict[str, list[tuple[str, ...]]]:
    """Per array feature, the distinct normalised values of each account. Built column by
    column, as tuples: a dict and seven sets per account (a set is 216 bytes even with one
    value) made this the memory peak at a million accounts."""
    columns: dict[str, list[tuple[str, ...]]] = {key: [] for key in ARRAY_FEATURES}
    locals_col, domains_col = columns["email_locals"], columns["corp_domains"]
    phones_col, ips_col, addresses_col = columns["phones"], columns["ips"], columns["addresses"]
    owners_col, payments_col = columns["owners"], columns["payments"]
    for record in records:
        locals_: tuple[str, ...] = ()
        domains: tuple[str, ...] = ()
        if record.emails:
            split = [split_email(contact.value) for contact in record.emails]
            locals_ = tuple({local for local, _ in split if local})
            domains = tuple({d for _, d in split if d and d not in FREE_MAIL_DOMAINS})
        locals_col.append(locals_)
        domains_col.append(domains)
        phones, addresses, owners = record.phones, record.addresses, record.beneficial_owners
        phones_col.append(
            tuple({p for p in map(norm_phone, (c.value for c in phones)) if len(p) >= 6})
            if phones
            else ()
        )
        ips_col.append(tuple({event.ip for event in record.ip_log}) if record.ip_log else ())
        addresses_col.append(
            tuple({a for a in map(norm_text, addresses) if a}) if addresses else ()
        )
        owners_col.append(tuple({o for o in map(norm_name, owners) if o}) if owners else ())
        payments = record.payment_fingerprints
        payments_col.append(tuple(set(payments)) if payments else ())
    return columns


def verified_keys(record: AccountRecord) -> list[str]:
    """Identifiers the provider has verified: deterministic evidence when shared."""
    keys = [f"email:{'@'.join(split_email(c.value))}" for c in record.emails if c.verified]
    keys += [f"phone:{norm_phone(c.value)}" for c in record.phones if c.verified]
    if record.customer_id:
        keys.append(f"customer_id:{record.customer_id}")
    return keys


def _keep(values: tuple[str, ...], over: dict[str, int]) -> list[str] | None:
    """The sorted values that are not capped, or None. Runs ~7 million times at a million
    accounts: empty rows and rows without a capped value (nearly all) take the short paths;
    ``isdisjoint`` walks the smaller side, never every capped value."""
    if not values:
        return None
    if over.keys().isdisjoint(values):
        return sorted(values)
    return sorted(v for v in values if v not in over) or None


def build_features(
    records: Sequence[AccountRecord], caps: dict[str, int] | None = None
) -> Features:
    """Normalise every account and drop values shared by more accounts than their cap."""
    limits = {**DEFAULT_CAPS, **(caps or {})}
    raw = _raw_columns(records)
    names = [norm_name(r.name) for r in records]
    capped: dict[str, dict[str, int]] = {}
    arrays: dict[str, list[list[str] | None]] = {}
    sharing: dict[str, tuple[int, int]] = {}
    for key in ARRAY_FEATURES:
        counts = Counter(chain.from_iterable(raw[key]))
        over = {v: c for v, c in counts.items() if c > limits[key]}
        capped[key] = over
        # Empty → NULL, so a missing or fully capped feature carries no weight either way.
        arrays[key] = [_keep(values, over) for values in raw[key]]
        del raw[key]  # free each raw column once its capped form exists
        kept_pairs = sum(c * (c - 1) // 2 for c in counts.values() if c <= limits[key])
        sharing[key] = (kept_pairs, sum(1 for values in arrays[key] if values))
    name_counts = Counter(names)
    capped["name_block"] = {n: c for n, c in name_counts.items() if c > limits["name_block"]}
    return Features(
        account_ids=[r.account_id for r in records],
        name_norm=names,
        name_block=[n if name_counts[n] <= limits["name_block"] else None for n in names],
        country=[r.country for r in records],
        arrays=arrays,
        capped=capped,
        verified=[verified_keys(r) for r in records],
        sharing=sharing,
    )
