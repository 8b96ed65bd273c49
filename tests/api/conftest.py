"""A real ``computekyc serve`` process on a free loopback port, over a home with lists, users and
alerts, called over HTTP (not the in-process test client)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from computekyc.alerts import AlertDraft, AlertStore, AlertType, Severity, Subject, SubjectKind
from computekyc.services.indexes import IndexHolder
from computekyc.settings import Settings
from computekyc.workflow import open_database

ROLES = {
    "viewer": "viewer",
    "analyst": "analyst",
    "analyst2": "analyst",
    "reviewer": "reviewer",
    "reviewer2": "reviewer",
    "auditor": "auditor",
    "admin": "admin",
}


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]
    tokens: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, user: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "computekyc", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def alert(customer: str, severity: Severity, party: str = "csl-x") -> AlertDraft:
    return AlertDraft(
        AlertType.RESTRICTED_PARTY_MATCH,
        severity,
        Subject(SubjectKind.CUSTOMER, customer, f"Customer {customer}"),
        f"Customer {customer} matches a listed party",
        {"party": party, "score": 0.93},
        discriminator=party,
    )


def start_server(env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "computekyc", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return url, process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise AssertionError("the server was not ready in 240 s")


def env_for(home: Path) -> dict[str, str]:
    env = {**os.environ, "COMPUTEKYC_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("COMPUTEKYC_DATABASE_URL", None)
    return env


@pytest.fixture(scope="session")
def template_home(
    tmp_path_factory: pytest.TempPathFactory, shared: Path
) -> tuple[Path, dict[str, str]]:
    """Lists (the CSL and the ZALA FtM cluster), one user per role, and 12 alerts; the screening
    index already built, so each server copied from it starts quickly."""
    home = tmp_path_factory.mktemp("api-template")
    env = env_for(home)
    lists = shared / "data" / "lists"
    archive = shared / "data" / "lists-archive"
    run_cli(
        env,
        "lists",
        "load",
        str(lists / "csl" / "consolidated.csv"),
        str(archive / "ftm" / "zala.ftm.json"),
    )
    tokens = {
        user: json.loads(run_cli(env, "users", "add", user, "--role", role, "--json"))["token"]
        for user, role in ROLES.items()
    }
    settings = Settings(home=home)
    engine = open_database(settings)
    drafts = [alert(f"c{i}", s) for i, s in enumerate(list(Severity) * 3)]
    with engine.begin() as conn:
        AlertStore(engine).sync(
            conn, drafts, in_scope=lambda k, i: True, snapshot="1", rule_versions={"t": "1"}
        )
    IndexHolder(settings).current()  # builds and caches the index in the home
    return home, tokens


@contextmanager
def running_server(template: tuple[Path, dict[str, str]], target: Path) -> Iterator[Server]:
    shutil.copytree(template[0], target)
    env = env_for(target)
    log = target / "server.log"
    url, process = start_server(env, log)
    try:
        yield Server(url, target, env, template[1], process, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def server(
    template_home: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(template_home, tmp_path_factory.mktemp("api") / "home") as running:
        yield running
