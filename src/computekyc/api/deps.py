"""Typed dependencies the routes share: the acting user per permission, settings, the index.

They are coroutines: FastAPI runs a plain function dependency in the thread pool, a hop that
costs more than these look-ups."""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from typing import Annotated

from fastapi import Depends, Request

from computekyc.api.security import needs
from computekyc.audit import Actor
from computekyc.services.indexes import IndexHolder
from computekyc.settings import Settings
from computekyc.users import Permission

Screener = Annotated[Actor, Depends(needs(Permission.SCREENING_READ))]
AlertReader = Annotated[Actor, Depends(needs(Permission.ALERTS_READ))]
CaseReader = Annotated[Actor, Depends(needs(Permission.CASES_READ))]
Decider = Annotated[Actor, Depends(needs(Permission.DECIDE))]
Approver = Annotated[Actor, Depends(needs(Permission.APPROVE))]
AuditReader = Annotated[Actor, Depends(needs(Permission.AUDIT_READ))]
ScanRunner = Annotated[Actor, Depends(needs(Permission.SCANS_RUN))]
UserManager = Annotated[Actor, Depends(needs(Permission.USERS_MANAGE))]


async def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def holder_of(request: Request) -> IndexHolder:
    holder: IndexHolder = request.app.state.holder
    return holder


async def request_id(request: Request) -> str:
    rid: str = request.state.request_id
    return rid


AppSettings = Annotated[Settings, Depends(settings_of)]
Index = Annotated[IndexHolder, Depends(holder_of)]
RequestId = Annotated[str, Depends(request_id)]
