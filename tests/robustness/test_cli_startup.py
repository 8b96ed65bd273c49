"""Start-up: the command line answers at once because it imports only what a command needs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("duckdb", "splink", "sqlalchemy", "pandas", "pyarrow", "pyspark", "httpx", "pypinyin")

Run = Callable[..., subprocess.CompletedProcess[str]]


def _modules_after(code: str) -> set[str]:
    """The heavy modules loaded after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        timeout=300,
        check=True,
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    return {name for name in HEAVY if name in loaded}


def _command(args: list[str]) -> str:
    return (
        "import contextlib, io\n"
        "from computekyc.cli import app\n"
        "import typer\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    typer.main.get_command(app).main({args!r}, standalone_mode=False)\n"
    )


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _modules_after("import computekyc.cli") == set()


def test_help_loads_no_heavy_library() -> None:
    code = "import contextlib\n" + _command(["--help"]).replace(
        "typer.main", "with contextlib.suppress(SystemExit):\n        typer.main"
    )
    assert _modules_after(code) == set()


def test_chips_classify_loads_no_heavy_library() -> None:
    assert _modules_after(_command(["chips", "classify", "H100"])) == set()


def test_lists_status_loads_no_heavy_library(tmp_path: Path, lists_dir: Path) -> None:
    # On a home with a real snapshot: the status is read from SQLite by the standard library.
    from computekyc.lists.store import ListStore

    store = ListStore.open(f"sqlite:///{tmp_path / 'computekyc.db'}")
    store.load_files([lists_dir / "opensanctions-sources" / "us_fcc_covered_list.csv"])
    store.close()
    code = (
        f"import contextlib, io, json, os\nos.environ['COMPUTEKYC_HOME'] = {str(tmp_path)!r}\n"
        "from computekyc.cli import app\n"
        "import typer\n"
        "with contextlib.redirect_stdout(printed := io.StringIO()):\n"
        "    command = typer.main.get_command(app)\n"
        "    command.main(['lists', 'status', '--json'], standalone_mode=False)\n"
        "assert json.loads(printed.getvalue())['sources'] == {'FCC': 12}, printed.getvalue()\n"
    )
    assert _modules_after(code) == set()


def test_lists_status_of_an_empty_home_loads_no_heavy_library(tmp_path: Path) -> None:
    code = f"import os\nos.environ['COMPUTEKYC_HOME'] = {str(tmp_path)!r}\n" + _command(
        ["lists", "status"]
    )
    assert _modules_after(code) == set()
    assert not (tmp_path / "computekyc.db").exists()  # a status read creates nothing


def test_help_starts_quickly(run_cli: Run) -> None:
    # A generous bound for a loaded CI machine; on an idle one this takes ~0.3 s (the heavy
    # imports it no longer makes took 1-2.5 s).
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        done = run_cli("--help")
        best = min(best, time.perf_counter() - start)
        assert done.returncode == 0 and "screen" in done.stdout
    assert best < 1.5


@pytest.mark.parametrize("module", ["lists", "screen", "chips", "determine", "usage", "link"])
def test_root_listing_matches_each_commands_own_help(module: str) -> None:
    # The root --help shows one line per command without importing its module: that line
    # must be the command's own.
    from computekyc.cli import COMMANDS, load_commands

    commands = load_commands(module)
    for name, command in commands.items():
        assert COMMANDS[name][0] == module
        assert command.get_short_help_str(limit=1000) == COMMANDS[name][1]
    assert {n for n, (m, _) in COMMANDS.items() if m == module} == set(commands)
