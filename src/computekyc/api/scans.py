"""Scans over HTTP: an admin starts one, it runs in the background (a thread of this process,
never a forked worker), and its progress and result are read back by id."""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

import threading
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from computekyc.api.deps import AppSettings, ScanRunner, server_folder
from computekyc.api.problems import RESPONSES, Problem
from computekyc.audit import Actor
from computekyc.settings import Settings
from computekyc.workflow import utc_now

router = APIRouter(tags=["Scans"], responses=RESPONSES)


class ScanBody(BaseModel):
    provider_dir: str = Field(
        ..., min_length=1, max_length=4096, description="a folder on the server"
    )
    lists: str | None = Field(None, max_length=4096, description="an offline list mirror folder")
    as_of: date | None = None


@dataclass
class ScanJob:
    id: str
    user: str
    provider_dir: str
    status: Literal["running", "done", "failed"] = "running"
    started: str = field(default_factory=utc_now)
    finished: str | None = None
    progress: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "provider_dir": self.provider_dir,
            "status": self.status,
            "started": self.started,
            "finished": self.finished,
            "progress": list(self.progress),
            "result": self.result,
            "error": self.error,
        }


class ScanJobs:
    """The scans this server started; one runs at a time (a scan is one write transaction)."""

    def __init__(self) -> None:
        self.jobs: dict[str, ScanJob] = {}
        self.lock = threading.Lock()

    def start(self, settings: Settings, actor: Actor, body: ScanBody) -> ScanJob:
        folder = server_folder(body.provider_dir, "provider_dir")
        mirror = server_folder(body.lists, "lists") if body.lists else None
        with self.lock:
            if any(job.status == "running" for job in self.jobs.values()):
                raise Problem(409, "Conflict", "a scan is already running; try again when it ends")
            job = ScanJob(uuid.uuid4().hex[:12], actor.user, str(folder))
            self.jobs[job.id] = job
        threading.Thread(
            target=self._run, args=(job, settings, actor, folder, mirror, body.as_of), daemon=True
        ).start()
        return job

    def _run(
        self,
        job: ScanJob,
        settings: Settings,
        actor: Actor,
        folder: Path,
        mirror: Path | None,
        as_of: date | None,
    ) -> None:
        from computekyc.services import run_scan

        try:
            result = run_scan(
                settings,
                folder,
                lists=mirror,
                as_of=as_of,
                progress=job.progress.append,
                actor=actor,
            )
            job.result, job.status = result.to_json(), "done"
        except Exception as exc:  # reported on the job, never a crashed server
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
        finally:
            job.finished = utc_now()


def _jobs(request: Request) -> ScanJobs:
    jobs: ScanJobs = request.app.state.scans
    return jobs


@router.post("/scans", status_code=202)
def start_scan(
    body: ScanBody, actor: ScanRunner, settings: AppSettings, request: Request
) -> dict[str, Any]:
    """Start the daily scan of a provider folder on the server; answers at once (202)."""
    return _jobs(request).start(settings, actor, body).to_dict()


@router.get("/scans/{scan_id}")
def get_scan(
    scan_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    actor: ScanRunner,
    request: Request,
) -> dict[str, Any]:
    """A scan's status, its progress lines and, when done, its result (the CLI's --json)."""
    job = _jobs(request).jobs.get(scan_id)
    if job is None:
        raise Problem(404, "Not Found", f"no scan {scan_id!r} started by this server")
    return job.to_dict()
