"""The environment, checked before any command runs: a bad variable, an unusable or unreachable
database, a usage error — each one plain line, its documented exit code, never a traceback."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]

DOCUMENTED = {0, 1, 2, 3, 70}
# A command of every group, each cheap when the environment is fine.
COMMANDS = [
    ("chips", "classify", "H100"),
    ("lists", "status"),
    ("screen", "Hikvision"),
    ("usage", "summary"),
    ("link", "explain", "acct-1"),
    ("determine", "--customers", "customers.jsonl"),
    ("eval", "pairs", "pairs.csv"),
]


def _one_error_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode in DOCUMENTED
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    (line,) = lines
    assert line.startswith("error: ")
    for word in words:
        assert word in line
    return line


def _closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


BAD_VARIABLES = [
    ("COMPUTEKYC_DATABASE_URL", "notaurl", ["$COMPUTEKYC_DATABASE_URL", "not a database URL"]),
    ("COMPUTEKYC_DATABASE_URL", "mysql://x", ["$COMPUTEKYC_DATABASE_URL", "'mysql'"]),
    ("COMPUTEKYC_THREADS", "abc", ["$COMPUTEKYC_THREADS", "'abc'"]),
    ("COMPUTEKYC_THREADS", "0", ["$COMPUTEKYC_THREADS", "at least 1"]),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_bad_database_url_is_exit_3_in_every_command(
    run_cli: Run, command: tuple[str, ...]
) -> None:
    done = run_cli(*command, env={"COMPUTEKYC_DATABASE_URL": "notaurl"})
    _one_error_line(done, "$COMPUTEKYC_DATABASE_URL", "not a database URL")
    assert done.returncode == 3


@pytest.mark.parametrize(("variable", "value", "words"), BAD_VARIABLES)
@pytest.mark.parametrize("command", [COMMANDS[0], COMMANDS[3]], ids=lambda c: " ".join(c[:2]))
def test_bad_variable_is_exit_3(
    run_cli: Run, variable: str, value: str, words: list[str], command: tuple[str, ...]
) -> None:
    done = run_cli(*command, env={variable: value})
    _one_error_line(done, *words)
    assert done.returncode == 3


@pytest.mark.parametrize("command", COMMANDS[1:4], ids=lambda c: " ".join(c[:2]))
def test_home_that_is_a_file_is_exit_3(
    run_cli: Run, tmp_path: Path, command: tuple[str, ...]
) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder\n")
    done = run_cli(*command, env={"COMPUTEKYC_HOME": str(home)})
    _one_error_line(done, "$COMPUTEKYC_HOME", str(home), "file")
    assert done.returncode == 3


@pytest.mark.parametrize("command", [("lists", "status"), ("screen", "Hikvision")])
def test_unreachable_postgresql_is_exit_3(run_cli: Run, command: tuple[str, ...]) -> None:
    url = f"postgresql+psycopg://someone:s3cret@127.0.0.1:{_closed_port()}/computekyc"
    done = run_cli(*command, env={"COMPUTEKYC_DATABASE_URL": url})
    line = _one_error_line(done, "$COMPUTEKYC_DATABASE_URL", "cannot open", "127.0.0.1")
    assert done.returncode == 3
    assert "s3cret" not in line  # the password is never echoed


def test_missing_database_driver_is_exit_3(run_cli: Run) -> None:
    done = run_cli(
        "lists", "status", env={"COMPUTEKYC_DATABASE_URL": "postgresql+nosuchdriver://h/db"}
    )
    _one_error_line(done, "$COMPUTEKYC_DATABASE_URL", "nosuchdriver")
    assert done.returncode == 3


def test_sqlite_in_a_missing_folder_is_exit_3(run_cli: Run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'computekyc.db'}"
    done = run_cli("lists", "status", env={"COMPUTEKYC_DATABASE_URL": url})
    _one_error_line(done, "cannot open", "computekyc.db")
    assert done.returncode == 3


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("chips", "classify", "H100", "--bogus"), ["No such option: --bogus"]),
        (("screen", "--threshold", "abc", "Hikvision"), ["'--threshold'"]),
        (("nosuch",), ["No such command 'nosuch'"]),
        (("chips", "classify", "H100", "--as-of", "[red]June"), ["[red]June"]),
        (("screen", "--type", "spaceship", "Hikvision"), ["unknown party type", "'spaceship'"]),
    ],
)
def test_usage_errors_exit_2_in_plain_text(
    run_cli: Run, args: tuple[str, ...], words: list[str]
) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert not set("╭│╰") & set(done.stderr)  # plain lines, no box to squeeze
    for word in words:
        assert word in done.stderr


def test_version_and_help_exit_0_without_a_usable_environment(run_cli: Run) -> None:
    # --help and --version answer even where the environment is broken: they touch nothing.
    for args in (("--help",), ("--version",), ("chips", "--help"), ("screen", "--help")):
        done = run_cli(*args, env={"COMPUTEKYC_THREADS": "abc"})
        assert done.returncode == 0 and done.stdout and not done.stderr
