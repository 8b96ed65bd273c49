"""An admin starts the daily scan over HTTP; it runs in the background and is audited as them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "provider"


@pytest.mark.xdist_group("scan-http")
def test_admin_scan_over_http(template_home: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    with running_server(template_home, tmp_path / "home") as server:
        with server.client("analyst") as analyst:
            refused = analyst.post("/scans", json={"provider_dir": str(EXAMPLE)})
            assert refused.status_code == 403
        with server.client("admin") as admin:
            started = admin.post(
                "/scans", json={"provider_dir": str(EXAMPLE), "as_of": "2026-11-30"}
            )
            assert started.status_code == 202, started.text
            job = started.json()
            deadline = time.monotonic() + 600
            while job["status"] == "running" and time.monotonic() < deadline:
                time.sleep(1)
                job = admin.get(f"/scans/{job['id']}").json()
            assert job["status"] == "done", job
            assert job["progress"] and job["user"] == "admin"
            result = job["result"]
            assert set(result) >= {"snapshot", "customers", "accounts", "screened", "alerts"}
            assert result["alerts"]["new"] > 0
            queue = admin.get("/alerts", params={"limit": 1000}).json()["results"]
            assert any(a["subject"]["id"] == "c-106" for a in queue)
            log = admin.get("/audit", params={"limit": 5000}).json()["results"]
            done = [e for e in log if e["action"] == "scan.completed"]
            assert done and done[-1]["actor"]["user"] == "admin"
            assert admin.get("/scans/nope").status_code == 404
