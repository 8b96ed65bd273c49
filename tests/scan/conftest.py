"""A home with the real list mirror loaded, made once per test session and cloned per test.

Loading the mirror and building its screening index take about a minute: the template home is
made once; each test gets a copy of its SQLite database and of the index cache (renamed to the
copy's cache key, which includes the database URL).
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

import pytest

from computekyc.lists.store import ListStore
from computekyc.screening import ScreeningIndex, snapshot_cache_key
from computekyc.services import ensure_snapshot, index_holder
from computekyc.settings import Settings
from computekyc.workflow.db import engine_for

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "provider"
AS_OF = "2026-11-30"


@pytest.fixture(scope="session")
def geoip_dir(shared: Path) -> Path:
    return shared / "data" / "ip"


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory, lists_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("scan-template")
    settings = Settings(home=home)
    ensure_snapshot(settings, lists_dir)
    index_holder(settings).current()  # builds and caches the index
    return home


def copy_index_cache(source: Settings, target: Settings) -> None:
    """Make the target home's index cache hold the source's index for the same snapshot."""
    for info in ListStore(engine_for(target)).snapshots():
        old = snapshot_cache_key(info.id, info.created_at, source.sqlalchemy_url)
        new = snapshot_cache_key(info.id, info.created_at, target.sqlalchemy_url)
        path = ScreeningIndex.cache_path(source.home, old)
        if path.is_file():
            dest = ScreeningIndex.cache_path(target.home, new)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)


def clone_home(template: Path, home: Path, geoip: Path | None = None) -> Settings:
    """A copy of the template home (database and index cache) at ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(template / "computekyc.db")
    target = sqlite3.connect(home / "computekyc.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    settings = Settings(home=home, geoip_dir=geoip)
    copy_index_cache(Settings(home=template), settings)
    return settings


@pytest.fixture()
def scan_settings(template_home: Path, tmp_path: Path, geoip_dir: Path) -> Settings:
    return clone_home(template_home, tmp_path / "home", geoip_dir)


@pytest.fixture()
def provider(tmp_path: Path) -> Path:
    """A writable copy of the example provider folder."""
    target = tmp_path / "provider"
    shutil.copytree(EXAMPLE, target)
    return target


def load_test_module(relative: str) -> ModuleType:
    """A helper module of another test package (the suite imports in importlib mode)."""
    name = "computekyc_tests_" + relative.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
