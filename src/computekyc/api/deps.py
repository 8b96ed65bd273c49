"""What the routes share: typed dependencies (the acting user per permission, settings, the
index), a folder named by a request, and a file answered as a download (the web UI's too).

The dependencies are coroutines: FastAPI runs a plain function dependency in the thread pool, a
hop that costs more than these look-ups."""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response

from computekyc.api.problems import Problem
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
ReportReader = Annotated[Actor, Depends(needs(Permission.REPORTS_READ))]


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


def server_folder(text: str, name: str) -> Path:
    """A folder on the server named by a request (``name``: its field or parameter), or 400."""
    try:
        if Path(text).is_dir():
            return Path(text)
    except (OSError, ValueError):  # a NUL byte, a name too long…
        pass
    raise Problem(400, "Bad Request", f"{name} {text!r} is not a folder on the server")


def attachment(data: bytes, media_type: str, file_name: str) -> Response:
    """A file the browser saves as ``file_name`` rather than shows."""
    disposition = f'attachment; filename="{file_name}"'
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
