"""The HTTP API: one FastAPI app over the service layer, served by ``computekyc serve``."""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from computekyc import __version__
from computekyc.api import customers, problems, reports, reports_runs, scans, screening, workflow
from computekyc.api.middleware import RequestContext
from computekyc.screening import Query as ScreeningQuery
from computekyc.services.indexes import IndexHolder, index_holder
from computekyc.settings import Settings

log = logging.getLogger("computekyc.api")
WARM_UP = "Huawei Technologies Co., Ltd. 华为技术有限公司"


def create_app(settings: Settings, holder: IndexHolder | None = None) -> FastAPI:
    served = holder or index_holder(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What each worker would otherwise do during a client's first requests (seconds on a
        # busy machine): check the workflow schema (Alembic), load the index, and screen one
        # name so that the tables screening reads on first use are loaded.
        try:
            from computekyc.workflow import open_database

            open_database(settings)
        except Exception as exc:  # not ready yet: /readyz says so
            log.warning("no workflow database yet: %s", exc)
        try:
            served.current().index.screen_query(ScreeningQuery(WARM_UP, "CN", "entity"), 0.5)
        except Exception as exc:  # not ready yet: /readyz says so
            log.warning("no screening index yet: %s", exc)
        # The index is millions of long-lived objects: out of the cyclic collector's sight, a
        # full collection no longer walks them all in the middle of a request.
        gc.collect()
        gc.freeze()
        yield

    app = FastAPI(
        title="computekyc",
        version=__version__,
        description=(
            "Screening with yente's /match shape, alerts, casework and a verifiable audit log "
            "for GPU clouds. Every answer names the list snapshot and rule versions it came "
            "from. Send `Authorization: Bearer TOKEN` (from `computekyc users add`)."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.holder = served
    problems.install(app)
    app.include_router(screening.router)
    app.include_router(workflow.router)
    app.include_router(scans.router)
    app.include_router(reports.router)
    app.include_router(reports_runs.router)
    app.include_router(customers.router)
    app.state.scans = scans.ScanJobs()
    from computekyc import web  # the analyst's UI: /login, /alerts… for browsers, under /ui

    web.install(app, settings)

    app.add_middleware(RequestContext)

    @app.get("/healthz", tags=["System"])
    async def healthz() -> dict[str, str]:
        """Alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["System"])
    def readyz() -> JSONResponse:
        """Ready: lists loaded and the workflow database reachable."""
        checks: dict[str, Any] = {}
        try:
            current = served.serving()
            checks["lists"] = f"{current.snapshot}, {len(current.parties)} parties"
        except Exception as exc:
            checks["lists"] = f"not ready: {exc}"
        try:
            from sqlalchemy import text

            from computekyc.workflow import open_database

            with open_database(settings).connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"not ready: {exc}"
        ready = not any(str(v).startswith("not ready") for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    return app


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory`` (one per worker process), settings from the environment."""
    return create_app(Settings.from_env())
