"""``computekyc link``: outputs checked before the work, ``-`` for stdin/stdout, plain output
(square brackets are not markup), clear errors, and no card number anywhere it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computekyc.cli import app

RUNNER = CliRunner()
BRACKETS = "[bold red]Acme[/bold red] [Holdings]"


def _rows() -> list[dict[str, object]]:
    return [
        {"account_id": "[a-1]", "name": BRACKETS, "country": "US",
         "payment_fingerprints": ["tok_shared"]},
        {"account_id": "[a-2]", "name": "Acme [US] Inc.", "country": "US",
         "payment_fingerprints": ["tok_shared"]},
        {"account_id": "b-1", "name": "Other Ltd", "country": "GB"},
    ]  # fmt: skip


@pytest.fixture()
def accounts(tmp_path: Path) -> Path:
    folder = tmp_path / "in [dir]"
    folder.mkdir()
    path = folder / "accounts [v1].jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows()), encoding="utf-8")
    return path


def test_brackets_printed_literally(ck_home: Path, accounts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out [x].jsonl"
    result = RUNNER.invoke(app, ["link", "--accounts", str(accounts), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote 2 entities to {out}" in result.output
    explained = RUNNER.invoke(app, ["link", "explain", "[a-2]"])
    assert explained.exit_code == 0, explained.output
    assert "[a-1] — [a-2]" in explained.output
    entities = [json.loads(line) for line in out.read_text().splitlines()]
    assert ["[a-1]", "[a-2]"] in [e["accounts"] for e in entities]


@pytest.mark.parametrize("target", ["missing/out.jsonl", "."])
def test_output_checked_before_the_work(
    ck_home: Path, accounts: Path, tmp_path: Path, target: str
) -> None:
    output = tmp_path / target
    result = RUNNER.invoke(app, ["link", "--accounts", str(accounts), "--output", str(output)])
    assert result.exit_code == 2
    assert "--output" in result.output and "Traceback" not in result.output
    # Nothing was linked: the state folder holds no run.
    assert not (ck_home / "linking" / "entities.jsonl").exists()


def test_stdin_and_stdout(ck_home: Path) -> None:
    text = "".join(json.dumps(r) + "\n" for r in _rows())
    result = RUNNER.invoke(app, ["link", "--accounts", "-", "--output", "-"], input=text)
    assert result.exit_code == 0, result.output
    entities = [json.loads(line) for line in result.output.splitlines()]
    assert sorted(len(e["accounts"]) for e in entities) == [1, 2]


def test_unknown_engine(ck_home: Path, accounts: Path) -> None:
    result = RUNNER.invoke(app, ["link", "--accounts", str(accounts), "--engine", "pandas"])
    assert result.exit_code == 2
    assert "--engine must be one of duckdb, spark, got 'pandas'" in result.output


def test_empty_input_is_a_clear_error(ck_home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = RUNNER.invoke(app, ["link", "--accounts", str(empty)])
    assert result.exit_code == 2
    assert "holds no account records" in result.output


def test_one_account_links(ck_home: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("account_id,name,type\nx-1,Solo Labs,entity\n")
    result = RUNNER.invoke(app, ["link", "--accounts", str(one), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accounts"] == ["x-1"]


def test_card_number_never_written(ck_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "cards.jsonl"
    rows = _rows()
    rows[0]["payment_fingerprints"] = ["4111.1111.1111.1111"]
    rows[1]["payment_fingerprints"] = ["4111.1111.1111.1111"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = RUNNER.invoke(app, ["link", "--accounts", str(path)])
    assert result.exit_code == 2
    assert "…1111" in result.output
    assert "4111.1111" not in result.output and "411111111111" not in result.output
    assert not (ck_home / "linking" / "entities.jsonl").exists()
