"""Hand-built account records, one scenario per evidence kind and trap (ids start with ``h-``)."""

from __future__ import annotations

from typing import Any

from computekyc.linking.records import AccountRecord, parse_record

CN_ADMIN_IP = "1.0.1.1"  # in a CN range of the IPFire database
NAT_IP = "81.2.69.160"  # one corporate NAT (GB range)
RESELLER_IP = "52.94.10.10"
USAGE = {"h-prob-1": 6e24, "h-prob-2": 5e24, "h-pay-1": 1e20}


def _acct(account_id: str, name: str, country: str, **extra: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "name": name,
        "country": country,
        "created_at": "2026-03-01T00:00:00",
        **extra,
    }


def _events(*ips: str, action: str = "login") -> list[dict[str, str]]:
    return [
        {"ip": ip, "ts": f"2026-03-{10 + i:02d}T09:00:00", "action": action}
        for i, ip in enumerate(ips)
    ]


def scenario_dicts() -> list[dict[str, Any]]:
    rows = [
        # Same payment fingerprint, nothing else in common: deterministic.
        _acct(
            "h-pay-1",
            "Blue Harbor Analytics Inc.",
            "US",
            payment_fingerprints=["tok_shared_pay"],
            emails=["ops@blueharbor-analytics.com"],
        ),
        _acct(
            "h-pay-2",
            "Quiet Stone Labs LLC",
            "US",
            payment_fingerprints=["tok_shared_pay"],
            emails=["dev@quietstonelabs.io"],
        ),
        # Same verified identifier (a verified mailbox) — even on a free-mail domain.
        _acct(
            "h-ver-1",
            "Orchid Vector Research",
            "DE",
            emails=[{"value": "k.mueller.ml@proton.me", "verified": True}],
        ),
        _acct(
            "h-ver-2",
            "Kira Mueller",
            "DE",
            type="individual",
            emails=[{"value": "k.mueller.ml@proton.me", "verified": True}],
        ),
        # Same customer record of the determinations.
        _acct("h-cus-1", "Northwind Compute Ltd", "GB", customer_id="CUST-77"),
        _acct("h-cus-2", "Northwind Compute (R&D) Ltd", "GB", customer_id="CUST-77"),
        # Probabilistic: different names, shared phone, admin IP and owner; a Singapore front
        # administered from the mainland; renamed three days after opening.
        _acct(
            "h-prob-1",
            "Shenzhen Lanhai Zhineng Co., Ltd.",
            "CN",
            phones=["+86 138 0013 8000"],
            beneficial_owners=["Zhao Lei"],
            ip_log=_events(CN_ADMIN_IP, action="admin"),
            history=[
                {
                    "ts": "2026-03-04T00:00:00",
                    "field": "name",
                    "old": "Lanhai Trading",
                    "new": "Shenzhen Lanhai Zhineng Co., Ltd.",
                }
            ],
        ),
        _acct(
            "h-prob-2",
            "Merlion Deep Compute Pte. Ltd.",
            "SG",
            phones=["+86-138-0013-8000"],
            beneficial_owners=["ZHAO Lei"],
            ip_log=_events(CN_ADMIN_IP, CN_ADMIN_IP, action="admin"),
        ),
        # Two very common names on free-mail: strangers.
        _acct(
            "h-common-1",
            "Wang Wei",
            "CN",
            type="individual",
            emails=["wangwei1988@gmail.com"],
            phones=["+86 139 1111 2222"],
        ),
        _acct(
            "h-common-2",
            "Wang Wei",
            "CN",
            type="individual",
            emails=["wei.wang.sh@gmail.com"],
            phones=["+86 137 3333 4444"],
        ),
        # A reseller paying for sub-accounts of unrelated end customers in many countries,
        # all set up from the reseller's office IP.
        _acct(
            "h-res",
            "Pacific Bridge Cloud Pte. Ltd.",
            "SG",
            emails=["billing@pacbridge.sg"],
            ip_log=_events(RESELLER_IP),
        ),
    ]
    for i, (name, country) in enumerate(
        [
            ("Volga Neural OOO", "RU"),
            ("Saigon Vision JSC", "VN"),
            ("Tehran Data Lab", "IR"),
            ("Hangzhou Yunsuan Co., Ltd.", "CN"),
        ],
        start=1,
    ):
        rows.append(
            _acct(
                f"h-sub-{i}",
                name,
                country,
                billing_account_id="h-res",
                ip_log=_events(RESELLER_IP),
                emails=[f"user{i}@outlook.com"],
            )
        )
    # The NAT trap: twelve unrelated start-ups behind one coworking NAT at one address.
    for i in range(1, 13):
        rows.append(
            _acct(
                f"h-nat-{i:02d}",
                f"Startup {chr(64 + i)}{chr(80 + i)} Robotics Ltd",
                "GB",
                ip_log=_events(NAT_IP),
                addresses=["1 Canada Square, London E14 5AB"],
                emails=[f"team@startup{i}.co.uk"],
                phones=[f"+44 20 7000 {1000 + i}"],
                payment_fingerprints=[f"tok_nat_{i}"],
            )
        )
    return rows  # fmt: skip


def scenario_records() -> list[AccountRecord]:
    return [parse_record(row) for row in scenario_dicts()]
