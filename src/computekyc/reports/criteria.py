"""What the reports include and why: ``reports/data/criteria.yaml``, each figure with its source."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from computekyc.bulk import load_yaml
from computekyc.exc import ConfigError

CRITERIA_FILE = "criteria.yaml"


@dataclass(frozen=True, slots=True)
class TrainingCriteria:
    """Which runs the training-run report lists (see the data file for the sources)."""

    version: str
    report_operations: float
    floor_operations: float
    domestic_countries: frozenset[str]
    restricted_statuses: frozenset[str]
    sources: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "report_operations": self.report_operations,
            "foreign_or_restricted_floor": self.floor_operations,
            "domestic_countries": sorted(self.domestic_countries),
            "restricted_statuses": sorted(self.restricted_statuses),
            "sources": dict(self.sources),
        }


@dataclass(frozen=True, slots=True)
class CertificationCriteria:
    version: str
    identified: dict[str, tuple[str, ...]]
    verified: dict[str, tuple[str, ...]]
    sources: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "identified": {k: list(v) for k, v in self.identified.items()},
            "verified": {k: list(v) for k, v in self.verified.items()},
            "sources": dict(self.sources),
        }


@cache
def _data() -> dict[str, Any]:
    text = resources.files("computekyc.reports").joinpath("data", CRITERIA_FILE).read_text("utf-8")
    data = load_yaml(text)
    if not isinstance(data, dict):
        raise ConfigError(f"{CRITERIA_FILE}: not a mapping")
    return data


@cache
def training_criteria() -> TrainingCriteria:
    try:
        data = _data()
        runs = data["training_runs"]
        return TrainingCriteria(
            version=str(data["version"]),
            report_operations=float(runs["report_operations"]["value"]),
            floor_operations=float(runs["foreign_or_restricted_floor"]["operations"]),
            domestic_countries=frozenset(
                str(c).upper() for c in runs["domestic_countries"]["value"]
            ),
            restricted_statuses=frozenset(str(s) for s in runs["restricted_statuses"]["value"]),
            sources={key: " ".join(str(value["source"]).split()) for key, value in runs.items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{CRITERIA_FILE}: training_runs malformed ({exc!r})") from exc


@cache
def certification_criteria() -> CertificationCriteria:
    try:
        data = _data()
        cert = data["certification"]
        return CertificationCriteria(
            version=str(data["version"]),
            identified={k: tuple(v) for k, v in cert["identified"].items() if k != "source"},
            verified={k: tuple(v) for k, v in cert["verified"].items() if k != "source"},
            sources={key: " ".join(str(value["source"]).split()) for key, value in cert.items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{CRITERIA_FILE}: certification malformed ({exc!r})") from exc
