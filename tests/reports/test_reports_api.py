"""The report routes over real HTTP: only roles holding ``reports.read`` get them, and what they
get is the real thing (a pack that verifies, a workbook, a Parquet file)."""

from __future__ import annotations

import importlib.util
import io
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import openpyxl
import pyarrow.parquet as pq
import pytest

from computekyc import audit
from computekyc.reports import verify_pack
from computekyc.services import casework
from computekyc.settings import Settings
from computekyc.users import local_operator

ROUTES = (
    "/reports/alerts/1/evidence",
    "/reports/cases/1/evidence",
    "/reports/screening?format=csv",
    "/reports/screening?format=xlsx",
    "/reports/screening?format=parquet",
)
ROLES = ("viewer", "analyst", "reviewer", "auditor", "admin")


def _scan_helpers() -> ModuleType:
    """tests/scan/conftest.py (its index-cache copy and its loader of other tests' helpers),
    under the name its own loader gives it (the suite imports in importlib mode)."""
    name = "computekyc_tests_scan_conftest"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "scan" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


@pytest.fixture(scope="module")
def served(
    scanned_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], Path]]:
    scan = _scan_helpers()
    helpers = scan.load_test_module("api/conftest.py")
    home = tmp_path_factory.mktemp("reports-api") / "home"
    shutil.copytree(scanned_template, home)
    scan.copy_index_cache(Settings(home=scanned_template), Settings(home=home))
    env = helpers.env_for(home)
    settings = Settings(home=home)
    tokens = {
        role: casework.add_user(settings, local_operator(), role, role).token for role in ROLES
    }
    casework.open_case(settings, casework.acting_user(settings, "reviewer"), [1])
    url, process = helpers.start_server(env, home / "server.log")
    try:
        yield url, tokens, home
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(served: tuple[str, dict[str, str], Path], role: str, route: str) -> httpx.Response:
    url, tokens, _ = served
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    return httpx.get(url + route, headers=headers, timeout=120)


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_roles_without_reports_read_are_refused(
    served: tuple[str, dict[str, str], Path], role: str
) -> None:
    for route in ROUTES:
        response = _get(served, role, route)
        assert response.status_code == 403, (role, route)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "reports.read" in response.json()["detail"]


def test_reviewer_gets_a_pack_that_verifies(served: tuple[str, dict[str, str], Path]) -> None:
    key = audit.load_or_create_key(Settings(home=served[2])).public_key()
    for route in ROUTES[:2]:
        response = _get(served, "reviewer", route)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert "attachment" in response.headers["content-disposition"]
        assert verify_pack(response.content, key).intact
    assert _get(served, "reviewer", "/reports/alerts/999999/evidence").status_code == 404


def test_auditor_and_admin_get_the_screening_report(
    served: tuple[str, dict[str, str], Path],
) -> None:
    text = _get(served, "auditor", ROUTES[2])
    assert text.status_code == 200 and text.content.startswith(b"\xef\xbb\xbfscan_id,")
    workbook = _get(served, "auditor", ROUTES[3])
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content), read_only=True)
    assert book.sheetnames == ["summary", "screening"]
    table = _get(served, "admin", ROUTES[4])
    assert table.status_code == 200
    rows = pq.read_table(io.BytesIO(table.content)).to_pylist()
    assert {r["subject_id"] for r in rows} == {"c-1", "c-2", "c-3", "a-1", "a-2"}
    assert _get(served, "admin", "/reports/screening?format=pdf").status_code == 422
