"""Fixtures shared by every test package: the real data in ../shared and a throwaway home."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# A wide console for every test: Rich wraps at the terminal width (80 when not a terminal), and
# messages that name a file under a long checkout path must not be cut where a test looks.
os.environ["COLUMNS"] = "1000"

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPUTEKYC_SHARED", REPO.parent / "shared"))


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
