"""The workflow over HTTP: alerts, decisions and approvals, cases, lists and the audit log.

Every change goes through the service layer, which writes it and its audit entry in one
transaction, as the token's user, tagged with the request id.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from computekyc.alerts import AlertType
from computekyc.api.deps import (
    AlertReader,
    Approver,
    AppSettings,
    AuditReader,
    CaseReader,
    Decider,
    RequestId,
    Screener,
)
from computekyc.api.problems import RESPONSES, Problem
from computekyc.casework import CaseStatus
from computekyc.services import casework

router = APIRouter(responses=RESPONSES)
MAX_ID = 2_147_483_647
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]
SnapshotId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
TEXT = 4000  # characters a reason or a comment may hold


class DecisionBody(BaseModel):
    outcome: Literal["confirmed", "false_positive", "escalated"]
    reason: str = Field(..., min_length=1, max_length=TEXT, pattern=r"\S")
    suppress_until: date | None = None


class ApprovalBody(BaseModel):
    approve: bool
    reason: str = Field(..., min_length=1, max_length=TEXT, pattern=r"\S")


class CommentBody(BaseModel):
    text: str = Field(..., min_length=1, max_length=TEXT, pattern=r"\S")


class AssignBody(BaseModel):
    assignee: str = Field(..., min_length=1, max_length=200, pattern=r"\S")


class CloseBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=TEXT, pattern=r"\S")


StatusFilter = Literal["open", "pending_approval", "closed", "suppressed", "all", "active"]


@router.get("/alerts", tags=["Alerts"])
def list_alerts(
    actor: AlertReader,
    settings: AppSettings,
    status: Annotated[StatusFilter, Query()] = "active",
    type: Annotated[AlertType | None, Query()] = None,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    """The alert queue, most severe first. ``active`` is open plus pending approval."""
    page = casework.alert_queue(
        settings,
        actor,
        status=status,
        types=None if type is None else [type],
        subject=subject,
        limit=limit,
        offset=offset,
    )
    return {
        "results": [a.to_dict() for a in page.alerts],
        "limit": limit,
        "offset": offset,
        "next_offset": page.next_offset,
    }


@router.get("/alerts/{alert_id}", tags=["Alerts"])
def get_alert(alert_id: AlertId, actor: AlertReader, settings: AppSettings) -> dict[str, Any]:
    """One alert with its evidence and every decision taken on it."""
    alert, decisions = casework.alert_detail(settings, actor, alert_id)  # 404 for an unknown id
    return alert.to_dict() | {"decisions": [d.to_dict() for d in decisions]}


@router.post("/alerts/{alert_id}/decision", tags=["Alerts"])
def decide(
    alert_id: AlertId, body: DecisionBody, actor: Decider, settings: AppSettings, rid: RequestId
) -> dict[str, Any]:
    """Decide an alert; clearing a critical or high one waits for a reviewer's approval."""
    result = casework.decide(
        settings,
        actor,
        alert_id,
        body.outcome,
        body.reason,
        suppress_until=body.suppress_until.isoformat() if body.suppress_until else None,
        request_id=rid,
    )
    return result.to_dict()


@router.post("/alerts/{alert_id}/approval", tags=["Alerts"])
def approve(
    alert_id: AlertId, body: ApprovalBody, actor: Approver, settings: AppSettings, rid: RequestId
) -> dict[str, Any]:
    """Approve or reject another person's decision (the decider is refused: 403)."""
    result = casework.approve(
        settings, actor, alert_id, reject=not body.approve, reason=body.reason, request_id=rid
    )
    return result.to_dict()


@router.get("/cases", tags=["Cases"])
def list_cases(
    actor: CaseReader,
    settings: AppSettings,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open",
    assignee: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    cases = casework.list_cases(
        settings,
        actor,
        status=None if status == "all" else CaseStatus(status),
        assignee=assignee,
    )
    return {"results": [c.to_dict() for c in cases]}


@router.get("/cases/{case_id}", tags=["Cases"])
def get_case(case_id: CaseId, actor: CaseReader, settings: AppSettings) -> dict[str, Any]:
    return casework.case_detail(settings, actor, case_id).to_dict()


@router.post("/cases/{case_id}/comments", tags=["Cases"])
def comment_case(
    case_id: CaseId, body: CommentBody, actor: Decider, settings: AppSettings, rid: RequestId
) -> dict[str, Any]:
    return casework.comment_case(settings, actor, case_id, body.text, request_id=rid).to_dict()


@router.post("/cases/{case_id}/assignee", tags=["Cases"])
def assign_case(
    case_id: CaseId, body: AssignBody, actor: Decider, settings: AppSettings, rid: RequestId
) -> dict[str, Any]:
    return casework.assign_case(settings, actor, case_id, body.assignee, request_id=rid).to_dict()


@router.post("/cases/{case_id}/closure", tags=["Cases"])
def close_case(
    case_id: CaseId, body: CloseBody, actor: Decider, settings: AppSettings, rid: RequestId
) -> dict[str, Any]:
    return casework.close_case(settings, actor, case_id, body.reason, request_id=rid).to_dict()


@router.get("/audit", tags=["Audit"])
def audit_log(
    actor: AuditReader,
    settings: AppSettings,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    after_seq: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Audit entries in order (page with ``after_seq``)."""
    entries = casework.audit_log(settings, actor, subject=subject, after_seq=after_seq, limit=limit)
    return {
        "results": [e.to_dict() for e in entries],
        "next_after_seq": entries[-1].seq if len(entries) == limit else None,
    }


@router.get("/audit/verify", tags=["Audit"])
def audit_verify(actor: AuditReader, settings: AppSettings) -> dict[str, Any]:
    """Recompute every leaf and the chain and check every stored checkpoint."""
    return casework.audit_verify(settings, actor).to_dict()


@router.get("/lists", tags=["Lists"])
def lists(actor: Screener, settings: AppSettings) -> dict[str, Any]:
    """Every list snapshot, newest last, and the active one."""
    from computekyc.services.lists import list_snapshots

    found = list_snapshots(settings)
    return {"active": found.active, "snapshots": [s.to_dict() for s in found.snapshots]}


@router.get("/lists/diff", tags=["Lists"])
def lists_diff(
    actor: Screener,
    settings: AppSettings,
    old: SnapshotId = None,
    new: SnapshotId = None,
) -> dict[str, Any]:
    """Parties added, removed and changed between two snapshots (default: the last two)."""
    from computekyc.lists.store import ListStore

    store = ListStore.open(settings.sqlalchemy_url)
    try:
        active = store.active_snapshot()
        if active is None:
            raise Problem(404, "Not Found", "no list snapshot yet")
        known = {s.id for s in store.snapshots()}
        for given in (old, new):
            if given is not None and given not in known:
                raise Problem(404, "Not Found", f"no list snapshot {given}")
        new_id = new if new is not None else active.id
        old_id = old if old is not None else store.previous_snapshot_id(new_id)
        if old_id is None:
            raise Problem(404, "Not Found", f"snapshot {new_id} has no earlier snapshot")
        result: dict[str, Any] = store.diff(old_id, new_id).to_dict()
        return result
    finally:
        store.close()
