"""A list load is a state change: each new snapshot is in the audit log, written in the load's
own transaction; a load that changes nothing writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from computekyc.cli import app


def test_list_loads_are_audited(ck_home: Path, archive_dir: Path) -> None:
    runner = CliRunner()
    dpl = archive_dir / "dpl_2023-11-30.txt"
    assert runner.invoke(app, ["lists", "load", str(dpl)]).exit_code == 0
    assert runner.invoke(app, ["lists", "load", str(dpl)]).exit_code == 0  # already active
    shown = runner.invoke(app, ["audit", "log", "--json"])
    assert shown.exit_code == 0, shown.output
    entries = [e for e in json.loads(shown.stdout) if e["action"] == "lists.loaded"]
    assert len(entries) == 1
    loaded = entries[0]
    assert loaded["object"] == {"kind": "list_snapshot", "id": "1"}
    assert loaded["after"]["files"][0]["name"] == dpl.name
    assert len(loaded["after"]["files"][0]["sha256"]) == 64
    assert loaded["actor"]["user"].startswith("local:")
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
