"""The rule timeline and country groups, loaded from data files so dates stay configurable.

``RuleSet.period(rule, on)`` answers "was this rule in force on that date, and why"; the answer
comes from `data/rules.yaml`, never from code, so a new BIS extension is a data edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from computekyc.bulk import load_yaml

DATA = "computekyc.ownership.data"


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class Period:
    status: str  # in_force, suspended, not_yet, expired
    start: date | None
    end: date | None
    why: str

    def covers(self, on: date) -> bool:
        return (self.start is None or on >= self.start) and (self.end is None or on <= self.end)


@dataclass(frozen=True, slots=True)
class Rule:
    key: str
    title: str
    version: str
    periods: tuple[Period, ...]
    params: dict[str, Any]

    def period(self, on: date) -> Period:
        for period in self.periods:
            if period.covers(on):
                return period
        return Period("not_in_data", None, None, f"no period of {self.key} covers {on}")


@dataclass(frozen=True, slots=True)
class CountryGroups:
    version: str
    groups: dict[str, tuple[tuple[str, date | None, date | None], ...]]

    def members(self, group: str, on: date) -> set[str]:
        return {
            code
            for code, start, end in self.groups.get(group, ())
            if (start is None or on >= start) and (end is None or on <= end)
        }


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: str
    rules: dict[str, Rule]
    match_threshold: float
    possible_threshold: float
    significant_minority: float
    just_under: float
    countries: CountryGroups
    source_files: tuple[str, ...] = field(default=())
    # Safety limit on ownership levels followed; a deeper trace is reported for review.
    max_depth: int = 100
    # A person's name is common when every part is borne by at least this many listed persons.
    common_name_part: int = 10

    def rule(self, key: str) -> Rule:
        return self.rules[key]

    def version_tag(self) -> str:
        return f"rules {self.version}; country-groups {self.countries.version}"


def _read_yaml(path: Path | None, name: str) -> tuple[dict[str, Any], str]:
    if path is None:
        text = resources.files(DATA).joinpath(name).read_text(encoding="utf-8")
        return load_yaml(text), f"{DATA}/{name}"
    return load_yaml(path.read_text(encoding="utf-8")), str(path)


def load_country_groups(path: Path | None = None) -> CountryGroups:
    data, _ = _read_yaml(path, "country_groups.yaml")
    groups: dict[str, tuple[tuple[str, date | None, date | None], ...]] = {}
    for name, spec in data["groups"].items():
        groups[name] = tuple(
            (str(m["code"]).upper(), _date(m.get("from")), _date(m.get("until")))
            for m in spec["members"]
        )
    return CountryGroups(version=str(data["version"]), groups=groups)


def load_rules(path: Path | None = None, countries_path: Path | None = None) -> RuleSet:
    """Load the rule timeline (default: the packaged `data/rules.yaml`)."""
    data, origin = _read_yaml(path, "rules.yaml")
    countries = load_country_groups(countries_path)
    rules: dict[str, Rule] = {}
    for key, spec in data["rules"].items():
        periods = tuple(
            Period(
                status=str(p["status"]),
                start=_date(p.get("from")),
                end=_date(p.get("until")),
                why=str(p.get("why", "")),
            )
            for p in spec.get("periods", [])
        )
        params = {k: v for k, v in spec.items() if k not in {"title", "version", "periods"}}
        rules[key] = Rule(
            key=key,
            title=str(spec["title"]),
            version=str(spec["version"]),
            periods=periods,
            params=params,
        )
    screening = data.get("screening", {})
    flags = data.get("red_flags", {})
    trace = data.get("ownership_trace", {})
    return RuleSet(
        version=str(data["version"]),
        rules=rules,
        match_threshold=float(screening.get("match", 0.9)),
        possible_threshold=float(screening.get("possible", 0.8)),
        significant_minority=float(flags.get("significant_minority", 25.0)),
        just_under=float(flags.get("just_under", 40.0)),
        countries=countries,
        source_files=(origin,),
        max_depth=int(trace.get("max_depth", 100)),
        common_name_part=int(screening.get("common_name_part", 10)),
    )
