"""``computekyc screen`` as a user runs it (a subprocess, no terminal): refusals come before
any work and name the file and columns, names are never console markup, output survives narrow
terminals and pipes, and ``-`` is stdin/stdout."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from computekyc.lists.store import ListStore

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, lists_dir: Path) -> Path:
    """A home with a real snapshot: the DoD 1260H and FCC Covered lists."""
    home = tmp_path_factory.mktemp("screen-home")
    store = ListStore.open(f"sqlite:///{home / 'computekyc.db'}")
    try:
        sources = lists_dir / "opensanctions-sources"
        store.load_files([sources / "us_dod_1260h.csv", sources / "us_fcc_covered_list.csv"])
    finally:
        store.close()
    return home


@pytest.fixture()
def screen(run_cli: Run, home: Path) -> Run:
    def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        env = {"COMPUTEKYC_HOME": str(home), **kwargs.pop("env", {})}  # type: ignore[dict-item]
        return run_cli("screen", *args, env=env, **kwargs)

    return run


def _refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    for word in words:
        assert word in done.stderr, done.stderr


def _strict(line: str) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(line, parse_constant=refuse)


def test_two_name_columns_are_refused(screen: Run, tmp_path: Path) -> None:
    src = tmp_path / "customers.csv"
    src.write_text("id,name,country,name\nc1,Acme Bakery,US,Hikvision\n", encoding="utf-8")
    out = tmp_path / "hits.jsonl"
    done = screen("--input", str(src), "--output", str(out))
    _refused(done, f"{src}:1", "'name' is columns 2, 4")
    assert not out.exists()


@pytest.mark.parametrize("spelling", ["same", "relative"])
def test_output_that_is_the_input_is_refused(screen: Run, tmp_path: Path, spelling: str) -> None:
    src = tmp_path / "names.csv"
    content = "name\nHikvision\n"
    src.write_text(content, encoding="utf-8")
    out = str(src) if spelling == "same" else "./names.csv"
    done = screen("--input", str(src), "--output", out, cwd=tmp_path)
    _refused(done, "--output", "names.csv", "also an input")
    assert src.read_text(encoding="utf-8") == content


def test_output_into_a_missing_folder_or_onto_a_folder_is_refused(
    screen: Run, tmp_path: Path
) -> None:
    src = tmp_path / "names.csv"
    src.write_text("name\nHikvision\n", encoding="utf-8")
    missing = tmp_path / "no-such-folder" / "hits.jsonl"
    _refused(screen("--input", str(src), "--output", str(missing)), "--output", "no-such-folder")
    _refused(screen("--input", str(src), "--output", str(tmp_path)), "--output", "is a folder")
    _refused(screen("--input", str(tmp_path / "absent.csv"), "--output", "-"), "--input", "absent")


def test_non_utf8_input_names_the_line(screen: Run, tmp_path: Path) -> None:
    src = tmp_path / "latin1.csv"
    src.write_bytes("name\nHikvision\nSoci\u00e9t\u00e9 G\u00e9n\u00e9rale\n".encode("latin-1"))
    done = screen("--input", str(src), "--output", str(tmp_path / "out.jsonl"))
    _refused(done, f"{src}:3", "not UTF-8", "0xe9")


def test_square_brackets_are_never_markup(screen: Run, tmp_path: Path) -> None:
    # In a name on the command line (hits table and the no-hit line) …
    table = screen("[bold]Hikvision[/bold]")
    assert table.returncode == 0 and "'[bold]Hikvision[/bold]'" in table.stdout
    none = screen("[red]Nobody Special Bakery[/red]")
    assert none.returncode == 0 and "'[red]Nobody Special Bakery[/red]'" in none.stdout
    # … in a path, in a cell and in the skipped-row messages.
    folder = tmp_path / "[dim]in"
    folder.mkdir()
    src = folder / "[red]names.csv"
    src.write_text("name,type\n[b]Hikvision[/b],entity\nAcme,[red]company\n", encoding="utf-8")
    out = folder / "[x]hits.jsonl"
    done = screen("--input", str(src), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert f"{src}:3: type: unknown party type '[red]company'" in done.stderr
    assert str(out) in done.stderr
    first, second = (_strict(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert first["query"] == "[b]Hikvision[/b]" and first["hits"]  # type: ignore[index]
    assert "[red]company" in second["error"]  # type: ignore[index]


def test_unknown_type_lists_the_accepted_values(screen: Run) -> None:
    done = screen("Hikvision", "--type", "spaceship")
    _refused(done, "--type", "unknown party type 'spaceship'", "entity", "individual", "company")


@pytest.mark.parametrize("word", ["company", "Organization", "legal_entity", "LegalEntity"])
def test_every_entity_word_screens_as_an_entity(screen: Run, word: str) -> None:
    # One party-type vocabulary in every command: the same hits as --type entity.
    as_entity = screen("Hikvision", "--type", "entity", "--json")
    done = screen("Hikvision", "--type", word, "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout == as_entity.stdout and _strict(done.stdout)["hits"]  # type: ignore[index]


def test_name_only_options_with_an_input_file_are_refused(screen: Run, tmp_path: Path) -> None:
    src = tmp_path / "names.csv"
    src.write_text("name\nHikvision\n", encoding="utf-8")
    done = screen("--input", str(src), "--output", "-", "--country", "CN")
    _refused(done, "--country", "'country'")


def test_dash_is_stdin_and_stdout(screen: Run) -> None:
    done = screen("--input", "-", "--output", "-", stdin="id,name\nc1,海康威视\nc2,Acme Bakery\n")
    assert done.returncode == 0, done.stderr
    rows = [_strict(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["c1", "c2"]  # type: ignore[index]
    assert rows[0]["hits"] and not rows[1]["hits"]  # type: ignore[index]
    assert "<stdout>" in done.stderr


@pytest.mark.parametrize("columns", ["20", "", "1000"], ids=["narrow", "pipe", "wide"])
def test_human_output_never_breaks(screen: Run, columns: str) -> None:
    done = screen("Huawei Technologies", env={"COLUMNS": columns})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # Each value whole on one line (a table cell squeezed to nothing loses it).
    assert any("Huawei Technologies Co., Ltd." in line for line in lines)
    assert any("1260H" in line and "FCC" not in line for line in lines)
    assert any("1.00" in line for line in lines)
    assert any(line.startswith("#1 ") and "huawei~huawei" in line for line in lines)


def test_json_is_strict(screen: Run) -> None:
    done = screen("Hikvision", "--json")
    assert done.returncode == 0, done.stderr
    record = _strict(done.stdout)
    assert record["query"] == "Hikvision" and record["hits"]  # type: ignore[index]


def test_eval_pairs_refuses_non_utf8_and_duplicate_columns(run_cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "pairs.csv"
    bad.write_bytes(b"name1,name2,is_match\nSiemens AG,Siemens,true\nCaf\xe9,Cafe,true\n")
    done = run_cli("eval", "pairs", str(bad))
    _refused(done, f"{bad}:3", "not UTF-8")
    twice = tmp_path / "twice.csv"
    twice.write_text("name1,name2,name2,is_match\na,b,c,true\n", encoding="utf-8")
    _refused(run_cli("eval", "pairs", str(twice)), f"{twice}:1", "'name2' is columns 2, 3")
