"""A real, throwaway PostgreSQL server for the tests (no mocks): initdb + pg_ctl in a tmp dir.

The server listens only on a Unix socket in its own tmp dir (``listen_addresses=''``), so it
never clashes with another server on the machine. PostgreSQL refuses to run as root: when the
tests run as root, initdb and pg_ctl run as the ``postgres`` user (made by the Debian package)
through ``runuser`` and the tmp dir is handed to that user. No binaries found: the tests are
skipped, or fail when ``COMPUTEKYC_REQUIRE_POSTGRES=1`` (CI sets it, so a missing server can
never turn the scale-out path into silent skips).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

REQUIRE_ENV = "COMPUTEKYC_REQUIRE_POSTGRES"
SERVER_USER = "postgres"  # the unprivileged account the Debian package creates
DB_USER = "computekyc"  # the superuser initdb creates inside the throwaway cluster


def find_bindir() -> Path | None:
    """The folder of initdb/pg_ctl: from PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        # /usr/local/bin/initdb may be a symlink: the real folder also holds pg_ctl and postgres.
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
    )
    return Path(versions[-1]).parent if versions else None


class PostgresServer:
    """One cluster in a tmp dir; ``url()`` gives SQLAlchemy URLs of its databases."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ck-pg-"))  # short: socket paths max 107 bytes
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.prefix: list[str] = []
        self._ids = itertools.count(1)
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(SERVER_USER)
            except KeyError:
                shutil.rmtree(self.root)
                pytest.fail(
                    f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL "
                    "(it refuses to run as root): install the Debian postgresql package"
                )
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", SERVER_USER, "--"]

    def _run(self, *args: str) -> None:
        command = [*self.prefix, str(self.bindir / args[0]), *args[1:]]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            pytest.fail(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        # trust on the socket only; fsync off: a test cluster need not survive a power cut.
        self._run(
            "initdb", "-D", str(self.data), "-U", DB_USER, "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        options = f"-k {self.root} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{DB_USER}@/{database}?host={self.root}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a file-level copy of ``template`` if given); its URL."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        engine.dispose()
        return self.url(name)

    def new_database(self, template: str | None = None) -> str:
        """A database of its own for one test (``CREATE DATABASE … TEMPLATE`` takes ~0.1 s)."""
        return self.create_database(f"test_{next(self._ids)}", template)


def running_server() -> Iterator[PostgresServer]:
    """Start a server for the session; skipped (or failed under CI) without binaries."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL not found (no initdb on PATH or in /usr/lib/postgresql/*/bin)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message}, and {REQUIRE_ENV}=1: install the postgresql package")
        pytest.skip(message)
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
