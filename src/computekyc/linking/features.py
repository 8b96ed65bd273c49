"""Normalised linking features per account, with frequency caps for shared infrastructure.

A value seen on more accounts than its cap (a corporate NAT's IP, a coworking address, a
cloud-egress address, the ``info@`` local part) says nothing about who is behind an account, so it
is removed from the linking features before Splink sees them. The capped values are kept and
reported, so an analyst can see what was treated as shared infrastructure and why.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import socket
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import chain
from typing import Any

import phonenumbers
import yaml
from anyascii import anyascii

from computekyc.linking.records import ADMIN_ACTIONS, AccountRecord

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
# Role and team mailboxes ("info@", "ml@"): the same local part at two domains is no person.
ROLE_LOCAL_PARTS = frozenset(
    {
        "info", "admin", "contact", "hello", "support", "billing", "ops", "team", "sales",
        "office", "mail", "noreply", "no-reply", "it", "ml", "ai", "dev", "data", "hr", "finance",
        "accounts", "security", "abuse", "postmaster", "webmaster", "research", "infra",
        "platform", "engineering", "help", "service", "enquiries", "inquiries", "hostmaster",
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
# "+CC …" or "00CC …" written with plain separators: E.164 without a full parse (see e164).
_INTERNATIONAL = re.compile(r"^(?:\+|00)[1-9][0-9 \-./]{4,}$")
# An initialed owner name ("W. Zhang") stands for at most this many full names of the book.
OWNER_INITIAL_CANDIDATES = 3

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


_NO_TRUNK: re.Pattern[str] | None = None
_NO_TRUNK_UNKNOWN = re.compile("(?!)")  # a prefix that is no calling code: try a longer one
_ALWAYS = re.compile("")  # matches everything: leave the number to the full parse
_TRUNKS: dict[str, re.Pattern[str] | None] = {}  # calling code → trunk prefix pattern, or None


def _trunk_prefix(code: str) -> re.Pattern[str] | None:
    """The national (trunk) prefix pattern of a calling code's main region (None: it has none;
    :data:`_ALWAYS` for a calling code that does not exist)."""
    if code not in _TRUNKS:
        number = int(code)
        if number not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            _TRUNKS[code] = _ALWAYS if len(code) == 3 else _NO_TRUNK_UNKNOWN
        else:
            region = phonenumbers.region_code_for_country_code(number)
            metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
                number, region
            )
            pattern = metadata and (
                metadata.national_prefix_for_parsing or metadata.national_prefix
            )
            _TRUNKS[code] = re.compile(pattern) if pattern else _NO_TRUNK if metadata else _ALWAYS
    return _TRUNKS[code]


def _fast_e164(value: str) -> str | None:
    """E.164 of an international number without ``phonenumbers``' full parse (~100 µs each, a
    minute and more at a million accounts): "+" and the digits, when the digits after the
    calling code cannot start with a trunk prefix that the full parse would strip. None when
    only the full parse can tell."""
    if value[:1] == "+" and (digits := value[1:].replace(" ", "")).isdigit():
        pass  # "+CC NNN NNN": the usual layout, without regular expressions
    elif _INTERNATIONAL.match(value):
        digits = _NON_DIGIT.sub("", value)
        if value[0] == "0":
            digits = digits[2:]
    else:
        return None
    if len(digits) < 4 or not digits.isascii() or digits[0] == "0":
        return None
    for size in (1, 2, 3):  # calling codes are prefix-free
        trunk = _trunk_prefix(digits[:size])
        if trunk is _NO_TRUNK_UNKNOWN:
            continue
        if trunk is not None and trunk.match(digits, size):
            return None
        return "+" + digits
    return None


def e164(value: str, region: str | None = None) -> str:
    """A phone number in E.164 (``+8613800138000``), the account's country as the default
    region for numbers written without a country code; the bare digits when unparseable."""
    fast = _fast_e164(value.strip())
    return fast if fast is not None else _parsed_e164(value, region)


@lru_cache(maxsize=100_000)
def _parsed_e164(value: str, region: str | None) -> str:
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        digits = _NON_DIGIT.sub("", value)
        return digits[2:] if digits.startswith("00") else digits
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def norm_phone(value: str, region: str | None = None) -> str:
    return e164(value, region)


@lru_cache(maxsize=200_000)
def owner_key(value: str) -> str:
    """A person's name as a set of words: "Zhang Wei", "Wei Zhang" and "ZHANG Wei" are one."""
    return " ".join(sorted(norm_name(value).split()))


def resolve_initials(keys: Iterable[str]) -> dict[str, list[str]]:
    """Initialed owner keys ("w zhang") → the full owner keys of the book they can stand for
    ("wei zhang"): same full words, and one full word per initial starting with its letter.
    An initial matching more than ``OWNER_INITIAL_CANDIDATES`` full names says too little."""
    distinct = set(keys)
    by_word: dict[str, set[str]] = defaultdict(set)
    initialed: list[str] = []
    for key in distinct:
        words = key.split()
        if any(len(w) == 1 for w in words):
            if any(len(w) > 1 for w in words):
                initialed.append(key)
        elif len(words) > 1:
            for word in words:
                by_word[word].add(key)
    out: dict[str, list[str]] = {}
    for key in initialed:
        words = key.split()
        full = [w for w in words if len(w) > 1]
        letters = sorted(w for w in words if len(w) == 1)
        pools = sorted((by_word.get(w, set()) for w in full), key=len)
        candidates = set(pools[0]).intersection(*pools[1:]) if pools else set()
        found = []
        for candidate in candidates:
            rest = candidate.split()
            if len(rest) != len(words):
                continue
            for word in full:
                rest.remove(word)
            if sorted(w[0] for w in rest) == letters:
                found.append(candidate)
        if 0 < len(found) <= OWNER_INITIAL_CANDIDATES:
            out[key] = sorted(found)
    return out


