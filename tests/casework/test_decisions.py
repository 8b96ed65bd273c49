"""Decisions with four eyes, suppression bound to the evidence it saw, and subject status
overrides — on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from typing import Any

import pytest

from computekyc.alerts import AlertStatus
from computekyc.audit import read_entries
from computekyc.casework import DecisionStatus
from computekyc.exc import ConflictError, OptionError, PermissionDenied
from computekyc.services import casework as service
from computekyc.workflow import open_database

pytestmark = pytest.mark.xdist_group("postgres")


def _status(desk: Any, alert_id: int) -> AlertStatus:
    return desk.store.get(alert_id).status


def test_clearing_a_critical_alert_needs_a_different_reviewer(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    reviewer = desk.user("rev", "reviewer")
    alert = desk.alert(severity="critical")
    first = service.decide(desk.settings, analyst, alert.id, "false_positive", "other Acme")
    assert first.pending_approval
    assert _status(desk, alert.id) is AlertStatus.PENDING_APPROVAL
    with pytest.raises(PermissionDenied, match=r"alerts\.approve"):
        service.approve(desk.settings, analyst, alert.id)  # an analyst cannot approve
    done = service.approve(desk.settings, reviewer, alert.id, reason="checked the registry")
    assert done.decision.status is DecisionStatus.APPROVED
    assert done.decision.reviewed_by == "rev"
    stored = desk.store.get(alert.id)
    assert (stored.status, stored.resolution) == (AlertStatus.CLOSED, "false_positive")


def test_a_reviewer_never_approves_their_own_decision(desk: Any) -> None:
    reviewer = desk.user("rev", "reviewer")
    admin = desk.user("boss", "admin")
    alert = desk.alert(severity="high")
    service.decide(desk.settings, reviewer, alert.id, "false_positive", "not them")
    with pytest.raises(PermissionDenied, match="four eyes"):
        service.approve(desk.settings, reviewer, alert.id)
    assert _status(desk, alert.id) is AlertStatus.PENDING_APPROVAL
    service.approve(desk.settings, admin, alert.id)  # an admin is a second person too
    assert _status(desk, alert.id) is AlertStatus.CLOSED


def test_viewer_and_auditor_cannot_decide(desk: Any) -> None:
    alert = desk.alert(severity="low")
    for name, role in (("vic", "viewer"), ("aud", "auditor")):
        actor = desk.user(name, role)
        with pytest.raises(PermissionDenied, match=r"alerts\.decide"):
            service.decide(desk.settings, actor, alert.id, "confirmed", "looks right")
    assert _status(desk, alert.id) is AlertStatus.OPEN
    with open_database(desk.settings).connect() as connection:
        assert [e.action for e in read_entries(connection)] == ["user.add", "user.add"]


def test_rejection_reopens_and_needs_a_reason(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    reviewer = desk.user("rev", "reviewer")
    alert = desk.alert(severity="critical")
    service.decide(desk.settings, analyst, alert.id, "false_positive", "other Acme")
    with pytest.raises(OptionError, match="reason"):
        service.approve(desk.settings, reviewer, alert.id, reject=True)
    rejected = service.approve(
        desk.settings, reviewer, alert.id, reject=True, reason="same address as the listing"
    )
    assert rejected.decision.status is DecisionStatus.REJECTED
    assert _status(desk, alert.id) is AlertStatus.OPEN
    with pytest.raises(ConflictError):
        service.approve(desk.settings, reviewer, alert.id)  # nothing awaits approval now


def test_low_alert_clears_at_once_but_analyst_cannot_suppress_it(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    first = desk.alert(severity="low", customer="c1")
    second = desk.alert(severity="low", customer="c2")
    result = service.decide(desk.settings, analyst, first.id, "false_positive", "typo match")
    assert not result.pending_approval
    assert _status(desk, first.id) is AlertStatus.CLOSED
    with pytest.raises(PermissionDenied, match=r"alerts\.suppress"):
        service.decide(
            desk.settings,
            analyst,
            second.id,
            "false_positive",
            "typo",
            suppress_until="2999-01-01",
        )
    assert _status(desk, second.id) is AlertStatus.OPEN


EVIDENCE_CHANGES = {
    "higher score": {"score": 0.99},
    "new list entry": {"party": "csl-2"},
    "new owner": {"owners": ("Listed Holding Ltd",)},
}


@pytest.mark.parametrize("change", sorted(EVIDENCE_CHANGES))
def test_suppression_holds_on_unchanged_evidence_and_reopens_on_change(
    desk: Any, change: str
) -> None:
    reviewer = desk.user("rev", "reviewer")
    alert = desk.alert(alert_type="reseller", severity="medium", party="csl-1", score=0.91)
    result = service.decide(
        desk.settings,
        reviewer,
        alert.id,
        "false_positive",
        "known reseller, contract on file",
        suppress_until="2999-01-01",
    )
    stored = desk.store.get(alert.id)
    assert stored.status is AlertStatus.SUPPRESSED
    assert stored.suppression_fingerprint == alert.fingerprint
    assert result.alert.suppressed_until == "2999-01-01"
    unchanged = desk.sync(desk.draft(alert_type="reseller", severity="medium", score=0.91))
    assert unchanged.unchanged == 1
    assert _status(desk, alert.id) is AlertStatus.SUPPRESSED
    changed = {
        "alert_type": "reseller",
        "severity": "medium",
        "score": 0.91,
        **EVIDENCE_CHANGES[change],
    }
    draft = desk.draft(**changed)
    assert draft.key == alert.key
    assert desk.sync(draft).reopened == 1
    assert _status(desk, alert.id) is AlertStatus.OPEN


def test_suppressing_a_critical_alert_takes_effect_only_after_approval(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    reviewer = desk.user("rev", "reviewer")
    alert = desk.alert(severity="critical", score=0.91)
    service.decide(
        desk.settings,
        analyst,
        alert.id,
        "false_positive",
        "namesake",
        suppress_until="2999-01-01",
    )
    assert _status(desk, alert.id) is AlertStatus.PENDING_APPROVAL
    desk.sync(desk.draft(severity="critical", score=0.91))
    assert _status(desk, alert.id) is AlertStatus.PENDING_APPROVAL
    service.approve(desk.settings, reviewer, alert.id)
    stored = desk.store.get(alert.id)
    assert (stored.status, stored.suppressed_until) == (AlertStatus.SUPPRESSED, "2999-01-01")
    assert stored.suppression_fingerprint == alert.fingerprint
    assert desk.sync(desk.draft(severity="critical", score=0.99)).reopened == 1
    assert _status(desk, alert.id) is AlertStatus.OPEN


def test_changed_evidence_voids_a_pending_clearance(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    reviewer = desk.user("rev", "reviewer")
    alert = desk.alert(severity="critical", score=0.91)
    first = service.decide(desk.settings, analyst, alert.id, "false_positive", "namesake")
    desk.sync(desk.draft(severity="critical", score=0.99))  # the scan sees more
    assert _status(desk, alert.id) is AlertStatus.OPEN
    with pytest.raises(ConflictError):
        service.approve(desk.settings, reviewer, alert.id)
    second = service.decide(desk.settings, analyst, alert.id, "confirmed", "now a clear match")
    decisions = service.alert_decisions(desk.settings, reviewer, alert.id)
    assert [(d.id, d.status) for d in decisions] == [
        (first.decision.id, DecisionStatus.SUPERSEDED),
        (second.decision.id, DecisionStatus.FINAL),
    ]


@pytest.mark.parametrize(
    ("alert_type", "evidence_status", "expected"),
    [
        ("restricted_party_match", None, "blocked"),
        ("restricted_party_match", "license_required", "license_required"),
        ("affiliates_rule", None, "license_required"),
    ],
)
def test_confirmed_critical_alert_sets_the_subject_status(
    desk: Any, alert_type: str, evidence_status: str | None, expected: str
) -> None:
    analyst = desk.user("ana", "analyst")
    alert = desk.alert(severity="critical", alert_type=alert_type, status=evidence_status)
    result = service.decide(desk.settings, analyst, alert.id, "confirmed", "same registry id")
    assert result.subject_status == expected
    [status] = service.subject_statuses(desk.settings, analyst, "customer", "c1")
    assert (status.status, status.alert_id, status.decision_id) == (
        expected,
        alert.id,
        result.decision.id,
    )
    with open_database(desk.settings).connect() as connection:
        entry = read_entries(connection, action="subject.status")[-1]
    assert entry.after["status"] == expected
    assert entry.context["snapshot"] == "7"


def test_confirmed_high_alert_leaves_the_subject_status_alone(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    alert = desk.alert(severity="high")
    assert (
        service.decide(desk.settings, analyst, alert.id, "confirmed", "yes").subject_status is None
    )
    assert service.subject_statuses(desk.settings, analyst) == []


def test_decision_is_audited_with_its_context(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    alert = desk.alert(severity="critical", score=0.93)
    service.decide(
        desk.settings,
        analyst,
        alert.id,
        "false_positive",
        "different company",
        request_id="req-1",
    )
    with open_database(desk.settings).connect() as connection:
        entry = read_entries(connection, action="alert.decide")[-1]
    assert (entry.actor.user, entry.actor.role, entry.reason) == (
        "ana",
        "analyst",
        "different company",
    )
    assert entry.object_id == str(alert.id) and entry.subject_id == "c1"
    assert entry.before["status"] == "open" and entry.after["status"] == "pending_approval"
    assert entry.context["snapshot"] == "7"
    assert entry.context["rule_versions"] == {"rules": "2026-11-26.1"}
    assert entry.context["request_id"] == "req-1"
    assert entry.context["alert"]["fingerprint"] == alert.fingerprint
    assert entry.context["alert"]["evidence"]["score"] == 0.93


def test_bulk_decision_is_all_or_nothing(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    ids = [desk.alert(severity="low", customer=f"c{n}").id for n in range(3)]
    service.decide(desk.settings, analyst, ids[2], "confirmed", "match")
    with pytest.raises(ConflictError, match=f"alert {ids[2]}"):
        service.decide_many(desk.settings, analyst, ids, "false_positive", "page of typos")
    assert [_status(desk, i) for i in ids[:2]] == [AlertStatus.OPEN, AlertStatus.OPEN]
    done = service.decide_many(desk.settings, analyst, ids[:2], "false_positive", "typos")
    assert [r.alert.status for r in done] == [AlertStatus.CLOSED, AlertStatus.CLOSED]
    with open_database(desk.settings).connect() as connection:
        entries = read_entries(connection, action="alert.decide")
    assert len({e.context["request_id"] for e in entries[-2:]}) == 1  # one request


def test_a_decided_alert_cannot_be_decided_again(desk: Any) -> None:
    analyst = desk.user("ana", "analyst")
    alert = desk.alert(severity="medium")
    service.decide(desk.settings, analyst, alert.id, "confirmed", "match")
    with pytest.raises(ConflictError, match="closed"):
        service.decide(desk.settings, analyst, alert.id, "false_positive", "changed my mind")
    with pytest.raises(OptionError, match="reason"):
        service.decide(desk.settings, analyst, alert.id, "confirmed", "  ")
