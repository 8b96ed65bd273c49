"""Cloud account records (JSON Lines or CSV) with strict validation.

One record is one cloud account, shaped after the customer-identification fields of the BIS IaaS
NPRM (shared/docs/regulatory.md §1.2): name, address, means of payment, e-mail, telephone and the IP
addresses of each access or administrative action with its time. Every error names the file, the
line and the field, in one line. A card number (13–19 Luhn-valid digits, whatever the separators;
:mod:`computekyc.pii`) anywhere in a record — a payment fingerprint, a name, an address, an
e-mail, a note — is refused and never stored or echoed beyond its last four digits: the product
only ever holds the payment processor's tokenised fingerprints. A phone number is parsed as a
phone number first (``phonenumbers``), so a real phone is never mistaken for a card.
"""

from __future__ import annotations

import contextlib
import csv
import io
import ipaddress
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from sys import intern
from typing import IO, Any

import phonenumbers

from computekyc.bulk import csv_field_limit, gc_paused
from computekyc.exc import InputError
from computekyc.lists import PartyType, holder_type
from computekyc.pii import (
    first_card_number,
    has_card_number,
    mask_card_numbers,
    may_hold_card_number,
)

# The product's party-type vocabulary (computekyc.lists) as linking names the two holder kinds.
_ACCOUNT_KIND = {PartyType.ENTITY: "organization", PartyType.INDIVIDUAL: "individual"}
# Actions that administer an account (not merely use it).
ADMIN_ACTIONS = frozenset({"admin", "console", "ssh", "root", "iam", "billing_update", "create"})
CSV_FIELD_LIMIT = 128 * 1024  # characters in one CSV cell
# The csv module's own limit sits above ours, so that ours is the one hit and names the column.
_CSV_PARSER_LIMIT = 16 * 1024 * 1024
_SHOWN = 60  # characters of a bad value echoed in an error
LIST_FIELDS = ("emails", "phones", "addresses", "payment_fingerprints", "beneficial_owners")
FIELDS = (
    "account_id",
    "billing_account_id",
    "customer_id",
    "name",
    "type",
    "country",
    "emails",
    "phones",
    "addresses",
    "payment_fingerprints",
    "ip_log",
    "beneficial_owners",
    "declared_use",
    "created_at",
    "history",
)
_KNOWN_FIELDS = frozenset(FIELDS)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NON_DIGIT = re.compile(r"[^0-9]+")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# Canonical dotted IPv4 needs no rewriting; anything else goes through ipaddress.
_IPV4 = re.compile(rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$")


class AccountInputError(InputError, ValueError):
    """Bad account input: names the file, the line (1-based) and the field."""

    def __init__(self, source: str, line: int, field_name: str, message: str) -> None:
        # Masked here, once, so that no path can echo a card number in an error; one line, even
        # when a library's own message (Arrow, csv) spans several.
        text = f"{source}:{line}: field '{field_name}': {message}"
        super().__init__(mask_card_numbers(" ".join(text.split())))
        self.source = source
        self.line = line
        self.field = field_name


@dataclass(frozen=True, slots=True)
class IpEvent:
    """One access or administrative action: the IP it came from, when, and what it was."""

    ip: str
    ts: str  # ISO 8601
    action: str  # login, console, api, admin, ssh, billing_update, name_change …

    def __reduce__(self) -> tuple[Any, ...]:
        return (IpEvent, (self.ip, self.ts, self.action))  # see AccountRecord.__reduce__


@dataclass(frozen=True, slots=True)
class Contact:
    """An e-mail address or phone number; ``verified`` when the provider has confirmed it."""

    value: str
    verified: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (Contact, (self.value, self.verified))  # see AccountRecord.__reduce__


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded change of an identity field (``name`` or ``beneficial_owners``)."""

    ts: str
    field: str
    old: str
    new: str

    def __reduce__(self) -> tuple[Any, ...]:
        return (Change, (self.ts, self.field, self.old, self.new))  # see AccountRecord.__reduce__


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account_id: str
    name: str
    type: str = "organization"
    billing_account_id: str | None = None
    customer_id: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2, as declared by the customer
    emails: tuple[Contact, ...] = ()
    phones: tuple[Contact, ...] = ()
    addresses: tuple[str, ...] = ()
    payment_fingerprints: tuple[str, ...] = ()  # tokenised, never a raw card number
    ip_log: tuple[IpEvent, ...] = ()
    beneficial_owners: tuple[str, ...] = ()
    declared_use: str | None = None
    created_at: str | None = None  # ISO 8601
    history: tuple[Change, ...] = field(default=())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as the constructor's arguments: a frozen dataclass's own pickling looks its
        # fields up per object, which made keeping a large book's reading cost seconds.
        return (AccountRecord, _record_values(self))

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON (the JSON Lines input shape): what ``dataclasses.asdict``
        gives, written out (asdict deep-copies every value generically, which made storing a
        large book's accounts cost seconds), with an unverified contact as its bare value and
        empty fields left out."""
        out: dict[str, Any] = {}
        for name, value in zip(_FIELD_NAMES, _record_values(self), strict=True):
            if name in _CONTACT_FIELDS:
                value = [c.value if not c.verified else {"value": c.value, "verified": True}
                         for c in value]  # fmt: skip
            elif name == "ip_log":
                value = tuple({"ip": e.ip, "ts": e.ts, "action": e.action} for e in value)
            elif name == "history":
                value = tuple(
                    {"ts": c.ts, "field": c.field, "old": c.old, "new": c.new} for c in value
                )
            if value is not None and value != [] and value != ():
                out[name] = value
        return out


_FIELD_NAMES = tuple(f.name for f in fields(AccountRecord))
_record_values = attrgetter(*_FIELD_NAMES)
_CONTACT_FIELDS = ("emails", "phones")


@lru_cache(maxsize=256)
def account_type(word: str) -> str:
    """``organization`` or ``individual`` for any party-type word the product accepts
    (``company``, ``legal_entity``, ``person``, FtM schema names such as ``LegalEntity``…);
    an :class:`InputError` for another word or a vessel or aircraft."""
    return _ACCOUNT_KIND[holder_type(word)]


def shown(value: object) -> str:
    """A bad value as an error echoes it: short, and with any card number masked."""
    text = repr(value)
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 1] + "…"
    return mask_card_numbers(text)


