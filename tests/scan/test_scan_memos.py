"""The quick forms of what a scan keeps read exactly as the plain ones: the book reading, the
usage facts, the kept determinations, and the screening register's rows."""

from __future__ import annotations

import gzip
import json
import pickle
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any

import pytest

from computekyc.audit import Actor
from computekyc.book import Book, book_files, provider_name, read_book, usage_files
from computekyc.bulk import Prepickled, read_cache
from computekyc.exc import ConflictError
from computekyc.lists.model import Party
from computekyc.ownership import Determination, load_rules
from computekyc.ownership.model import Status
from computekyc.services import run_scan, scanmemo
from computekyc.services.alerting import account_roles, customer_queries, customer_roles
from computekyc.services.determination import (
    CustomerDetermination,
    holder_queries,
    tree_reach,
)
from computekyc.services.namekeys import NameKeysCache
from computekyc.services.reports import _role_rows, register_entries, screening_report
from computekyc.services.scan import account_queries
from computekyc.services.screening import NameQuery, book_queries
from computekyc.settings import Settings
from computekyc.usage import Filters, UsageStore, ingest, make_engine, summary
from computekyc.users import OPERATOR_ROLE

from .conftest import AS_OF, EXAMPLE, clone_home


def test_the_kept_book_reading_is_the_book(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    book = read_book(EXAMPLE)
    folder = scanmemo.folder_digest(
        sorted(p for p in EXAMPLE.iterdir() if p.is_file()), sorted((EXAMPLE / "usage").iterdir())
    )
    made = scanmemo.read_book_once(settings, EXAMPLE, folder)
    kept = read_cache(scanmemo._path(settings, book.provider, "book"))
    assert isinstance(kept, scanmemo.BookReading) and isinstance(kept.book, Book)
    assert kept.book == made.book == book
    assert kept.book == pickle.loads(pickle.dumps(book))  # as the generic pickling gives it
    assert kept.content_hash == book.content_hash
    assert any(c.customer.root.owners for c in kept.book.customers)
    # The next reading of the same files is the kept one.
    again = scanmemo.read_book_once(settings, EXAMPLE, folder)
    assert again.key == made.key and again.book == book


def test_kept_usage_facts_read_as_made(provider: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    store = UsageStore(settings.ensure_home() / "usage")
    ingest(sorted((provider / "usage").iterdir()), store=store)
    rows = summary(make_engine("duckdb", store), filters=Filters(last_day=date(2026, 11, 30)))
    per_account = {row["account"]: row for row in rows}
    # Days that read alike but for a number's type or sign stay apart.
    per_account["x-1"] = {"days": [{"date": "d", "by_chip": {"H100": {"h": 0.0}}}] * 2}
    per_account["x-2"] = {"days": [{"date": "d", "by_chip": {"H100": {"h": -0.0}}}]}
    per_account["x-3"] = {"days": [{"date": "d", "by_chip": {"H100": {"h": 0}}}]}
    per_account["x-4"] = {"days": [{"date": "d", "by_chip": {"H100": {"h": False}}}]}
    facts = scanmemo.UsageFacts("key", per_account, [], {}, {"a": [("resource", "vm")]})
    scanmemo.save_usage_facts(settings, "p", facts)
    kept = scanmemo.load_usage_facts(settings, "p", "key")
    assert kept is not None and kept == facts
    assert any(row["days"] for row in kept.per_account.values())
    for account, row in facts.per_account.items():
        assert repr(kept.per_account[account]) == repr(row)  # types and signs too
    assert scanmemo.load_usage_facts(settings, "p", "another key") is None


def test_kept_determinations_read_as_made(tmp_path: Path) -> None:
    book = read_book(EXAMPLE)
    on = date.fromisoformat(AS_OF)
    kept = {}
    for n, customer in enumerate(book.customers):
        made = CustomerDetermination(
            customer.id,
            [
                Determination(
                    customer.id, Status.CLEAR, [], "clear", {"chip": "H100"}, on, "v1", "s"
                )
            ],
        )
        reach = tree_reach(customer.customer)
        chips = ("H100",)
        kept[customer.id] = scanmemo.keep_determination("h", chips, reach, made, n % 2 == 0, {})
    # Pickled ahead, while a scan waits for its ids: the memo reads back the same.
    ahead = scanmemo.stage_determinations_memo(
        Settings(home=tmp_path / "home"), "p", 7, "s", "context", Prepickled(dict(kept))
    )
    loaded = pickle.loads(ahead.temp.read_bytes())
    assert loaded.kept == kept and loaded.scan_id == 7 and loaded.context == "context"
    assert any(k.whole is not None for k in loaded.kept.values())
    read = read_cache(ahead.temp)
    ahead.drop()
    assert isinstance(read, scanmemo.DeterminationMemo) and type(read.kept) is dict
    assert read.kept == kept and read.scan_id == 7 and list(read.kept) == list(kept)


def _plain_register_rows(
    book: Book,
    hits: dict[str, list[dict[str, Any]]],
    determinations: dict[str, CustomerDetermination],
    parties: dict[str, Party],
    on: date,
) -> list[dict[str, Any]]:
    """The register's rows made from every subject's roles (what ``register_entries`` gives)."""
    rules = load_rules()
    common = {"scan_id": 0, "scan_as_of": on.isoformat(), "snapshot": "snap"}

    def verdict(customer_id: str | None) -> dict[str, Any]:
        result = determinations.get(customer_id or "")
        if result is None:
            return {"determination": None}
        worst = result.worst
        label = " ".join(str(p) for p in (worst.item.get("chip"), worst.item.get("eccn")) if p)
        return {
            "determination": str(worst.status),
            "determination_item": label,
            "determination_explanation": worst.explanation,
            "rules_version": worst.rules_version,
        }

    rows: list[dict[str, Any]] = []
    for c in book.customers:
        base = {**common, "subject_kind": "customer", "subject_id": c.id}
        base |= {"subject_name": c.customer.root.name, "customer_id": c.id, **verdict(c.id)}
        rows += _role_rows(base, customer_roles(c), hits, parties, rules, on)
    for a in book.accounts:
        owner = a.record.customer_id
        base = {**common, "subject_kind": "account", "subject_id": a.id}
        base |= {"subject_name": a.record.name, "customer_id": owner, **verdict(owner)}
        rows += _role_rows(base, account_roles(a.record), hits, parties, rules, on)
    return rows


def test_register_rows_are_those_of_every_subjects_roles() -> None:
    book = read_book(EXAMPLE)
    on = date.fromisoformat(AS_OF)
    customer = next(c for c in book.customers if c.customer.root.owners)
    roles = customer_roles(customer)
    account = book.accounts[1]
    account.record = replace(account.record, beneficial_owners=("Owner One", "Owner Two"))
    held = account_roles(account.record)
    assert len(roles) > 2 and len(held) > 1

    def hit(party: str, score: float) -> dict[str, Any]:
        return {"party_id": party, "score": score, "name": party, "matched_name": party,
                "source": "SDN", "programs": ["X"]}  # fmt: skip

    # A hit on an owner (not the first name), one on a beneficial owner, one on the first
    # name of another customer, and a key whose hits are none.
    hits = {
        roles[-1].query.key: [hit("p-1", 0.95), hit("p-2", 0.8)],
        held[-1].query.key: [hit("p-3", 0.9)],
        customer_roles(book.customers[-1])[0].query.key: [hit("p-1", 0.7)],
        customer_roles(book.customers[0])[0].query.key: [],
    }
    parties = {
        "p-1": Party("p-1", "SDN", "p-1", listed_on="2020-01-01"),
        "p-2": Party("p-2", "SDN", "p-2", listed_on="2030-01-01"),
    }
    item = {"chip": "H100", "eccn": "3A090.a"}
    determinations = {
        c.id: CustomerDetermination(
            c.id, [Determination(c.id, Status.REVIEW, [], f"why {c.id}", item, on, "v1", "s")]
        )
        for c in book.customers[::2]
    }
    rules = load_rules()
    made = register_entries(0, book, hits, determinations, parties, "snap", on, rules).rows()
    plain = _plain_register_rows(book, hits, determinations, parties, on)
    assert [list(row.items()) for row in made] == [list(row.items()) for row in plain]
    assert sum(row.get("party_id") is not None for row in made) >= 4
    # Customers no query of whose declared tree has a hit (as the scan knows them): only
    # their other names are asked, and the rows are the same.
    quiet = {
        c.id
        for c in book.customers
        if not any(hits.get(q.key) for q in holder_queries(c.customer.root))
    }
    assert 0 < len(quiet) < len(book.customers)
    told = register_entries(0, book, hits, determinations, parties, "snap", on, rules,
                            quiet_trees=quiet).rows()  # fmt: skip
    assert [list(row.items()) for row in told] == [list(row.items()) for row in plain]
    assert {row["determination"] for row in made} == {None, "review"}


def _edit_lines(path: Path, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in edit(records)))


def _rename(record_id: str, name: str) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def edit(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        key = "account_id" if record_id.startswith("a-") else "id"
        found = [r for r in records if r[key] == record_id]
        assert found
        found[0]["name"] = name
        return records

    return edit


def test_a_register_that_refers_to_the_last_one_reads_as_a_whole_one(
    template_home: Path, provider: Path, lists_dir: Path, geoip_dir: Path, tmp_path: Path
) -> None:
    """Two homes scan the same changing folder; one keeps only what changed in each register
    (referring to the last one), the other, without the last scan's memo, every row: each scan's
    screening report reads the same in both."""
    on = date.fromisoformat(AS_OF)
    referring = clone_home(template_home, tmp_path / "referring", geoip_dir)
    whole = clone_home(template_home, tmp_path / "whole", geoip_dir)
    customers, accounts = provider / "customers.jsonl", provider / "accounts.jsonl"

    def owner_renamed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The customer whose owner is listed: its hit goes.
        found = [r for r in records if r["id"] == "c-106"]
        found[0]["owners"][0]["name"] = "Harbourfront Holdings Pte Ltd"
        return records

    def account_added(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*records[1:], {**records[0], "account_id": "a-999", "name": "Second Team"}]

    steps = [
        lambda: None,  # the first scan
        lambda: None,  # unchanged: a replay
        lambda: _edit_lines(customers, _rename("c-101", "Aurora Analytics AG")),
        lambda: _edit_lines(customers, owner_renamed),
        lambda: _edit_lines(accounts, account_added),
        lambda: _edit_lines(accounts, _rename("a-102", "Maple Leaf Vision Team")),
    ]
    depths = []
    for step in steps:
        step()
        for settings in (referring, whole):
            if settings is whole:
                for memo in (whole.home / "scan").glob("memo-*.pickle"):
                    memo.unlink()
            run_scan(settings, provider, lists=lists_dir, as_of=on, workers=1)
        memo = read_cache(next((referring.home / "scan").glob("memo-*.pickle")))
        depths.append(memo.register.depth)
    # Whole, then replayed, then referring to the last one (in turn).
    assert depths == [1, 1, 2, 3, 4, 5]
    actor = Actor("auditor", OPERATOR_ROLE)
    hits = 0
    for scan_id in range(1, len(steps) + 1):
        one = screening_report(referring, actor, "csv", scan_id=scan_id)
        two = screening_report(whole, actor, "csv", scan_id=scan_id)
        assert [list(r.items()) for r in one.rows] == [list(r.items()) for r in two.rows]
        assert one.data == two.data and one.rows
        assert {r["scan_id"] for r in one.rows} == {scan_id}
        hits += sum(r.get("party_id") is not None for r in one.rows)
    assert hits > 0
    registers = referring.home / "reports" / "screening"
    document = json.loads(gzip.decompress((registers / "scan-6.json.gz").read_bytes()))
    assert document["base"] == 5 and "rows" not in document
    kept = [entry for entry in document["subjects"] if isinstance(entry[0], dict)]
    assert 0 < len(kept) < len(document["subjects"]) / 2  # only what changed
    # A register whose base is gone says so and names the way out.
    (registers / "scan-4.json.gz").unlink()
    with pytest.raises(ConflictError, match="run the scan again"):
        screening_report(referring, actor, "csv", scan_id=6)


def _asked(book: Book) -> list[NameQuery]:
    """The distinct queries a scan asks of ``book``, in order (as the scan makes them)."""
    return list(
        dict.fromkeys(
            chain(
                (q for customer in book.customers for q in customer_queries(customer)),
                (q for account in book.accounts for q in account_queries(account.record)),
            )
        )
    )


def test_kept_book_queries_are_those_the_book_asks(
    scan_settings: Settings, provider: Path, lists_dir: Path
) -> None:
    on = date.fromisoformat(AS_OF)

    def key_of_folder() -> str:
        folder = scanmemo.folder_digest(book_files(provider), usage_files(provider))
        return scanmemo.book_queries_key(folder, provider_name(provider))

    run_scan(scan_settings, provider, lists=lists_dir, as_of=on)
    book = read_book(provider)
    key = key_of_folder()
    kept = book_queries(NameKeysCache.load(scan_settings.home), key)
    assert kept is not None
    assert list(kept.values()) == _asked(book) and list(kept) == [q.key for q in _asked(book)]

    # The same records in another order: the same content, other queries' order — not kept.
    customers = provider / "customers.jsonl"
    lines = customers.read_text().splitlines()
    customers.write_text("\n".join(lines[1:] + lines[:1]) + "\n")
    moved = read_book(provider)
    assert moved.content_hash == book.content_hash and _asked(moved) != _asked(book)
    assert book_queries(NameKeysCache.load(scan_settings.home), key_of_folder()) is None
    run_scan(scan_settings, provider, lists=lists_dir, as_of=on)
    kept = book_queries(NameKeysCache.load(scan_settings.home), key_of_folder())
    assert kept is not None and list(kept.values()) == _asked(moved)
    # The last book's queries are no longer kept for it.
    assert book_queries(NameKeysCache.load(scan_settings.home), key) is None
