"""Fixtures of the audit, casework and users tests: the workflow database on SQLite and on real
PostgreSQL. tests/casework and tests/users load this file (see their conftest.py); modules using
``settings`` carry ``xdist_group("postgres")`` so one xdist worker owns the server."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from computekyc.settings import Settings


def load_backends() -> Any:
    """tests/audit/backends.py, loaded once under one name by every package that uses it."""
    name = "computekyc_tests_backends"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent / "backends.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


backends = load_backends()


@pytest.fixture(params=backends.BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings with a fresh workflow database, once on SQLite and once on PostgreSQL."""
    yield from backends.workflow_settings(request.param, tmp_path)


@pytest.fixture()
def sqlite_settings(tmp_path: Path) -> Iterator[Settings]:
    yield from backends.workflow_settings("sqlite", tmp_path)


@pytest.fixture()
def desk(settings: Settings) -> Any:
    return backends.Desk(settings)


@pytest.fixture()
def sqlite_desk(sqlite_settings: Settings) -> Any:
    return backends.Desk(sqlite_settings)
