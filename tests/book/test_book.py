"""The customer book: reading a provider folder, party-type words, content-hashed revisions."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from computekyc.book import plan_import, read_book, write_import
from computekyc.exc import InputError
from computekyc.lists import holder_type
from computekyc.settings import Settings
from computekyc.workflow import open_database

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "provider"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "provider"
    shutil.copytree(EXAMPLE, target)
    return target


def _rewrite(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("organization", "entity"),
        ("Company", "entity"),  # FollowTheMoney schema names
        ("LegalEntity", "entity"),
        ("legal_entity", "entity"),
        ("Organization", "entity"),
        ("Person", "individual"),
        ("individual", "individual"),
        ("vessel", None),
        ("spaceship", None),
    ],
)
def test_party_type_words(word: str, expected: str | None) -> None:
    # The book reads customer types with the product's one vocabulary (computekyc.lists).
    if expected is None:
        with pytest.raises(InputError):
            holder_type(word)
    else:
        assert holder_type(word) == expected


def test_example_folder_reads_with_types_mapped_and_usage_files(folder: Path) -> None:
    book = read_book(folder)
    assert book.provider == "provider" and len(book.customers) == 15 and len(book.accounts) == 20
    first = book.customers[0].customer
    assert first.root.type == "entity"  # "organization" in the file
    assert [o.type for o in first.root.owners] == ["individual", "entity"]  # person, company
    hik = next(c for c in book.customers if c.id == "c-105")
    assert hik.other_names == ["Hangzhou Hikvision Digital Technology Co., Ltd."]
    assert [p.name for p in book.usage_files] == ["focus-2026-11.csv", "sacct-2026-11.txt"]
    assert read_book(folder).content_hash == book.content_hash


def test_customers_csv_reads_like_jsonl(folder: Path, tmp_path: Path) -> None:
    records = _records(folder / "customers.jsonl")
    (folder / "customers.jsonl").unlink()
    columns = ["id", "name", "type", "country", "headquarters_country", "other_names",
               "addresses", "identifiers", "owners", "directors"]  # fmt: skip
    with (folder / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for record in records:
            row = {}
            for key in columns:
                value = record.get(key)
                if value is None:
                    row[key] = ""
                elif key in ("other_names", "addresses"):
                    row[key] = ";".join(value)  # type: ignore[arg-type]
                elif key in ("identifiers", "owners", "directors"):
                    row[key] = json.dumps(value, ensure_ascii=False)
                else:
                    row[key] = str(value)
            writer.writerow(row)
    from_csv = read_book(folder)
    original = read_book(EXAMPLE)
    assert [c.customer.root for c in from_csv.customers] == [
        c.customer.root for c in original.customers
    ]
    assert [c.other_names for c in from_csv.customers] == [
        c.other_names for c in original.customers
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "c-1", "name": "X", "type": "spaceship"}', "type: unknown party type"),
        ('{"id": "c-1", "name": ""}', "name: missing or empty name"),
        ('{"id": "c-100", "name": "Twice Ltd"}', "id: duplicate customer id 'c-100'"),
        ("{not json", "invalid JSON"),
        (
            '{"id": "c-1", "name": "X", "owners": [{"name": "O", "type": "robot"}]}',
            "owners[0].type: unknown party type 'robot'",
        ),
    ],
)
def test_bad_customer_names_file_line_and_field(folder: Path, line: str, message: str) -> None:
    with (folder / "customers.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    with pytest.raises(InputError) as caught:
        read_book(folder)
    assert str(caught.value).startswith(f"{folder / 'customers.jsonl'}:16: ")
    assert message in str(caught.value)


def test_account_of_an_unknown_customer_is_refused(folder: Path) -> None:
    accounts = _records(folder / "accounts.jsonl")
    accounts[3]["customer_id"] = "c-404"
    _rewrite(folder / "accounts.jsonl", accounts)
    with pytest.raises(InputError, match=r"accounts.jsonl:4: customer_id: customer 'c-404'"):
        read_book(folder)


def test_revisions_know_new_changed_removed_and_reimport_is_a_no_op(
    folder: Path, tmp_path: Path
) -> None:
    engine = open_database(Settings(home=tmp_path / "home"))
    book = read_book(folder)
    with engine.begin() as connection:
        plan = plan_import(connection, book)
        first = write_import(connection, book, plan)
    assert len(plan.customers.new) == 15 and len(plan.accounts.new) == 20
    with engine.begin() as connection:
        again = plan_import(connection, read_book(folder))
        assert again.revision == first and not again.customers.touched
        # The last scan's record of this reading as the latest revision: the same plan,
        # without reading the records.
        recorded = (first, book.content_hash)
        assert plan_import(connection, book, recorded) == again
        assert plan_import(connection, book, recorded, book.content_hash) == again
        assert write_import(connection, book, again) == first

    customers = _records(folder / "customers.jsonl")
    customers[0]["country"] = "CA"  # changed
    del customers[1]  # removed
    customers.append({"id": "c-200", "name": "New Customer Ltd", "type": "entity"})
    _rewrite(folder / "customers.jsonl", customers)
    accounts = [a for a in _records(folder / "accounts.jsonl") if a["customer_id"] != "c-101"]
    _rewrite(folder / "accounts.jsonl", accounts)
    changed = read_book(folder)
    with engine.begin() as connection:
        plan = plan_import(connection, changed)
        assert plan_import(connection, changed, recorded) == plan  # another content: read
        second = write_import(connection, changed, plan)
        # No longer the latest revision: read in full.
        assert plan_import(connection, book, recorded) == plan_import(connection, book)
        assert plan_import(connection, book).customers.changed == {"c-100"}
    assert second != first
    assert plan.customers.changed == {"c-100"} and plan.customers.removed == {"c-101"}
    assert plan.customers.new == {"c-200"} and plan.accounts.removed == {"a-101"}
    assert plan.counts() == {"added": 1, "changed": 1, "removed": 2}
    with engine.begin() as connection:
        third = plan_import(connection, changed)
    assert third.revision == second and not (third.customers.touched or third.customers.removed)
