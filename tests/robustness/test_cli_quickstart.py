"""The quick-start targets work from any folder: every path starts from the Makefile's own."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("target", ["demo", "test"])
def test_make_from_another_folder_runs_in_the_checkout(tmp_path: Path, target: str) -> None:
    plan = subprocess.run(
        ["make", "-n", "-C", str(REPO), target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    commands = [line for line in plan.splitlines() if not line.startswith("make")]
    assert commands
    for line in commands:
        # Each command names the checkout or the venv inside it, never a path relative to the
        # caller's folder.
        assert str(REPO) in line, line
    if target == "demo":
        assert f"SHARED='{REPO.parent / 'shared'}'" in plan
    else:
        assert f"COMPUTEKYC_SHARED='{REPO.parent / 'shared'}'" in plan
