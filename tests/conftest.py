"""Fixtures shared by every test package: the real data in ../shared and a throwaway home."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPUTEKYC_SHARED", REPO.parent / "shared"))


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console in every test: Rich wraps at the terminal width (80 when not a terminal),
    and a message naming a file under a long checkout path must not be cut where a test looks."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real public data beside the checkout (read-only in CI)."""
    if not (SHARED / "data").is_dir():
        pytest.fail(
            f"../shared not found at {SHARED}: the tests need the real data beside the repo"
        )
    return SHARED


@pytest.fixture(scope="session")
def lists_dir(shared: Path) -> Path:
    return shared / "data" / "lists"


@pytest.fixture(scope="session")
def archive_dir(shared: Path) -> Path:
    return shared / "data" / "lists-archive"


@pytest.fixture()
def ck_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty COMPUTEKYC_HOME for one test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("COMPUTEKYC_HOME", str(home))
    monkeypatch.delenv("COMPUTEKYC_DATABASE_URL", raising=False)
    yield home


@pytest.fixture()
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m computekyc ARGS`` in a subprocess, as a user would: a fresh process with
    this checkout's sources, an empty home unless ``env`` says otherwise, and no terminal."""
    home = tmp_path / "cli-home"

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        stdin: str | bytes | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("COMPUTEKYC_")}
        environ |= {"COMPUTEKYC_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
        environ |= env or {}
        data = stdin.encode() if isinstance(stdin, str) else stdin
        done = subprocess.run(
            [sys.executable, "-m", "computekyc", *args],
            input=data,
            capture_output=True,
            env=environ,
            cwd=cwd or tmp_path,
            timeout=600,
            check=False,
        )
        return subprocess.CompletedProcess(
            done.args,
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    return run