def is_phone_number(value: str, country: str | None) -> bool:
    """A number ``phonenumbers`` reads as a possible phone number (the account's country as the
    default region for numbers written without a country code)."""
    try:
        parsed = phonenumbers.parse(value, country or "US")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(parsed))


class _Checker:
    """Validates one raw record (a dict from JSON or a CSV row already split) into a record."""

    def __init__(self, source: str, line: int, card_free: bool = False) -> None:
        self.source = source
        self.line = line
        # The whole input line was seen to hold no card-like digits: skip the per-field check.
        self.card_free = card_free

    def fail(self, field_name: str, message: str) -> AccountInputError:
        return AccountInputError(self.source, self.line, field_name, message)

    def no_card(self, value: str, field_name: str) -> str:
        """``value`` unless it holds a card number; refused then, naming only its last four.
        (Callers skip it when ``card_free``: millions of calls per load.)"""
        match = first_card_number(value)
        if match is not None:
            raise self.fail(
                field_name,
                f"holds a card number ({match.describe()}, passes Luhn); refused and not "
                "stored: payment means are only accepted as the processor's token",
            )
        return value

    def text(self, raw: dict[str, Any], key: str, required: bool = False) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {type(value).__name__}")
        value = value.strip()
        if not self.card_free:
            self.no_card(value, key)
        if required and not value:
            raise self.fail(key, "is required")
        return value or None

    def strings(self, raw: dict[str, Any], key: str) -> list[str]:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, dict) and key in ("addresses", "beneficial_owners"):
                # Structured addresses/owners carry their text under "text"/"name".
                item = item.get("text") or item.get("name")
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", "must be a non-empty string")
            item = item.strip()
            if not self.card_free:
                self.no_card(item, f"{key}[{i}]")
            out.append(item)
        return out

    def timestamp(self, value: Any, field_name: str) -> str:
        if not isinstance(value, str):
            raise self.fail(field_name, "must be an ISO 8601 date or time string")
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(field_name, f"not an ISO 8601 date or time: {shown(value)}") from None
        return value

    def contacts(
        self, raw: dict[str, Any], key: str, country: str | None = None
    ) -> tuple[Contact, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        out: list[Contact] = []
        for i, item in enumerate(value):
            verified: Any = False
            if isinstance(item, dict):
                verified = item.get("verified", False)
                if not isinstance(verified, bool):
                    raise self.fail(f"{key}[{i}].verified", "must be true or false")
                item = item.get("value")
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", "must be a non-empty string or {value, verified}")
            item = item.strip()
            if key == "phones":
                if len(_NON_DIGIT.sub("", item)) < 6:
                    raise self.fail(f"{key}[{i}]", f"not a phone number: {shown(item)}")
                # A phone number first: what holds card-like digits is refused only when it
                # cannot be read as a phone (parsing is slow, so it is only done for those).
                if (
                    not self.card_free
                    and has_card_number(item)
                    and not is_phone_number(item, country)
                ):
                    self.no_card(item, f"{key}[{i}]")
            else:
                if not self.card_free:
                    self.no_card(item, f"{key}[{i}]")
                if item.count("@") != 1:
                    raise self.fail(f"{key}[{i}]", f"not an e-mail address: {shown(item)}")
            out.append(Contact(item, verified))
        return tuple(out)

    def payments(self, raw: dict[str, Any]) -> tuple[str, ...]:
        # strings() refuses a card number in any form: spaced, dotted, inside a token.
        return tuple(self.strings(raw, "payment_fingerprints"))

    def objects(
        self, raw: dict[str, Any], key: str, shape: str
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(``key[i]``, item) for a list of JSON objects, each checked to be an object."""
        value = raw.get(key)
        if value is None:
            return
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of {shape}")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", f"must be an object {shape}")
            yield f"{key}[{i}]", item

    def ip_log(self, raw: dict[str, Any]) -> tuple[IpEvent, ...]:
        if raw.get("ip_log") is None:
            return ()
        out: list[IpEvent] = []
        for name, item in self.objects(raw, "ip_log", "{ip, ts, action}"):
            ip = item.get("ip")
            if not (isinstance(ip, str) and _IPV4.match(ip)):
                try:
                    ip = str(ipaddress.ip_address(str(ip).strip()))
                except ValueError:
                    raise self.fail(f"{name}.ip", f"not an IP address: {shown(ip)}") from None
            ts = self.timestamp(item.get("ts"), f"{name}.ts")
            action = item.get("action") or "access"
            if not isinstance(action, str):
                raise self.fail(f"{name}.action", "must be a string")
            if not self.card_free:
                self.no_card(action, f"{name}.action")
            # Interned: a few distinct actions and many repeated IPs over millions of events.
            out.append(IpEvent(intern(ip), ts, intern(action.strip().lower())))
        return tuple(out)

    def history(self, raw: dict[str, Any]) -> tuple[Change, ...]:
        if raw.get("history") is None:
            return ()
        out: list[Change] = []
        for name, item in self.objects(raw, "history", "{ts, field, old, new}"):
            ts = self.timestamp(item.get("ts"), f"{name}.ts")
            parts = [item.get(k) for k in ("field", "old", "new")]
            if not all(isinstance(p, str) for p in parts):
                raise self.fail(name, "field, old and new must be strings")
            if not self.card_free:
                for key, part in zip(("field", "old", "new"), parts, strict=True):
                    self.no_card(str(part), f"{name}.{key}")
            out.append(Change(ts, *(str(p) for p in parts)))
        return tuple(out)

    def record(self, raw: dict[str, Any]) -> AccountRecord:
        if raw.keys() - _KNOWN_FIELDS:
            unknown = sorted(str(key) for key in set(raw) - _KNOWN_FIELDS)
            raise self.fail(shown(unknown[0])[1:-1], f"unknown field (known: {', '.join(FIELDS)})")
        account_id = self.text(raw, "account_id", required=True)
        name = self.text(raw, "name", required=True)
        given = self.text(raw, "type") or "organization"
        try:
            kind = account_type(given)
        except InputError as error:
            raise self.fail("type", error.message) from None
        country = self.text(raw, "country")
        if country is not None:
            country = intern(country.upper())
            if not _COUNTRY.match(country):
                raise self.fail(
                    "country", f"must be an ISO 3166-1 alpha-2 code, got {shown(country)}"
                )
        created = raw.get("created_at")
        assert account_id is not None and name is not None
        return AccountRecord(
            account_id=account_id,
            name=name,
            type=intern(kind),
            billing_account_id=self.text(raw, "billing_account_id"),
            customer_id=self.text(raw, "customer_id"),
            country=country,
            emails=self.contacts(raw, "emails"),
            phones=self.contacts(raw, "phones", country),
            addresses=tuple(self.strings(raw, "addresses")),
            payment_fingerprints=self.payments(raw),
            ip_log=self.ip_log(raw),
            beneficial_owners=tuple(self.strings(raw, "beneficial_owners")),
            declared_use=_interned(self.text(raw, "declared_use")),
            created_at=None if created in (None, "") else self.timestamp(created, "created_at"),
            history=self.history(raw),
        )


def _interned(value: str | None) -> str | None:
    # A handful of distinct declared uses repeat over millions of accounts: one copy each.
    return None if value is None else intern(value)


def parse_record(
    raw: Any, source: str = "<input>", line: int = 1, card_free: bool = False
) -> AccountRecord:
    """Validate one raw JSON object into an :class:`AccountRecord` (``card_free``: its source
    text was checked whole by :func:`line_is_card_free`)."""
    checker = _Checker(source, line, card_free)
    if not isinstance(raw, dict):
        raise checker.fail("<record>", "each line must be a JSON object")
    return checker.record(raw)


def _split_multi(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _csv_row_to_raw(row: dict[str, str | None], checker: _Checker) -> dict[str, Any]:
    """CSV cells → the JSON shape: `;` separates multi-values, `ip|ts|action` for ip_log,
    `ts|field|old|new` for history; a contact prefixed `verified:` is a verified one."""
    raw: dict[str, Any] = {}
    for key, cell in row.items():
        if key is None:
            raise checker.fail("<row>", "more cells than header columns")
        value = (cell or "").strip()
        if not value:
            continue
        if len(value) > CSV_FIELD_LIMIT:
            raise checker.fail(key, f"cell longer than {CSV_FIELD_LIMIT:,} characters")
        if key in ("emails", "phones"):
            raw[key] = [
                {"value": v.removeprefix("verified:"), "verified": v.startswith("verified:")}
                for v in _split_multi(value)
            ]
        elif key in LIST_FIELDS:
            raw[key] = _split_multi(value)
        elif key == "ip_log":
            events = []
            for i, item in enumerate(_split_multi(value)):
                parts = item.split("|")
                if len(parts) not in (2, 3):
                    raise checker.fail(f"ip_log[{i}]", f"expected ip|ts|action, got {shown(item)}")
                events.append(dict(zip(("ip", "ts", "action"), parts, strict=False)))
            raw[key] = events
        elif key == "history":
            changes = []
            for i, item in enumerate(_split_multi(value)):
                parts = item.split("|")
                if len(parts) != 4:
                    raise checker.fail(f"history[{i}]", f"expected ts|field|old|new: {shown(item)}")
                changes.append(dict(zip(("ts", "field", "old", "new"), parts, strict=True)))
            raw[key] = changes
        else:
            raw[key] = value
    return raw


def _text_lines(binary: IO[bytes], source: str) -> Iterator[str]:
    """Decoded lines of a UTF-8 input (a leading byte-order mark skipped); a byte sequence that
    is not UTF-8 is an error naming its line."""
    for number, raw in enumerate(binary, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AccountInputError(
                source, number, "<encoding>", f"not UTF-8 (byte {exc.start + 1} of the line)"
            ) from None


def line_is_card_free(text: str) -> bool:
    """No field of this input line can hold a card number: none of its text has 13 digits in a
    row. A JSON \\u escape could spell digits, so a line holding one is checked field by field."""
    return "\\u" not in text and not may_hold_card_number(text)


def _sniff(binary: io.BufferedReader) -> str:
    """The format of an input without a telling suffix (stdin): parquet, jsonl or csv."""
    head = binary.peek(4096)[:4096]
    if head.startswith(b"PAR1"):
        return ".parquet"
    return ".jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else ".csv"


def _parquet_rows(source: str, handle: IO[bytes]) -> Iterator[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(handle).iter_batches(batch_size=20_000):
            yield from batch.to_pylist()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise AccountInputError(source, 0, "<parquet>", f"unreadable Parquet: {exc}") from None


def _records(source: str, suffix: str, handle: IO[bytes]) -> Iterator[tuple[int, AccountRecord]]:
    """(line, record) from an open binary input of the given format."""
    if suffix == ".parquet":
        # "line" = the 1-based row number in the Parquet file.
        for number, cells in enumerate(_parquet_rows(source, handle), start=1):
            raw = {k: v for k, v in cells.items() if v is not None}
            yield number, parse_record(raw, source, number)
        return
    lines = _text_lines(handle, source)
    if suffix == ".csv":
        reader = csv.DictReader(lines)
        try:
            with csv_field_limit(_CSV_PARSER_LIMIT):
                for row in reader:
                    card_free = line_is_card_free("\x00".join(map(str, row.values())))
                    checker = _Checker(source, reader.line_num, card_free)
                    yield reader.line_num, checker.record(_csv_row_to_raw(row, checker))
        except csv.Error as exc:
            raise AccountInputError(source, reader.line_num + 1, "<csv>", str(exc)) from None
        return
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AccountInputError(source, number, "<json>", f"invalid JSON: {exc}") from None
        except RecursionError:
            raise AccountInputError(source, number, "<json>", "JSON nested too deeply") from None
        yield number, parse_record(raw, source, number, line_is_card_free(text))


def iter_accounts(path: Path | str) -> Iterator[AccountRecord]:
    """Stream validated records from a ``.jsonl``/``.json``, ``.csv`` or ``.parquet`` file, or
    from standard input when ``path`` is ``-`` (the format told by its first bytes)."""
    source = str(path)
    seen: set[str] = set()
    with contextlib.ExitStack() as stack:
        if source == "-":
            source = "<stdin>"
            stdin: Any = sys.stdin.buffer
            # A pipe is buffered already; a test runner's in-memory stdin is wrapped to peek.
            buffered = stdin if isinstance(stdin, io.BufferedReader) else io.BufferedReader(stdin)
            handle: IO[bytes] = buffered
            suffix = _sniff(buffered)
            if suffix == ".parquet":  # Parquet needs to seek: read it whole
                handle = io.BytesIO(handle.read())
        else:
            path = Path(path)
            if not path.is_file():
                raise AccountInputError(source, 0, "<file>", "no such file")
            buffered = stack.enter_context(path.open("rb"))
            handle = buffered
            suffix = path.suffix.lower()
            if suffix not in (".parquet", ".csv", ".jsonl", ".json", ".ndjson"):
                suffix = _sniff(buffered)
        for line, record in _records(source, suffix, handle):
            if record.account_id in seen:
                raise AccountInputError(
                    source, line, "account_id", f"duplicate account_id {shown(record.account_id)}"
                )
            seen.add(record.account_id)
            yield record


def load_accounts(path: Path | str) -> list[AccountRecord]:
    """Every record of a file (or ``-``: standard input), validated."""
    # Millions of acyclic records: see computekyc.bulk.gc_paused.
    with gc_paused():
        return list(iter_accounts(path))


def write_accounts_jsonl(records: Iterable[AccountRecord], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count
