"""Reproducibility: an evidence pack and a determination as of a past day give the same answer
after newer lists are loaded — from the stored snapshot and rule versions, not today's."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from computekyc.reports import MANIFEST, SIGNATURE

Cli = Callable[..., Any]


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _load_newer_lists(cli: Cli, archive_dir: Path) -> None:
    """A second snapshot: the CSL carried over, plus an FtM list with parties it lacks."""
    loaded = cli("lists", "load", str(archive_dir / "ftm" / "t1.ftm.json"))
    assert loaded.exit_code == 0, loaded.output
    status = json.loads(cli("lists", "status", "--json").stdout)
    assert "2" in json.dumps(status)


def test_the_pack_is_the_same_after_newer_lists(
    home: Path, cli: Cli, tmp_path: Path, archive_dir: Path
) -> None:
    for name in ("rev",):
        assert cli("users", "add", name, "--role", "reviewer").exit_code == 0
    decided = cli(
        "alerts", "decide", "1", "--outcome", "escalated", "--reason", "EL row", "--user", "rev"
    )
    assert decided.exit_code == 0, decided.output
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    assert cli("report", "case", "1", "--output", str(first)).exit_code == 0
    _load_newer_lists(cli, archive_dir)
    assert cli("report", "case", "1", "--output", str(second)).exit_code == 0
    before, after = _members(first), _members(second)
    assert set(before) == set(after)
    differing = sorted(name for name in before if before[name] != after[name])
    # Only the generation time (to the second) and so the signature may differ.
    assert differing in ([], [MANIFEST, SIGNATURE])
    manifest_before = json.loads(before[MANIFEST])
    manifest_after = json.loads(after[MANIFEST])
    assert manifest_before["generated_at"] <= manifest_after["generated_at"]
    del manifest_before["generated_at"], manifest_after["generated_at"]
    assert manifest_before == manifest_after
    assert json.loads(after["pack.json"])["snapshots"] == ["snapshot-1"]
    for pack in (first, second):
        assert cli("report", "verify", str(pack)).exit_code == 0


def _backdate_first_snapshot(home: Path, when: str) -> None:
    """Time passing: the first list snapshot was loaded on ``when``."""
    with sqlite3.connect(home / "computekyc.db") as connection:
        connection.execute("UPDATE lists_snapshots SET created_at = ? WHERE id = 1", (when,))


def test_determine_as_of_a_past_day_keeps_the_snapshot_of_that_day(
    home: Path, cli: Cli, tmp_path: Path, archive_dir: Path
) -> None:
    customers = tmp_path / "customers.jsonl"
    customers.write_text(
        json.dumps(
            {
                "id": "c-9",
                "name": "Inter Tobacco LLC",
                "type": "entity",
                "country": "PL",
                "headquarters_country": "PL",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    _backdate_first_snapshot(home, "2026-06-01T08:00:00+00:00")
    args = ("determine", "--customers", str(customers), "--as-of", "2026-07-01", "--json")
    before = cli(*args)
    assert before.exit_code == 0, before.output
    assert "lists: snapshot-1 (in force on 2026-07-01" in before.stderr
    _load_newer_lists(cli, archive_dir)
    after = cli(*args)
    assert after.exit_code == 0, after.output
    assert "lists: snapshot-1 (in force on 2026-07-01" in after.stderr
    assert after.stdout == before.stdout
    assert json.loads(before.stdout)["status"] == "clear"
    # Today the newer snapshot is in force, and it lists the customer: the answer differs, so
    # the equality above is the snapshot's doing.
    day = date.today().isoformat()
    today = cli("determine", "--customers", str(customers), "--as-of", day, "--json")
    assert f"lists: snapshot-2 (in force on {day}" in today.stderr
    assert json.loads(today.stdout)["status"] != "clear"
    # Before any snapshot was loaded: the oldest one, saying so.
    early = cli("determine", "--customers", str(customers), "--as-of", "2026-01-01", "--json")
    assert "lists: snapshot-1 (no snapshot was loaded by 2026-01-01" in early.stderr
