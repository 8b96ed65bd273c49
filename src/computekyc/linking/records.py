"""Cloud account records (JSON Lines or CSV) with strict validation.

One record is one cloud account, shaped after the customer-identification fields of the BIS IaaS
NPRM (shared/docs/regulatory.md §1.2): name, address, means of payment, e-mail, telephone and the IP
addresses of each access or administrative action with its time. Every error names the file, the
line and the field. A payment fingerprint that looks like a raw card number is refused and never
stored or echoed: the product only ever holds tokenised payment fingerprints.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from sys import intern
from typing import Any

from computekyc.bulk import gc_paused
from computekyc.exc import InputError

ACCOUNT_TYPES = frozenset({"individual", "organization"})
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
_CARD_SEPARATORS = re.compile(r"[\s-]")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NON_DIGIT = re.compile(r"[^0-9]+")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# Canonical dotted IPv4 needs no rewriting; anything else goes through ipaddress.
_IPV4 = re.compile(rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$")


class AccountInputError(InputError, ValueError):
    """Bad account input: names the file, the line (1-based) and the field."""

    def __init__(self, source: str, line: int, field_name: str, message: str) -> None:
        super().__init__(f"{source}:{line}: field '{field_name}': {message}")
        self.source = source
        self.line = line
        self.field = field_name


@dataclass(frozen=True, slots=True)
class IpEvent:
    """One access or administrative action: the IP it came from, when, and what it was."""

    ip: str
    ts: str  # ISO 8601
    action: str  # login, console, api, admin, ssh, billing_update, name_change …


@dataclass(frozen=True, slots=True)
class Contact:
    """An e-mail address or phone number; ``verified`` when the provider has confirmed it."""

    value: str
    verified: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded change of an identity field (``name`` or ``beneficial_owners``)."""

    ts: str
    field: str
    old: str
    new: str


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

    def to_json(self) -> dict[str, Any]:
        """The record as plain JSON (the JSON Lines input shape)."""
        out = asdict(self)
        for key in ("emails", "phones"):
            out[key] = [c["value"] if not c["verified"] else c for c in out[key]]
        return {k: v for k, v in out.items() if v not in (None, [], ())}


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def looks_like_card_number(value: str) -> bool:
    """13–19 digits (spaces/dashes allowed) that pass the Luhn check: a primary account number."""
    digits = _CARD_SEPARATORS.sub("", value)
    return 13 <= len(digits) <= 19 and digits.isdigit() and luhn_ok(digits)


