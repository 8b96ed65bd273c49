"""The casework policy file (``data/policy.yaml``): SLAs, four-eyes scope, subject statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

from computekyc.alerts import AlertType, Severity

SUBJECT_STATUSES = ("blocked", "license_required")


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    sla_days: dict[Severity, int]
    four_eyes: frozenset[Severity]
    default_status: str
    status_by_type: dict[AlertType, str]

    def due_on(self, opened: date, severity: Severity) -> date:
        return opened + timedelta(days=self.sla_days[severity])

    def needs_four_eyes(self, severity: Severity) -> bool:
        return severity in self.four_eyes

    def confirmed_status(self, alert_type: AlertType, evidence: dict[str, Any]) -> str:
        """What a confirmed critical alert makes of its subject."""
        named = evidence.get("status")
        if named in SUBJECT_STATUSES:
            return str(named)
        return self.status_by_type.get(alert_type, self.default_status)


@cache
def policy() -> Policy:
    text = (resources.files("computekyc.casework") / "data" / "policy.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    statuses = data["confirmed_critical_status"]
    by_type = {AlertType(k): str(v) for k, v in statuses["by_type"].items()}
    for status in [statuses["default"], *by_type.values()]:
        if status not in SUBJECT_STATUSES:
            raise AssertionError(f"policy.yaml: unknown subject status {status!r}")
    return Policy(
        version=str(data["version"]),
        sla_days={Severity(k): int(v) for k, v in data["sla_days"].items()},
        four_eyes=frozenset(Severity(s) for s in data["four_eyes"]),
        default_status=str(statuses["default"]),
        status_by_type=by_type,
    )
