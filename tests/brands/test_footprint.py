"""The listed-firm footprint table and matcher: sources, resolution on the real lists, domain and
token rules, and the false-alert rate on a generated account population."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from computekyc.brands import (
    FootprintKind,
    FootprintMatcher,
    Signal,
    host_of,
    load_rows,
    packaged_rows,
    parse_table,
    resolve_listed,
)
from computekyc.exc import InputError
from computekyc.lists import read_mirror

FIRMS = (
    "Hikvision",
    "Dahua",
    "SenseTime",
    "Megvii",
    "IFLYTEK",
    "CloudWalk",
    "Yitu",
    "Inspur",
    "Sugon",
    "Huawei Cloud",
    "DJI",
    "Hesai",
    "Cambricon",
    "Biren",
    "Moore Thread",
)


@pytest.fixture(scope="module")
def matcher() -> FootprintMatcher:
    return FootprintMatcher(packaged_rows())


def test_every_row_has_a_public_source() -> None:
    rows = packaged_rows()
    assert len(rows) >= 60
    for row in rows:
        assert row.source.startswith(("https://", "http://")), row.origin


def test_table_covers_the_listed_firms() -> None:
    names = " ".join(row.listed_name for row in packaged_rows()).lower()
    for firm in FIRMS:
        assert firm.lower() in names, firm


def test_every_listed_name_is_a_party_on_the_real_lists(lists_dir: Path) -> None:
    parties = [p for parsed in read_mirror(lists_dir) for p in parsed.parties]
    resolved = resolve_listed(packaged_rows(), parties)
    unresolved = [name for name, found in resolved.items() if not found]
    assert unresolved == []
    hikvision = resolved["Hangzhou Hikvision Digital Technology Co., Ltd."]
    assert {p.source for p in hikvision} >= {"EL"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ops@cloud.ezvizlife.com", "ezvizlife.com"),
        ("https://www.hik-connect.com/login", "hik-connect.com"),
        ("billing@Imoulife.COM", "imoulife.com"),
        ("portal.huaweicloud.com.", "huaweicloud.com"),
        ("info@hikingclub.de", None),  # a substring, not Hikvision
        ("admin@myhikvision.com", None),  # a different registrable domain
        ("dahua.zhang@gmail.com", None),  # a brand word in the local part only
        ("hikvision.com.evil.example", None),  # the table domain must be the suffix
    ],
)
def test_domains_match_exactly_or_as_subdomains(
    matcher: FootprintMatcher, value: str, expected: str | None
) -> None:
    hits = matcher.match_domain_value(Signal.EMAIL_DOMAIN, "emails", value)
    assert [h.matched for h in hits] == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hik-connect-prod-01", {"Hik-Connect"}),
        ("HikConnectGateway", {"Hik-Connect"}),
        ("sensenova-finetune-7b", {"SenseNova"}),
        ("face++ api relay", {"Face++"}),
        ("ezviz_cloud_storage", {"EZVIZ"}),
        ("Imou DSS relay node", {"Imou", "DSS"}),
        ("dahua-dss-prod", {"Dahua", "DSS"}),  # two weak rows of one firm corroborate
        ("SenseNovaTrainer", {"SenseNova"}),
        ("hikconnected", set()),  # not whole tokens
        ("Sense Nova Vision Pte. Ltd.", set()),  # a compound product must be one written word
        ("cloud-matrix-analytics", set()),
        ("dahua-thesis-gpu", set()),  # a common given name alone stays quiet
        ("ascend-to-the-top", set()),  # a common English word alone stays quiet
        ("musa-cluster", set()),
        ("llama-finetune", set()),
    ],
)
def test_products_match_as_whole_tokens(
    matcher: FootprintMatcher, value: str, expected: set[str]
) -> None:
    hits = matcher.match_text(Signal.RESOURCE_NAME, "ResourceName", value)
    assert {h.row.value for h in hits if h.row.kind is FootprintKind.PRODUCT} == expected


def test_domains_inside_tags_are_found(matcher: FootprintMatcher) -> None:
    hits = matcher.match_text(Signal.TAG, "Tags", '{"endpoint": "api.faceplusplus.com"}')
    assert "faceplusplus.com" in {h.matched for h in hits}


def test_host_of_reads_emails_urls_and_bare_domains() -> None:
    assert host_of("a@b.example.com") == "b.example.com"
    assert host_of("https://x.example.org:8443/p?q=1") == "x.example.org"
    assert host_of("example.net/path") == "example.net"
    assert host_of("not a domain") is None
    assert host_of("") is None


def test_analysts_extend_the_table_in_the_home(tmp_path: Path) -> None:
    (tmp_path / "listed_footprint.csv").write_text(
        "kind,value,listed_name,operator,strength,source\n"
        "domain,example-front.com,Megvii Technology,Front Ltd,strong,https://example.org/filing\n",
        encoding="utf-8",
    )
    rows = load_rows(tmp_path)
    assert rows[-1].value == "example-front.com"
    assert rows[-1].origin.endswith("listed_footprint.csv:2")
    hit = FootprintMatcher(rows).match_domain_value(
        Signal.WEBSITE_DOMAIN, "website", "https://www.example-front.com"
    )
    assert hit and hit[0].row.listed_name == "Megvii Technology"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("kind,value,listed_name,operator,strength,source\nsite,x.com,A,,strong,s\n", "kind"),
        ("kind,value,listed_name,operator,strength,source\ndomain,x.com,A,,maybe,s\n", "strength"),
        ("kind,value,listed_name,operator,strength,source\ndomain,x.com,A,,strong,\n", "source"),
        (
            "kind,value,listed_name,operator,strength,source\ndomain,not a domain,A,,strong,s\n",
            "value",
        ),
    ],
)
def test_bad_rows_name_file_line_and_field(text: str, field: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_table("# comment\n" + text, "extra.csv")
    assert caught.value.field == field
    assert caught.value.line == 3
    assert str(caught.value).startswith("extra.csv:3: ")


def test_false_alert_rate_on_generated_accounts(
    tmp_path: Path, shared: Path, matcher: FootprintMatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from computekyc.linking.generate import write_population

    path = tmp_path / "accounts.jsonl"
    write_population(5000, path, seed=11, geoip_dir=shared / "data" / "ip")
    accounts = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    flagged = 0
    for account in accounts:
        values = [(Signal.EMAIL_DOMAIN, e) for e in account.get("emails", [])]
        values.append((Signal.RESOURCE_NAME, account.get("name", "")))
        if any(
            matcher.match_domain_value(s, "x", v) or matcher.match_text(s, "x", v)
            for s, v in values
        ):
            flagged += 1
    # The generated population holds no listed firm's domain or product: any hit is false.
    assert flagged / len(accounts) <= 0.001, flagged
