"""The rule timeline and country groups come from data files and answer by date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from computekyc.ownership import RuleSet, load_country_groups, load_rules


def test_affiliates_rule_timeline(rules: RuleSet) -> None:
    rule = rules.rule("bis_affiliates")
    assert rule.period(date(2025, 9, 28)).status == "not_yet"
    assert rule.period(date(2025, 9, 29)).status == "in_force"
    assert rule.period(date(2025, 11, 9)).status == "in_force"
    assert rule.period(date(2025, 11, 10)).status == "suspended"
    assert rule.period(date(2026, 11, 9)).status == "suspended"
    assert rule.period(date(2026, 11, 10)).status == "in_force"


def test_an_extension_is_a_data_edit(tmp_path: Path) -> None:
    data = yaml.safe_load(
        (Path(__file__).parents[2] / "src/computekyc/ownership/data/rules.yaml").read_text()
    )
    periods = data["rules"]["bis_affiliates"]["periods"]
    periods[2]["until"] = "2027-11-09"
    periods[3]["from"] = "2027-11-10"
    data["version"] = "test-extension"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    extended = load_rules(path)
    assert extended.rule("bis_affiliates").period(date(2026, 11, 20)).status == "suspended"
    assert extended.version_tag().startswith("rules test-extension")


def test_d5_membership_by_date() -> None:
    groups = load_country_groups()
    before, after = groups.members("D:5", date(2026, 1, 1)), groups.members("D:5", date(2026, 3, 1))
    assert {"CN", "RU", "IR", "KP", "VE"} <= after
    assert "KH" in before and "KH" not in after
    assert "SG" not in after and groups.members("MACAU", date(2026, 3, 1)) == {"MO"}
