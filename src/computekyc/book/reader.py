"""A provider folder: ``customers.jsonl|csv``, ``accounts.jsonl|csv|parquet`` and ``usage/``.

Customers follow the ``determine`` schema (id, name, other_names in any script, type, country,
headquarters_country, identifiers, addresses, owners nested with share and an optional
relation, directors); accounts the linking schema with ``customer_id``. Every record gets a
content hash, so an import knows which records are new, changed or gone. A bad record is an
:class:`~computekyc.exc.InputError` naming file, line and field, and nothing is imported.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from computekyc.alerts import canonical_json
from computekyc.bulk import gc_paused
from computekyc.exc import InputError
from computekyc.linking import AccountRecord, load_accounts
from computekyc.ownership import Customer, holder_kind, parse_customer

CUSTOMER_FILES = ("customers.jsonl", "customers.csv")
ACCOUNT_FILES = ("accounts.jsonl", "accounts.csv", "accounts.parquet")
USAGE_DIR = "usage"
# CSV cells that hold JSON (nested owners, identifier maps) or `;`-separated lists.
_CSV_JSON = ("owners", "identifiers", "directors")
_CSV_LISTS = ("other_names", "addresses")


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@dataclass(slots=True)
class BookCustomer:
    customer: Customer
    other_names: list[str]
    content_hash: str
    web: list[str] = field(default_factory=list)  # e-mail addresses, websites, domains

    @property
    def id(self) -> str:
        return self.customer.id


@dataclass(slots=True)
class BookAccount:
    record: AccountRecord
    content_hash: str

    @property
    def id(self) -> str:
        return self.record.account_id


@dataclass(slots=True)
class Book:
    """One reading of a provider folder."""

    provider: str
    folder: Path
    customers: list[BookCustomer]
    accounts: list[BookAccount]
    usage_files: list[Path] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        rows = [("c", c.id, c.content_hash) for c in self.customers]
        rows += [("a", a.id, a.content_hash) for a in self.accounts]
        for kind, record_id, record_hash in sorted(rows):
            digest.update(f"{kind}\t{record_id}\t{record_hash}\n".encode())
        return digest.hexdigest()


def _one(folder: Path, names: tuple[str, ...], what: str, required: bool) -> Path | None:
    found = [folder / n for n in names if (folder / n).is_file()]
    if len(found) > 1:
        raise InputError(
            f"several {what} files ({', '.join(p.name for p in found)}): keep one", file=folder
        )
    if not found and required:
        raise InputError(f"no {what} file (expected one of {', '.join(names)})", file=folder)
    return found[0] if found else None


def _normalise_types(data: dict[str, Any], path: str) -> None:
    """Map party-type words in a record and its owners to entity/individual, in place."""
    kind = data.get("type")
    if kind is not None:
        try:
            data["type"] = holder_kind(kind)
        except InputError as exc:
            raise ValueError(f"{path}type", exc.message) from None
    owners = data.get("owners")
    if isinstance(owners, list):
        for i, owner in enumerate(owners):
            if isinstance(owner, dict):
                _normalise_types(owner, f"{path}owners[{i}].")


def _other_names(data: dict[str, Any]) -> list[str]:
    raw = data.get("other_names", data.get("aliases")) or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise ValueError("other_names", "expected a list of names")
    return [n.strip() for n in raw if n.strip()]


WEB_FIELDS = ("emails", "email", "website", "websites", "domain", "domains")


def _web(data: dict[str, Any]) -> list[str]:
    """The customer's e-mail addresses, websites and domains (strings or lists of strings)."""
    found: list[str] = []
    for key in WEB_FIELDS:
        raw = data.get(key)
        values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        for value in values:
            text = value.get("value") if isinstance(value, dict) else value
            if not isinstance(text, str):
                raise ValueError(key, "expected text or a list of texts")
            if text.strip():
                found.append(text.strip())
    return found


def parse_book_customer(data: Any, file: Path, line: int) -> BookCustomer:
    if not isinstance(data, dict):
        raise InputError("expected a JSON object per customer", file=file, line=line)
    try:
        _normalise_types(data, "")
        other = _other_names(data)
        web = _web(data)
    except ValueError as exc:
        where, message = exc.args
        raise InputError(message, file=file, line=line, field=where) from None
    try:
        customer = parse_customer(data)
    except InputError as exc:
        raise InputError(exc.message, file=file, line=line, field=exc.field) from None
    customer.line, customer.source_file = line, str(file)
    return BookCustomer(customer, other, content_hash(data), web)