@lru_cache(maxsize=1)
def shared_networks() -> dict[int, tuple[list[int], list[int]]]:
    """The networks of ``data/shared_networks.yaml`` (IPv4 special-purpose blocks, cloud and CDN
    egress) per IP version, as merged sorted integer ranges (starts, ends)."""
    text = resources.files("computekyc.linking").joinpath("data", "shared_networks.yaml")
    data = yaml.safe_load(text.read_text(encoding="utf-8"))
    ranges: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for item in [*data["special_purpose_v4"]["networks"], *data["networks"]]:
        net = ipaddress.ip_network(item["cidr"])
        ranges[net.version].append((int(net.network_address), int(net.broadcast_address)))
    out: dict[int, tuple[list[int], list[int]]] = {}
    for version, spans in ranges.items():
        merged: list[list[int]] = []
        for first, last in sorted(spans):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        out[version] = ([a for a, _ in merged], [b for _, b in merged])
    return out


def _in_ranges(value: int, version: int) -> bool:
    starts, ends = shared_networks()[version]
    i = bisect.bisect_right(starts, value) - 1
    return i >= 0 and value <= ends[i]


@lru_cache(maxsize=200_000)
def identifying_ip(value: str) -> bool:
    """An address that can identify who administers an account: public (not private, carrier
    NAT or otherwise special-purpose) and outside the known cloud/CDN egress networks."""
    try:
        # The common case, dotted IPv4, without ipaddress objects (~20x faster).
        return not _in_ranges(int.from_bytes(socket.inet_aton(value), "big"), 4)
    except OSError:
        pass
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    if ip.version == 4:  # a form inet_aton refused but ipaddress read
        return not _in_ranges(int(ip), 4)
    return ip.is_global and not _in_ranges(int(ip), 6)


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
    # Identifying IPs (public, outside cloud/NAT ranges) of administrative actions, per account.
    admin_ips: list[tuple[str, ...]] = field(default_factory=list)
    billing: list[str | None] = field(default_factory=list)  # billing_account_id per account
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
            locals_ = tuple({lp for lp, _ in split if lp and lp not in ROLE_LOCAL_PARTS})
            domains = tuple({d for _, d in split if d and d not in FREE_MAIL_DOMAINS})
        locals_col.append(locals_)
        domains_col.append(domains)
        phones, addresses, owners = record.phones, record.addresses, record.beneficial_owners
        region = record.country
        phones_col.append(
            tuple({p for p in (e164(c.value, region) for c in phones) if len(p) >= 6})
            if phones
            else ()
        )
        ips_col.append(tuple({event.ip for event in record.ip_log}) if record.ip_log else ())
        addresses_col.append(
            tuple({a for a in map(norm_text, addresses) if a}) if addresses else ()
        )
        owners_col.append(tuple({o for o in map(owner_key, owners) if o}) if owners else ())
        payments = record.payment_fingerprints
        payments_col.append(tuple(set(payments)) if payments else ())
    if any(owners_col):
        # "W. Zhang" also holds the full names of the book it can stand for ("wei zhang").
        expand = resolve_initials(chain.from_iterable(owners_col))
        if expand:
            owners_col[:] = [
                tuple(set(chain(keys, *(expand.get(k, ()) for k in keys))))
                if keys and any(k in expand for k in keys)
                else keys
                for keys in owners_col
            ]
    return columns


def admin_ips(record: AccountRecord, among: set[str]) -> tuple[str, ...]:
    """The IPs ``among`` those given (held by several accounts) of an account's administrative
    actions (whether they identify anyone: see cluster.deterministic_links)."""
    return tuple({e.ip for e in record.ip_log if e.action in ADMIN_ACTIONS and e.ip in among})


def verified_keys(record: AccountRecord) -> list[str]:
    """Identifiers the provider has verified: deterministic evidence when shared."""
    keys = [f"email:{'@'.join(split_email(c.value))}" for c in record.emails if c.verified]
    keys += [f"phone:{e164(c.value, record.country)}" for c in record.phones if c.verified]
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
    shared_ips: set[str] = set()
    for key in ARRAY_FEATURES:
        counts = Counter(chain.from_iterable(raw[key]))
        over = {v: c for v, c in counts.items() if c > limits[key]}
        if key == "ips":
            # Private, carrier-NAT and cloud/CDN egress addresses identify no one: treated as
            # shared infrastructure whatever their count (only shared ones can link anything).
            over.update(
                {v: c for v, c in counts.items() if 1 < c <= limits[key] and not identifying_ip(v)}
            )
        capped[key] = over
        # Empty → NULL, so a missing or fully capped feature carries no weight either way.
        arrays[key] = [_keep(values, over) for values in raw[key]]
        del raw[key]  # free each raw column once its capped form exists
        if key == "ips":
            # Held by several accounts and kept: the only IPs that can be shared admin IPs.
            shared_ips = {v for v, c in counts.items() if c > 1 and v not in over}
        kept_pairs = sum(c * (c - 1) // 2 for v, c in counts.items() if v not in over)
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
        admin_ips=[
            admin_ips(r, shared_ips) if values and not shared_ips.isdisjoint(values) else ()
            for r, values in zip(records, arrays["ips"], strict=True)
        ],
        billing=[r.billing_account_id for r in records],
    )
