"""A scanned home for the report tests: the real list mirror (the scan tests' template home,
cloned), the hand-built provider folder beside this file, and one real scan."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from computekyc.services import run_scan
from computekyc.settings import Settings

HERE = Path(__file__).resolve().parent


def _scan_conftest():  # type: ignore[no-untyped-def]
    """The scan tests' conftest (its template home and clone helper), imported once."""
    name = "computekyc_tests_scan_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, HERE.parent.parent / "scan" / "conftest.py"
        )
        assert spec is not None and spec.loader is not None
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


clone_home = _scan_conftest().clone_home
template_home = _scan_conftest().template_home
AS_OF = date(2026, 10, 31)


@dataclass(frozen=True)
class Scanned:
    settings: Settings
    provider: Path


@pytest.fixture(scope="module")
def scanned(
    template_home: Path,
    tmp_path_factory: pytest.TempPathFactory,
    lists_dir: Path,
) -> Iterator[Scanned]:
    """The provider folder scanned once per test module, with COMPUTEKYC_HOME pointing at it."""
    root = tmp_path_factory.mktemp("reports")
    provider = root / "provider"
    shutil.copytree(HERE / "provider", provider)
    settings = clone_home(template_home, root / "home")
    run_scan(settings, provider, lists=lists_dir, as_of=AS_OF)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPUTEKYC_HOME", str(settings.home))
        patch.delenv("COMPUTEKYC_DATABASE_URL", raising=False)
        yield Scanned(settings, provider)