class _Checker:
    """Validates one raw record (a dict from JSON or a CSV row already split) into a record."""

    def __init__(self, source: str, line: int) -> None:
        self.source = source
        self.line = line

    def fail(self, field_name: str, message: str) -> AccountInputError:
        return AccountInputError(self.source, self.line, field_name, message)

    def text(self, raw: dict[str, Any], key: str, required: bool = False) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(key, "is required")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {type(value).__name__}")
        value = value.strip()
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
            out.append(item.strip())
        return out

    def timestamp(self, value: Any, field_name: str) -> str:
        if not isinstance(value, str):
            raise self.fail(field_name, "must be an ISO 8601 date or time string")
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(field_name, f"not an ISO 8601 date or time: {value!r}") from None
        return value

    def contacts(self, raw: dict[str, Any], key: str) -> tuple[Contact, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        out: list[Contact] = []
        for i, item in enumerate(value):
            verified = False
            if isinstance(item, dict):
                verified = bool(item.get("verified", False))
                item = item.get("value")
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", "must be a non-empty string or {value, verified}")
            item = item.strip()
            if key == "emails" and item.count("@") != 1:
                raise self.fail(f"{key}[{i}]", f"not an e-mail address: {item!r}")
            if key == "phones" and len(_NON_DIGIT.sub("", item)) < 6:
                raise self.fail(f"{key}[{i}]", f"not a phone number: {item!r}")
            out.append(Contact(item, verified))
        return tuple(out)

    def payments(self, raw: dict[str, Any]) -> tuple[str, ...]:
        values = self.strings(raw, "payment_fingerprints")
        for i, value in enumerate(values):
            if looks_like_card_number(value):
                digits = _CARD_SEPARATORS.sub("", value)
                # Never echo the number: only its length and last four digits.
                raise self.fail(
                    f"payment_fingerprints[{i}]",
                    f"looks like a raw card number ({len(digits)} digits ending …{digits[-4:]}, "
                    "passes Luhn); refused and not stored: supply the processor's token instead",
                )
        return tuple(values)

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
        out: list[IpEvent] = []
        for name, item in self.objects(raw, "ip_log", "{ip, ts, action}"):
            ip = item.get("ip")
            if not (isinstance(ip, str) and _IPV4.match(ip)):
                try:
                    ip = str(ipaddress.ip_address(str(ip).strip()))
                except ValueError:
                    raise self.fail(f"{name}.ip", f"not an IP address: {ip!r}") from None
            ts = self.timestamp(item.get("ts"), f"{name}.ts")
            action = item.get("action") or "access"
            if not isinstance(action, str):
                raise self.fail(f"{name}.action", "must be a string")
            # Interned: a few distinct actions and many repeated IPs over millions of events.
            out.append(IpEvent(intern(ip), ts, intern(action.strip().lower())))
        return tuple(out)

    def history(self, raw: dict[str, Any]) -> tuple[Change, ...]:
        out: list[Change] = []
        for name, item in self.objects(raw, "history", "{ts, field, old, new}"):
            ts = self.timestamp(item.get("ts"), f"{name}.ts")
            parts = [item.get(k) for k in ("field", "old", "new")]
            if not all(isinstance(p, str) for p in parts):
                raise self.fail(name, "field, old and new must be strings")
            out.append(Change(ts, *(str(p) for p in parts)))
        return tuple(out)

    def record(self, raw: dict[str, Any]) -> AccountRecord:
        unknown = sorted(set(raw) - set(FIELDS))
        if unknown:
            raise self.fail(unknown[0], f"unknown field (known: {', '.join(FIELDS)})")
        account_id = self.text(raw, "account_id", required=True)
        name = self.text(raw, "name", required=True)
        kind = intern((self.text(raw, "type") or "organization").lower())
        if kind not in ACCOUNT_TYPES:
            raise self.fail("type", f"must be one of {sorted(ACCOUNT_TYPES)}, got {kind!r}")
        country = self.text(raw, "country")
        if country is not None:
            country = intern(country.upper())
            if not _COUNTRY.match(country):
                raise self.fail("country", f"must be an ISO 3166-1 alpha-2 code, got {country!r}")
        created = raw.get("created_at")
        assert account_id is not None and name is not None
        return AccountRecord(
            account_id=account_id,
            name=name,
            type=kind,
            billing_account_id=self.text(raw, "billing_account_id"),
            customer_id=self.text(raw, "customer_id"),
            country=country,
            emails=self.contacts(raw, "emails"),
            phones=self.contacts(raw, "phones"),
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


def parse_record(raw: Any, source: str = "<input>", line: int = 1) -> AccountRecord:
    """Validate one raw JSON object into an :class:`AccountRecord`."""
    checker = _Checker(source, line)
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
                    raise checker.fail(f"ip_log[{i}]", f"expected ip|ts|action, got {item!r}")
                events.append(dict(zip(("ip", "ts", "action"), parts, strict=False)))
            raw[key] = events
        elif key == "history":
            changes = []
            for i, item in enumerate(_split_multi(value)):
                parts = item.split("|")
                if len(parts) != 4:
                    raise checker.fail(f"history[{i}]", f"expected ts|field|old|new: {item!r}")
                changes.append(dict(zip(("ts", "field", "old", "new"), parts, strict=True)))
            raw[key] = changes
        else:
            raw[key] = value
    return raw


def iter_accounts(path: Path) -> Iterator[AccountRecord]:
    """Stream validated records from a ``.jsonl``/``.json``, ``.csv`` or ``.parquet`` file."""
    source = str(path)
    if not path.is_file():
        raise AccountInputError(source, 0, "<file>", "no such file")
    seen: set[str] = set()

    def check_unique(record: AccountRecord, line: int) -> AccountRecord:
        if record.account_id in seen:
            raise AccountInputError(
                source, line, "account_id", f"duplicate account_id {record.account_id!r}"
            )
        seen.add(record.account_id)
        return record

    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        number = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=20_000):
            for cells in batch.to_pylist():
                number += 1  # "line" = 1-based row number in the Parquet file
                raw = {k: v for k, v in cells.items() if v is not None}
                yield check_unique(parse_record(raw, source, number), number)
        return
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                checker = _Checker(source, reader.line_num)
                record = checker.record(_csv_row_to_raw(row, checker))
                yield check_unique(record, reader.line_num)
        return
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise AccountInputError(source, number, "<json>", f"invalid JSON: {exc}") from None
            yield check_unique(parse_record(raw, source, number), number)


def load_accounts(path: Path | str) -> list[AccountRecord]:
    # Millions of acyclic records: see computekyc.bulk.gc_paused.
    with gc_paused():
        return list(iter_accounts(Path(path)))


def write_accounts_jsonl(records: Iterable[AccountRecord], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count
