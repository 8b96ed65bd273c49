"""Cases: grouping by subject or linked entity, SLA due dates, assignment, comments, closing,
and a history drawn from the audit log."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from computekyc.casework import CaseStatus, policy
from computekyc.exc import ConflictError, OptionError, PermissionDenied
from computekyc.services import casework as service
from computekyc.workflow.db import utc_now


def _today_plus(days: int) -> str:
    return (date.fromisoformat(utc_now()[:10]) + timedelta(days=days)).isoformat()


def test_sla_is_data() -> None:
    assert {str(k): v for k, v in policy().sla_days.items()} == {
        "critical": 1,
        "high": 3,
        "medium": 7,
        "low": 14,
    }


def test_alerts_group_by_subject_and_linked_entity(sqlite_desk: Any) -> None:
    desk = sqlite_desk
    ana = desk.user("ana", "analyst")
    low = desk.alert(customer="c1", severity="low", alert_type="reseller")
    crit = desk.alert(customer="c1", severity="critical")
    linked_a = desk.alert(customer="c2", severity="medium", alert_type="structuring", entity="E1")
    linked_b = desk.alert(customer="c3", severity="high", alert_type="structuring", entity="E1")
    alone = desk.alert(customer="c4", severity="low", alert_type="reseller")
    cases = service.group_alerts(desk.settings, ana)
    by_subject = {(c.subject_kind, c.subject_id): c for c in cases}
    assert set(by_subject) == {("customer", "c1"), ("entity", "E1"), ("customer", "c4")}
    c1 = by_subject[("customer", "c1")]
    assert set(c1.alert_ids) == {low.id, crit.id}
    assert (str(c1.severity), c1.due_on) == ("critical", _today_plus(1))
    e1 = by_subject[("entity", "E1")]
    assert set(e1.alert_ids) == {linked_a.id, linked_b.id}
    assert (str(e1.severity), e1.due_on) == ("high", _today_plus(3))
    assert by_subject[("customer", "c4")].alert_ids == (alone.id,)
    assert service.group_alerts(desk.settings, ana) == []  # nothing left without a case
    assert desk.store.get(low.id).case_id == c1.id


def test_a_more_severe_alert_brings_the_due_date_forward(sqlite_desk: Any) -> None:
    desk = sqlite_desk
    ana = desk.user("ana", "analyst")
    low = desk.alert(customer="c1", severity="low", alert_type="reseller")
    case = service.open_case(desk.settings, ana, [low.id])
    assert case.due_on == _today_plus(14)
    high = desk.alert(customer="c1", severity="high")
    case = service.open_case(desk.settings, ana, [high.id])
    assert (str(case.severity), case.due_on) == ("high", _today_plus(3))
    assert set(case.alert_ids) == {low.id, high.id}
    other = desk.alert(customer="c2", severity="low", alert_type="reseller")
    with pytest.raises(OptionError, match="different subjects"):
        service.open_case(desk.settings, ana, [low.id, other.id])


def test_assign_comment_close_and_history(sqlite_desk: Any) -> None:
    desk = sqlite_desk
    ana = desk.user("ana", "analyst")
    desk.user("vic", "viewer")
    aud = desk.user("aud", "auditor")
    alert = desk.alert(customer="c1", severity="medium")
    case = service.open_case(desk.settings, ana, [alert.id])
    with pytest.raises(OptionError, match="cannot decide"):
        service.assign_case(desk.settings, ana, case.id, "vic")
    assert service.assign_case(desk.settings, ana, case.id, "ana").assignee == "ana"
    with pytest.raises(PermissionDenied):
        service.comment_case(desk.settings, aud, case.id, "auditors change nothing")
    service.comment_case(desk.settings, ana, case.id, "called the customer")
    with pytest.raises(ConflictError, match="undecided"):
        service.close_case(desk.settings, ana, case.id, "done")
    service.decide(desk.settings, ana, alert.id, "confirmed", "same registry number")
    closed = service.close_case(desk.settings, ana, case.id, "subject offboarded")
    assert closed.status is CaseStatus.CLOSED
    detail = service.case_detail(desk.settings, aud, case.id)  # auditors read everything
    assert [c.text for c in detail.comments] == ["called the customer"]
    assert [e.action for e in detail.history] == [
        "case.open",
        "case.assign",
        "case.comment",
        "alert.decide",
        "case.close",
    ]
    assert detail.history[-1].reason == "subject offboarded"
    assert service.list_cases(desk.settings, aud) == []
    assert [c.id for c in service.list_cases(desk.settings, aud, status=None)] == [case.id]


def test_escalation_opens_the_subjects_case(sqlite_desk: Any) -> None:
    desk = sqlite_desk
    ana = desk.user("ana", "analyst")
    alert = desk.alert(customer="c1", severity="high")
    result = service.decide(desk.settings, ana, alert.id, "escalated", "needs a reviewer")
    assert result.alert.case_id is not None
    assert str(result.alert.status) == "open"
