"""A home with the real CSL loaded and a hand-built provider folder scanned, made once per test
session and copied per test (loading the list and building its index take the longest)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.services import index_holder, run_scan
from computekyc.services.lists import audited_list_store
from computekyc.settings import Settings

AS_OF = "2026-11-30"

CUSTOMERS: list[dict[str, Any]] = [
    {
        "id": "c-1",
        "name": "Hangzhou Hikvision Digital Technology Co., Ltd.",
        "type": "entity",
        "country": "CN",
        "headquarters_country": "CN",
        "addresses": ["555 Qianmo Road, Binjiang District, Hangzhou"],
    },
    {
        "id": "c-2",
        "name": "Northwind Robotics Inc.",
        "type": "organization",
        "country": "US",
        "headquarters_country": "US",
        "owners": [{"name": "Jane Whitfield", "type": "person", "country": "US", "share": 100}],
    },
    {
        "id": "c-3",
        "name": "Aurora Analytics GmbH",
        "type": "Company",
        "country": "DE",
        "headquarters_country": "DE",
        "other_names": ['=HYPERLINK("http://x")'],  # must not become a spreadsheet formula
    },
]
ACCOUNTS: list[dict[str, Any]] = [
    {
        "account_id": "a-1",
        "customer_id": "c-1",
        "name": "Hikvision Cloud Lab",
        "type": "organization",
        "country": "CN",
        "emails": ["lab@example.cn"],
        "payment_fingerprints": ["tok_hk_0001"],
        "created_at": "2026-03-02T10:00:00Z",
    },
    {
        "account_id": "a-2",
        "customer_id": "c-2",
        "name": "Northwind Robotics Inc.",
        "type": "organization",
        "country": "US",
        "emails": ["cloud@northwind-robotics.example"],
        "payment_fingerprints": ["tok_nw_0002"],
        "created_at": "2026-03-02T10:00:00Z",
    },
]


# Slurm accounting: Hikvision's account rents 8 H100 for two days in November.
SACCT = (
    "JobID|JobIDRaw|JobName|Account|User|Partition|AllocTRES|AllocNodes|NNodes|NodeList|Start|"
    "End|Elapsed|ElapsedRaw|State|TRESUsageInAve|Cluster\n"
    "9001|9001|train|a-1|u-a-1|gpu|billing=64,cpu=64,gres/gpu=8,gres/gpu:h100=8,node=1|1|1|"
    "gpu[001-001]|2026-11-10T00:00:00|2026-11-12T00:00:00|2-00:00:00|172800|COMPLETED||clusterH\n"
)


def write_provider(folder: Path) -> Path:
    (folder / "usage").mkdir(parents=True, exist_ok=True)
    (folder / "usage" / "sacct-2026-11.txt").write_text(SACCT, encoding="utf-8")
    for name, records in (("customers.jsonl", CUSTOMERS), ("accounts.jsonl", ACCOUNTS)):
        with (folder / name).open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


@pytest.fixture(scope="session")
def scanned_template(tmp_path_factory: pytest.TempPathFactory, lists_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("reports-template") / "home"
    settings = Settings(home=home)
    audited_list_store(settings).load_files([lists_dir / "csl" / "consolidated.csv"])
    index_holder(settings).current()
    provider = write_provider(home.parent / "provider")
    run_scan(settings, provider, as_of=date.fromisoformat(AS_OF))
    return home


@pytest.fixture()
def home(scanned_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the scanned home, as $COMPUTEKYC_HOME."""
    target = tmp_path / "home"
    shutil.copytree(scanned_template, target)
    monkeypatch.setenv("COMPUTEKYC_HOME", str(target))
    monkeypatch.delenv("COMPUTEKYC_DATABASE_URL", raising=False)
    return target


@pytest.fixture()
def cli() -> Callable[..., Any]:
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke
