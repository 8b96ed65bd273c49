"""Declared ownership data that cannot be true is an input error naming file, line and field;
party-type words come from one vocabulary; graph files with broken lines fail with their line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from computekyc import exc
from computekyc.cli import app
from computekyc.lists import PartyType, party_type, read_file
from computekyc.ownership import Customer, InputError, read_customers, read_ftm
from computekyc.ownership.names import NameFrequencies


def write(path: Path, records: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def errors(path: Path) -> list[tuple[int, str, str]]:
    return [(e.line, e.field, e.message) for e in read_customers(path) if isinstance(e, InputError)]


WORDS = {
    PartyType.ENTITY: "organization organisation company entity legal_entity LegalEntity "
    "PublicBody Organization",
    PartyType.INDIVIDUAL: "person Person individual",
    PartyType.VESSEL: "Vessel",
    PartyType.AIRCRAFT: "Airplane",
}


@pytest.mark.parametrize(
    ("word", "expected"), [(w, kind) for kind, words in WORDS.items() for w in words.split()]
)
def test_one_vocabulary_for_party_types(word: str, expected: PartyType) -> None:
    assert party_type(word) is expected


@pytest.mark.parametrize("word", ["robot", "", None, 3, "persons"])
def test_unknown_party_type_is_an_input_error_listing_the_accepted_words(word: object) -> None:
    with pytest.raises(exc.InputError) as raised:
        party_type(word, file="x.jsonl", line=4, field="type")
    message = str(raised.value)
    assert message.startswith("x.jsonl:4: type: unknown party type")
    assert "organisation" in message and "LegalEntity" in message


def test_customers_accept_every_party_type_word(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.jsonl",
        [{"id": "a", "name": "A Pte Ltd", "type": "company",
          "owners": [{"name": "B", "type": "Person", "share": 60},
                     {"name": "C Ltd", "type": "organisation", "share": 40}]},
         {"id": "b", "name": "Boat", "type": "vessel"},
         {"id": "c", "name": "X", "type": "robot"}],
    )  # fmt: skip
    records = list(read_customers(path))
    first = records[0]
    assert isinstance(first, Customer) and first.root.type == "entity"
    assert [o.type for o in first.root.owners] == ["individual", "entity"]
    found = errors(path)
    assert [(line, field) for line, field, _ in found] == [(2, "type"), (3, "type")]
    assert "an entity or an individual, not a vessel" in found[0][2]
    assert "accepted: entity" in found[1][2]


def test_declared_data_that_cannot_be_true_names_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "customers.jsonl",
        [
            {"id": "self", "name": "Lion City AI Pte Ltd",
             "owners": [{"name": "LION CITY AI PTE. LTD.", "share": 100}]},
            {"id": "cycle", "name": "A Ltd", "identifiers": {"lei": "5493001KJTIIGC8Y1R12"},
             "owners": [{"name": "B Ltd", "share": 100,
                         "owners": [{"name": "A Holdings", "share": 100,
                                     "identifiers": {"LEI": "5493001kjtiigc8y1r12"}}]}]},
            {"id": "neg", "name": "X", "owners": [{"name": "Y", "share": -300}]},
            {"id": "huge", "name": "X", "owners": [{"name": "Y", "share": 5000}]},
            '{"id": "nan", "name": "X", "owners": [{"name": "Y", "share": NaN}]}',
            {"id": "sum", "name": "X", "owners": [{"name": "Y", "share": 60},
                                                  {"name": "Z", "share": 60}]},
            {"id": "neg", "name": "Duplicate Ltd"},
            {"id": "rel", "name": "X", "owners": [{"name": "Y", "relation": "friend"}]},
            {"id": "dob", "name": "X", "owners": [{"name": "Y", "type": "person",
                                                   "date_of_birth": "16/06/1977"}]},
            # Same name, other country: two companies, not a cycle.
            {"id": "ok", "name": "Acme Ltd", "country": "GB",
             "owners": [{"name": "Acme Ltd", "country": "US", "share": 100}]},
        ],
    )  # fmt: skip
    found = errors(path)
    assert [(line, field) for line, field, _ in found] == [
        (1, "owners[0].name"),
        (2, "owners[0].owners[0].name"),
        (3, "owners[0].share"),
        (4, "owners[0].share"),
        (5, "owners[0].share"),
        (6, "owners"),
        (7, "id"),
        (8, "owners[0].relation"),
        (9, "owners[0].date_of_birth"),
    ]
    messages = [m for _, _, m in found]
    assert "owns itself: it is also the customer" in messages[0]
    assert "'A Holdings' is in an ownership cycle: it is also the customer" in messages[1]
    assert "out of range 0..100: -300" in messages[2] and "5000" in messages[3]
    assert "add up to 120%" in messages[5]
    assert "duplicate id 'neg': first on line 3" in messages[6]


def test_deeply_nested_owners_are_an_error_not_a_crash(tmp_path: Path) -> None:
    text = '{"id": "deep", "name": "X", "owners": ' + '[{"name": "Y", "owners": ' * 3000
    path = write(tmp_path / "deep.jsonl", [text + "[]" + "}]" * 3000 + "}"])
    ((line, field, message),) = errors(path)
    assert line == 1 and field in {"<json>", "owners"} and "too deeply" in message


def test_broken_ftm_line_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.ftm.json", [
        {"id": "a", "schema": "Company", "properties": {"name": ["A"]}}, "{oops"])  # fmt: skip
    with pytest.raises(exc.InputError) as raised:
        read_ftm(path)
    assert str(raised.value).startswith(f"{path}:2: invalid JSON")


def test_cli_reports_duplicate_ids_and_broken_graph_files(tmp_path: Path, lists_dir: Path) -> None:
    customers = write(tmp_path / "c.jsonl", [{"id": "a", "name": "Nordic Render Farm AB"},
                                             {"id": "a", "name": "Other AB"}])  # fmt: skip
    out = tmp_path / "out.jsonl"
    args = ["determine", "--customers", str(customers), "--lists", str(lists_dir),
            "--matcher", "exact", "--item", "H100", "--as-of", "2026-07-01"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--output", str(out)])
    assert result.exit_code == 2
    assert f"{customers}:2: field 'id': duplicate id 'a': first on line 1" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["review", "error"]  # HQ unknown: review, not clear
    broken = write(tmp_path / "broken.ftm.json", ["{oops"])
    failed = CliRunner().invoke(app, [*args, "--ftm", str(broken)])
    assert failed.exit_code == 2 and f"error: {broken}:1: invalid JSON" in failed.output


def test_name_frequencies_are_computed_once_per_snapshot(tmp_path: Path, lists_dir: Path) -> None:
    parties = read_file(lists_dir / "ofac" / "sdn.csv").parties
    built = NameFrequencies.cached(tmp_path, "snap-1", lambda: parties)
    assert NameFrequencies.cache_path(tmp_path, "snap-1").is_file()
    assert dict(built.parts("ZHANG, Wei"))["zhang"] >= 10

    def must_not_rebuild() -> list[Any]:
        raise AssertionError("rebuilt although the snapshot's counts were cached")

    again = NameFrequencies.cached(tmp_path, "snap-1", must_not_rebuild)
    assert again.counts == built.counts and again.individuals == built.individuals
