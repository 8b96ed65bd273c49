"""Alerts: what a scan raises about a customer, an account or a linked entity, and why."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AlertType(StrEnum):
    RESTRICTED_PARTY_MATCH = "restricted_party_match"
    OWNERSHIP_BLOCKED = "ownership_blocked"  # OFAC 50% rule
    AFFILIATES_RULE = "affiliates_rule"
    HEADQUARTERS_D5 = "headquarters_d5"
    CONTROLLED_RENTAL = "controlled_rental"
    TRAINING_THRESHOLD = "training_threshold"
    LINKED_TO_RESTRICTED = "linked_to_restricted"
    RESELLER = "reseller"
    STRUCTURING = "structuring"
    ACCESS_GEOGRAPHY = "access_geography"
    IDENTITY_CHURN = "identity_churn"
    UNCLASSIFIED_HARDWARE = "unclassified_hardware"
    LISTED_BRAND_OR_DOMAIN = "listed_brand_or_domain"
    DETERMINATION_REVIEW = "determination_review"  # data missing or uncorroborated: review


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for critical … 3 for low: sorts the queue most severe first."""
        return list(Severity).index(self)


class AlertStatus(StrEnum):
    OPEN = "open"
    PENDING_APPROVAL = "pending_approval"
    CLOSED = "closed"
    SUPPRESSED = "suppressed"


class SubjectKind(StrEnum):
    CUSTOMER = "customer"
    ACCOUNT = "account"
    ENTITY = "entity"


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: str
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": str(self.kind), "id": self.id}
        if self.name is not None:
            data["name"] = self.name
        return data


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: equal content gives equal text (and hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fingerprint_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@dataclass(slots=True)
class AlertDraft:
    """An alert as an engine raises it during a scan, before it meets the stored queue.

    ``discriminator`` tells apart alerts of one type on one subject (the listed party id, the
    threshold, the linked entity…); with type and subject it makes the deduplication key.
    ``material`` is what a change of would re-open a decided or suppressed alert (the listed
    party, its snapshot version, the score band, the owners…); it defaults to the evidence.
    """

    type: AlertType
    severity: Severity
    subject: Subject
    summary: str
    evidence: dict[str, Any]
    discriminator: str = ""
    material: Any = None

    @property
    def key(self) -> str:
        return "|".join(
            [str(self.type), str(self.subject.kind), self.subject.id, self.discriminator]
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.evidence if self.material is None else self.material)


@dataclass(slots=True)
class Alert:
    """A stored alert. ``to_dict`` is the public shape (CLI ``--json`` and the API)."""

    id: int
    key: str
    type: AlertType
    severity: Severity
    status: AlertStatus
    subject: Subject
    summary: str
    evidence: dict[str, Any]
    fingerprint: str
    snapshot: str | None
    rule_versions: dict[str, Any]
    first_seen: str
    last_seen: str
    resolved_at: str | None = None
    resolution: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    case_id: int | None = None
    suppressed_until: str | None = None
    suppression_fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": str(self.type),
            "severity": str(self.severity),
            "status": str(self.status),
            "subject": self.subject.to_dict(),
            "summary": self.summary,
            "evidence": self.evidence,
            "snapshot": self.snapshot,
            "rule_versions": self.rule_versions,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "resolved_at": self.resolved_at,
            "resolution": self.resolution,
            "changes": self.changes,
            "case_id": self.case_id,
            "suppressed_until": self.suppressed_until,
        }