def _csv_record(row: dict[str, str | None], file: Path, line: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, cell in row.items():
        if key is None:
            raise InputError("more cells than header columns", file=file, line=line)
        value = (cell or "").strip()
        if not value:
            continue
        if key in _CSV_JSON:
            try:
                data[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"invalid JSON: {exc.msg}", file=file, line=line, field=key
                ) from None
        elif key in _CSV_LISTS:
            data[key] = [v.strip() for v in value.split(";") if v.strip()]
        else:
            data[key] = value
    return data


def _customer_rows(path: Path) -> Iterator[tuple[int, Any]]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            try:
                if "id" not in (reader.fieldnames or []) or "name" not in (reader.fieldnames or []):
                    raise InputError("header needs id and name columns", file=path, line=1)
                for row in reader:
                    yield reader.line_num, _csv_record(row, path, reader.line_num)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})",
                    file=path,
                    line=reader.line_num + 1,
                ) from None
            except csv.Error as exc:
                raise InputError(
                    f"not readable as CSV: {exc}", file=path, line=reader.line_num
                ) from None
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                    file=path,
                    line=number,
                ) from None
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg}", file=path, line=number) from None
            except RecursionError:
                raise InputError("nested too deeply to read", file=path, line=number) from None


def read_customers(path: Path) -> list[BookCustomer]:
    out: list[BookCustomer] = []
    seen: set[str] = set()
    for line, data in _customer_rows(path):
        customer = parse_book_customer(data, path, line)
        if customer.id in seen:
            raise InputError(
                f"duplicate customer id {customer.id!r}", file=path, line=line, field="id"
            )
        seen.add(customer.id)
        out.append(customer)
    return out


def _account_hash(record: AccountRecord) -> str:
    # The frozen record's repr lists every field in order (tuples of strings and small frozen
    # dataclasses): a faithful content key, far cheaper than dataclasses.asdict per account.
    return hashlib.sha256(repr(record).encode("utf-8")).hexdigest()


def usage_files(folder: Path) -> list[Path]:
    usage = folder / USAGE_DIR
    if not usage.is_dir():
        return []
    return sorted(p for p in usage.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))


def book_files(folder: Path) -> list[Path]:
    """The folder's customers file and its accounts file when there is one (checked as
    :func:`read_book` checks them)."""
    if not folder.is_dir():
        raise InputError("not a folder", file=folder)
    customers = _one(folder, CUSTOMER_FILES, "customers", required=True)
    accounts = _one(folder, ACCOUNT_FILES, "accounts", required=False)
    return [p for p in (customers, accounts) if p is not None]


def provider_name(folder: Path, provider: str | None = None) -> str:
    return provider or folder.resolve().name


def read_book(folder: Path, provider: str | None = None) -> Book:
    """Read and check a provider folder; raises InputError (file, line, field) on bad input."""
    if not folder.is_dir():
        raise InputError("not a folder", file=folder)
    customers_path = _one(folder, CUSTOMER_FILES, "customers", required=True)
    accounts_path = _one(folder, ACCOUNT_FILES, "accounts", required=False)
    assert customers_path is not None
    # Hundreds of thousands of acyclic records: see computekyc.bulk.gc_paused.
    with gc_paused():
        customers = read_customers(customers_path)
        accounts = (
            [BookAccount(r, _account_hash(r)) for r in load_accounts(accounts_path)]
            if accounts_path is not None
            else []
        )
    known = {c.id for c in customers}
    for number, account in enumerate(accounts, start=1):
        owner = account.record.customer_id
        if owner is not None and owner not in known:
            raise InputError(
                f"customer {owner!r} is not in {customers_path.name}",
                file=accounts_path,
                line=number,
                field="customer_id",
            )
    return Book(
        provider=provider_name(folder, provider),
        folder=folder,
        customers=customers,
        accounts=accounts,
        usage_files=usage_files(folder),
    )
