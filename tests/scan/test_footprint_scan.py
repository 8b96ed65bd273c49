"""The scan looks at what tenants run: account e-mail domains, the customer record's domains,
resource names and tags, charge descriptions — against the reviewed table of what listed firms
run. A hand-built book on the real list mirror."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from computekyc.alerts import AlertStore
from computekyc.services import run_scan
from computekyc.settings import Settings
from computekyc.usage.generate import FOCUS_COLUMNS as GENERATED_FOCUS_COLUMNS
from computekyc.workflow import open_database

from .conftest import AS_OF

# The generator's FOCUS columns, plus what a tenant names and tags.
FOCUS_COLUMNS = [*GENERATED_FOCUS_COLUMNS, "ResourceName", "Tags"]

CUSTOMERS = [
    # An innocuously named reseller whose account mails from a listed firm's product domain.
    {"id": "f-1", "name": "Harbor Lane Trading Pte. Ltd.", "type": "company", "country": "SG"},
    # A tenant whose resources are named and tagged for a listed firm's cloud product.
    {
        "id": "f-2",
        "name": "Pixel Grove Ltd",
        "type": "company",
        "country": "GB",
        "website": "https://pixelgrove.example",
    },
    # A person whose name holds a listed brand word; a club whose domain holds one as a substring.
    {"id": "f-3", "name": "Dahua Zhang", "type": "person", "country": "CA"},
    {
        "id": "f-4",
        "name": "Hiking Club Berlin e.V.",
        "type": "organization",
        "country": "DE",
        "website": "https://www.hikingclub.de",
    },
    # The customer record itself names a listed firm's domain.
    {
        "id": "f-5",
        "name": "Blue Reef Systems Sdn. Bhd.",
        "type": "company",
        "country": "MY",
        "emails": ["it@imoulife.com"],
    },
]
ACCOUNTS = [
    {
        "account_id": "fa-1",
        "customer_id": "f-1",
        "name": "Harbor Lane Trading",
        "country": "SG",
        "emails": ["ops@cloud.ezvizlife.com"],
    },
    {
        "account_id": "fa-2",
        "customer_id": "f-2",
        "name": "Pixel Grove",
        "country": "GB",
        "emails": ["admin@pixelgrove.example"],
    },
    {
        "account_id": "fa-3",
        "customer_id": "f-3",
        "name": "Dahua Zhang",
        "type": "person",
        "country": "CA",
        "emails": ["dahua.zhang@gmail.com"],
    },
    {
        "account_id": "fa-4",
        "customer_id": "f-4",
        "name": "Hiking Club Berlin",
        "country": "DE",
        "emails": ["board@hikingclub.de"],
    },
    {
        "account_id": "fa-5",
        "customer_id": "f-5",
        "name": "Blue Reef Systems",
        "country": "MY",
        "emails": ["cloud@bluereef.example"],
    },
]


def _usage_row(account: str, name: str, resource: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "BilledCost": "98.32",
        "BillingAccountId": "BA-1",
        "BillingAccountName": "Cloud",
        "BillingCurrency": "USD",
        "BillingPeriodEnd": "2026-12-01T00:00:00Z",
        "BillingPeriodStart": "2026-11-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeDescription": "g6.xlarge on-demand",
        "ChargePeriodEnd": "2026-11-11T00:00:00Z",
        "ChargePeriodStart": "2026-11-10T00:00:00Z",
        "ConsumedQuantity": "24",
        "ConsumedUnit": "Hours",
        "EffectiveCost": "98.32",
        "ListCost": "98.32",
        "ProviderName": "Cloud",
        "PublisherName": "Cloud",
        "RegionId": "eu-west-2",
        "ResourceId": f"vm-{account}",
        "ResourceName": resource,
        "ResourceType": "Virtual Machine",
        "ServiceCategory": "Compute",
        "ServiceName": "GPU Cloud",
        "SkuId": "SKU-g6.xlarge",
        "SkuPriceDetails": json.dumps({"GpuCount": 1, "InstanceType": "g6.xlarge"}),
        "SubAccountId": account,
        "SubAccountName": name,
        "Tags": json.dumps(tags),
        "x_Operation": "RunInstances",
    }


def _book(folder: Path) -> Path:
    (folder / "usage").mkdir(parents=True)
    for name, rows in (("customers.jsonl", CUSTOMERS), ("accounts.jsonl", ACCOUNTS)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with (folder / "usage" / "focus.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, FOCUS_COLUMNS)
        writer.writeheader()
        writer.writerow(
            _usage_row(
                "fa-2",
                "Pixel Grove",
                "hik-connect-relay-01",
                {"product": "HikConnect", "env": "prod"},
            )
        )
        writer.writerow(_usage_row("fa-3", "Dahua Zhang", "dahua-thesis-gpu", {"owner": "dahua"}))
        writer.writerow(
            _usage_row("fa-4", "Hiking Club Berlin", "hikingclub-site", {"team": "hiking"})
        )
    return folder


def test_what_tenants_run_raises_alerts_and_look_alikes_stay_quiet(
    scan_settings: Settings, tmp_path: Path, lists_dir: Path
) -> None:
    run_scan(
        scan_settings, _book(tmp_path / "book"), lists=lists_dir, as_of=date.fromisoformat(AS_OF)
    )
    alerts = [
        a.to_dict()
        for a in AlertStore(open_database(scan_settings)).list(status=None)
        if a.type == "listed_brand_or_domain"
    ]
    by_subject = {a["subject"]["id"]: a for a in alerts}
    assert set(by_subject) == {"fa-1", "fa-2", "f-5"}, sorted(by_subject)

    reseller = by_subject["fa-1"]
    assert reseller["severity"] == "high"
    hit = reseller["evidence"]["hits"][0]
    assert hit["matched"] == "ezvizlife.com" and hit["field"] == "emails"
    assert hit["table_row"]["source"].startswith("https://")
    assert "Hikvision" in reseller["evidence"]["listed_name"]
    assert {p["source"] for p in reseller["evidence"]["listed_parties"]} >= {"EL"}

    tenant = by_subject["fa-2"]
    assert tenant["severity"] == "medium"
    fields = {h["field"] for h in tenant["evidence"]["hits"]}
    assert {"resource_name", "tags"} <= fields

    record = by_subject["f-5"]
    assert record["severity"] == "high" and record["subject"]["kind"] == "customer"
    assert record["evidence"]["listed_name"] == "Dahua Technology"
