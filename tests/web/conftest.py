"""A real ``computekyc serve`` over a scanned provider book, and Debian's Chromium driven by
Playwright: one server and one browser for the whole web test session.

The home is made once: a list snapshot (the CSL, DoD 1260H and the ZALA FtM cluster), the
example provider book scanned (real alerts with their evidence), a few alerts on subjects with
Cyrillic and Arabic names, and one user per role with a password set through
``users add --password-stdin``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from computekyc.alerts import AlertDraft, AlertStore, AlertType, Severity, Subject, SubjectKind
from computekyc.services import casework, run_scan
from computekyc.settings import Settings
from computekyc.users import local_operator
from computekyc.workflow import open_database

from ..api.conftest import env_for, run_cli, start_server

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("COMPUTEKYC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# user → (role, password)
USERS = {
    "ana": ("analyst", "ana-correct-horse"),
    "rita": ("reviewer", "rita-battery-staple"),
    "vic": ("viewer", "vic-viewer-pass"),
    "audrey": ("auditor", "audrey-audit-pass"),
    "adam": ("admin", "adam-admin-pass"),
}
# Subjects in other scripts, as a provider's book holds them.
SCRIPTS = {
    "c-ru": "Акционерное общество «Научно-производственное объединение Вымпел»",
    "c-ar": "شركة الحاسوب المتقدم للتقنية",
}


@dataclass
class WebServer:
    url: str
    home: Path
    tokens: dict[str, str]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _script_alerts(home: Path) -> None:
    drafts = [
        AlertDraft(
            AlertType.RESTRICTED_PARTY_MATCH,
            Severity.MEDIUM,
            Subject(SubjectKind.CUSTOMER, customer, name),
            f"customer {name!r} is a possible match",
            {"name": name, "hits": []},
            discriminator="script",
        )
        for customer, name in SCRIPTS.items()
    ]
    engine = open_database(Settings(home=home))
    with engine.begin() as conn:
        AlertStore(engine).sync(
            conn,
            drafts,
            in_scope=lambda kind, subject: subject in SCRIPTS,
            snapshot="snapshot-1",
            rule_versions={"test": "1"},
        )


@pytest.fixture(scope="session")
def web_home(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("web") / "home"
    home.mkdir()
    env = env_for(home) | {"COMPUTEKYC_GEOIP_DIR": str(shared / "data" / "ip")}
    lists = shared / "data" / "lists"
    run_cli(
        env,
        "lists",
        "load",
        str(lists / "csl" / "consolidated.csv"),
        str(lists / "opensanctions-sources" / "us_dod_1260h.csv"),
        str(shared / "data" / "lists-archive" / "ftm" / "zala.ftm.json"),
    )
    settings = Settings(home=home, geoip_dir=shared / "data" / "ip")
    run_scan(settings, REPO / "examples" / "provider", as_of=date(2026, 11, 30))
    _script_alerts(home)
    tokens = {
        user: casework.add_user(settings, local_operator(), user, role, password=password).token
        for user, (role, password) in USERS.items()
    }
    return home, tokens


@pytest.fixture(scope="session")
def web_server(web_home: tuple[Path, dict[str, str]]) -> Iterator[WebServer]:
    home, tokens = web_home
    log = home.parent / "server.log"
    url, process = start_server(env_for(home), log)
    try:
        yield WebServer(url, home, tokens, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save their screenshots (printed at the end of the session)."""
    wanted = os.environ.get("COMPUTEKYC_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("web-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"Chromium not found at {CHROMIUM} (.ci/run installs Debian's chromium)"
        if os.environ.get("COMPUTEKYC_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def sign_in_client(server: WebServer, user: str) -> Iterator[httpx.Client]:
    """An HTTP client holding a signed-in session (a browser without the browser)."""
    with httpx.Client(base_url=server.url, headers={"Accept": "text/html"}, timeout=60) as client:
        csrf = csrf_of(client, "/login")
        answer = client.post(
            "/login",
            data={"csrf": csrf, "username": user, "password": USERS[user][1], "next": "/alerts"},
        )
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(client: httpx.Client, path: str = "/alerts") -> str:
    text = client.get(path).text
    return text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
