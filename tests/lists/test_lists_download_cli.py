"""Downloads (no network: unreachable URL, or an in-process transport) and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.exc import EXIT_INPUT, EXIT_STATE
from computekyc.lists import download
from computekyc.lists.download import OFFICIAL, DownloadError
from computekyc.lists.store import ListStore
from computekyc.settings import LISTS_MIRROR_ENV, Settings

runner = CliRunner()


def test_unreachable_url_changes_nothing(mirror_store: ListStore, ck_home: Path) -> None:
    before = mirror_store.active_snapshot()
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9.*ConnectError"):
        download.update(
            mirror_store,
            ck_home / "downloads",
            urls={"csl/consolidated.csv": "http://127.0.0.1:9/consolidated.csv"},
            show_progress=False,
        )
    assert mirror_store.active_snapshot() == before
    assert list((ck_home / "downloads").iterdir()) == []


def test_http_error_status_is_reported(ck_home: Path) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    with pytest.raises(DownloadError, match="HTTP 503"):
        download.update(
            store,
            ck_home / "downloads",
            urls=dict(OFFICIAL),
            show_progress=False,
            transport=transport,
        )
    assert store.active_snapshot() is None
    store.close()


def test_update_downloads_official_files_then_loads(ck_home: Path, lists_dir: Path) -> None:
    # Serve the mirror's real files at the official URLs, in process (no network).
    by_url = {url: lists_dir / rel for rel, url in OFFICIAL.items()}
    seen: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=by_url[str(request.url)].read_bytes())

    store = ListStore.open(Settings.from_env().sqlalchemy_url)
    result = download.update(
        store, ck_home / "downloads", show_progress=False, transport=httpx.MockTransport(serve)
    )
    assert sorted(seen) == sorted(OFFICIAL.values())
    assert result.created and set(result.feeds_changed) == {"csl", "ofac-sdn", "ofac-cons", "un"}
    kept = [p for p in (ck_home / "downloads").iterdir()]
    assert len(kept) == 1 and (kept[0] / "ofac" / "sdn.csv").is_file()
    assert store.source_counts()["SDN"] == 14965
    store.close()


def test_cli_update_from_mirror_status_and_load(mirror_store: ListStore, lists_dir: Path) -> None:
    again = runner.invoke(app, ["lists", "update", "--from", str(lists_dir)])
    assert again.exit_code == 0, again.output
    assert "already active in snapshot 1" in again.output
    status = runner.invoke(app, ["lists", "status", "--json"])
    assert status.exit_code == 0
    data = json.loads(status.output)
    assert set(data) == {"snapshot", "sources"}
    assert data["snapshot"]["id"] == 1
    assert data["sources"]["EL"] == 3409 and data["sources"]["SDN"] == 14965
    assert data["sources"]["CMIC"] == 68
    human = runner.invoke(app, ["lists", "status"])
    assert human.exit_code == 0 and "Active snapshot 1" in human.output


def test_cli_drop_refused_then_forced_and_diff(mirror_store: ListStore, archive_dir: Path) -> None:
    subset = str(archive_dir / "csl_2023-11-30_subset.csv")
    refused = runner.invoke(app, ["lists", "load", subset])
    assert refused.exit_code == EXIT_STATE  # DropRefused is a StoreError, a StateError
    assert "refused" in refused.output and "Nothing was changed" in refused.output
    forced = runner.invoke(app, ["lists", "load", subset, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "Snapshot 2" in forced.output and "4233" in forced.output  # the truncated row
    diff = runner.invoke(app, ["lists", "diff", "--json"])
    assert diff.exit_code == 0
    data = json.loads(diff.output)
    assert (data["old_snapshot"], data["new_snapshot"]) == (1, 2)
    assert data["by_source"]["EL"]["removed"] > 0 and data["by_source"]["SDN"]["added"] == 1737
    table = runner.invoke(app, ["lists", "diff", "1", "2", "--limit", "3"])
    assert table.exit_code == 0 and "added" in table.output
    problems = runner.invoke(app, ["lists", "problems"])
    assert problems.exit_code == 0
    assert "csl_2023-11-30_subset.csv:4233: expected 29 columns, found 8" in problems.output
    snaps = runner.invoke(app, ["lists", "snapshots", "--json"])
    assert [s["id"] for s in json.loads(snaps.output)] == [1, 2]


def test_cli_errors_are_clear(
    ck_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("x,y\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["lists", "load", str(odd)])
    assert result.exit_code == EXIT_INPUT and "matches no known list layout" in result.output
    empty = runner.invoke(app, ["lists", "status", "--json"])
    assert json.loads(empty.output) == {"snapshot": None, "sources": {}}
    monkeypatch.setenv(LISTS_MIRROR_ENV, "http://127.0.0.1:9/")
    offline = runner.invoke(app, ["lists", "update"])
    assert offline.exit_code == EXIT_STATE and "Nothing was changed" in offline.output
    no_diff = runner.invoke(app, ["lists", "diff"])
    assert no_diff.exit_code == EXIT_STATE
