"""The workflow-database fixtures of tests/audit/conftest.py (both backends), shared here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "computekyc_tests_audit_fixtures", Path(__file__).resolve().parents[1] / "audit" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
settings = _fixtures.settings
sqlite_settings = _fixtures.sqlite_settings
desk = _fixtures.desk
sqlite_desk = _fixtures.sqlite_desk
