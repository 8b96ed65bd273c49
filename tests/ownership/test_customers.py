"""Customer JSONL parsing: nested owners, and bad lines reported by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

from computekyc.ownership import Customer, InputError, read_customers


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_nested_owners_and_errors(tmp_path: Path) -> None:
    good = {
        "id": "c1",
        "name": "Lion City AI Compute Pte Ltd",
        "type": "entity",
        "country": "sg",
        "identifiers": {"lei": "8945006UNIT4VSLO5077"},
        "owners": [{"name": "Holdco", "share": 100, "owners": [{"name": "Top", "share": 70}]}],
    }
    bad_share = {"id": "c2", "name": "X", "owners": [{"name": "Y", "share": "lots"}]}
    bad_country = {"id": "c3", "name": "X", "owners": [{"name": "Y", "country": "China"}]}
    too_much = {
        "id": "c4",
        "name": "X",
        "owners": [{"name": "A", "share": 60}, {"name": "B", "share": 50}],
    }
    path = write(
        tmp_path / "customers.jsonl",
        [
            json.dumps(good),
            json.dumps(bad_share),
            "{not json",
            json.dumps(bad_country),
            "",
            json.dumps(too_much),
            json.dumps({"name": "no id"}),
        ],
    )
    records = list(read_customers(path))
    assert len(records) == 6
    first = records[0]
    assert isinstance(first, Customer) and first.line == 1
    assert first.root.country == "SG" and first.root.identifiers == {"lei": "8945006UNIT4VSLO5077"}
    assert first.root.owners[0].owners[0].share == 70.0
    errors = [r for r in records if isinstance(r, InputError)]
    assert [(e.line, e.field) for e in errors] == [
        (2, "owners[0].share"),
        (3, "<json>"),
        (4, "owners[0].country"),
        (6, "owners"),
        (7, "id"),
    ]
    assert str(errors[0]).startswith(f"{path}:2: field 'owners[0].share'")
    assert errors[0].id == "c2" and errors[0].to_dict()["status"] == "error"
