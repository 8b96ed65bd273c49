"""The workflow database on both backends for the casework, users and audit tests.

SQLite in the test's tmp folder, or a fresh database on one real throwaway PostgreSQL server
(tests/lists/postgres.py) shared by every test package that loads this file: it is loaded
under one module name, so the server is started once per session and stopped at exit.
"""

from __future__ import annotations

import atexit
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from computekyc.settings import Settings
from computekyc.workflow.db import engine_for

_NAME = "computekyc_tests_postgres"


def _postgres_module() -> Any:
    module = sys.modules.get(_NAME)
    if module is None:
        path = Path(__file__).resolve().parents[1] / "lists" / "postgres.py"
        spec = importlib.util.spec_from_file_location(_NAME, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return module


_server: list[Any] = []


def postgres_server() -> Any:
    """The session's server (started on first use; skipped or failed as postgres.py says)."""
    if not _server:
        running: Iterator[Any] = _postgres_module().running_server()
        server = next(running)  # skips or fails the test when there is no PostgreSQL
        atexit.register(running.close)  # runs the generator's finally: stops the server
        _server.append(server)
    return _server[0]


def workflow_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings whose workflow database is new and empty on the given backend."""
    home = tmp_path / "home"
    url = postgres_server().new_database() if backend == "postgresql" else None
    settings = Settings(home=home, database_url=url)
    yield settings
    engine_for(settings).dispose()  # a PostgreSQL server has few connection slots


BACKENDS = ["sqlite", "postgresql"]


class Desk:
    """A compliance desk on one workflow database: users, and alerts raised the way a scan does
    (``AlertStore.sync``)."""

    def __init__(self, settings: Settings) -> None:
        from computekyc.alerts import AlertStore
        from computekyc.workflow import open_database

        self.settings = settings
        self.store = AlertStore(open_database(settings))

    def user(self, name: str, role: str) -> Any:
        from computekyc.services import casework as service
        from computekyc.users import local_operator

        service.add_user(self.settings, local_operator(), name, role)
        return service.acting_user(self.settings, name)

    @staticmethod
    def draft(
        *,
        customer: str = "c1",
        severity: str = "critical",
        alert_type: str = "restricted_party_match",
        party: str = "csl-1",
        score: float = 0.93,
        owners: tuple[str, ...] = (),
        entity: str | None = None,
        status: str | None = None,
    ) -> Any:
        from computekyc.alerts import AlertDraft, AlertType, Severity, Subject, SubjectKind

        evidence: dict[str, Any] = {"party": party, "score": score, "owners": list(owners)}
        if entity is not None:
            evidence["entity_id"] = entity
        if status is not None:
            evidence["status"] = status
        return AlertDraft(
            AlertType(alert_type),
            Severity(severity),
            Subject(SubjectKind.CUSTOMER, customer, f"Customer {customer}"),
            f"Customer {customer} matches {party}",
            evidence,
            discriminator=party if alert_type == "restricted_party_match" else "",
            material={"party": party, "band": round(score, 1), "owners": sorted(owners)},
        )

    def sync(self, *drafts: Any, snapshot: str = "7") -> Any:
        with self.store.engine.begin() as connection:
            return self.store.sync(
                connection,
                list(drafts),
                in_scope=lambda kind, subject: False,  # never resolve what a test left out
                snapshot=snapshot,
                rule_versions={"rules": "2026-11-26.1"},
            )

    def alert(self, **draft: Any) -> Any:
        """Raise one alert (or update it) and return it as stored."""
        made = self.draft(**draft)
        self.sync(made)
        return next(a for a in self.store.list(status=None) if a.key == made.key)
