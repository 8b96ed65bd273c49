"""The HTTP API: one FastAPI app over the service layer, shared by ``computekyc serve``."""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from computekyc import __version__
from computekyc.api import problems
from computekyc.api.problems import Problem
from computekyc.api.security import Authority, Principal, needs
from computekyc.api.yente import (
    EntityMatchQuery,
    check_example,
    echo,
    entity_of,
    queries_of,
    scored,
)
from computekyc.screening import Query as ScreeningQuery
from computekyc.services.screening_index import IndexHolder, ServedIndex
from computekyc.settings import Settings

MAX_BODY_BYTES = 1_048_576  # a request body over 1 MiB is refused (413)
MAX_QUERIES = 100  # queries in one /match call, as yente
MAX_LIMIT = 500
Screening = Annotated[Principal, Depends(needs("screen"))]
log = logging.getLogger("computekyc.api")
access = logging.getLogger("computekyc.api.access")


def _rule_versions(served: ServedIndex) -> dict[str, str]:
    from computekyc.screening import index as screening_index

    return {"screening": f"index-format-{screening_index.INDEX_FORMAT}", "api": __version__}


def create_app(settings: Settings, authority: Authority, holder: IndexHolder | None = None) -> Any:
    holder = holder or IndexHolder(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            holder.current()  # load the index before the first request, when lists exist
        except Exception as exc:  # not ready yet: /readyz says so
            log.warning("no screening index yet: %s", exc)
        yield

    app = FastAPI(
        title="computekyc",
        version=__version__,
        description="Screening (yente-compatible /match), alerts, casework and audit for GPU "
        "clouds. Every answer names the list snapshot and rule versions it came from.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authority = authority
    app.state.holder = holder
    problems.install(app)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            response: Response = problems.problem_response(
                request, 413, "Content Too Large", f"the body limit is {MAX_BODY_BYTES} bytes"
            )
        else:
            response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        principal = getattr(request.state, "principal", None)
        access.info(
            json.dumps(
                {
                    "request_id": request.state.request_id,
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "user": principal.user if principal else None,
                }
            )
        )
        return response

    @app.get("/healthz", tags=["System"])
    def healthz() -> dict[str, str]:
        """Alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["System"])
    def readyz() -> JSONResponse:
        """Ready: lists loaded and the database reachable."""
        checks: dict[str, str] = {}
        try:
            served = holder.current()
            checks["lists"] = f"snapshot {served.snapshot}, {served.parties} parties"
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
        ready = all(not v.startswith("not ready") for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    def served_for(dataset: str) -> tuple[ServedIndex, set[str] | None]:
        served = holder.current()
        if dataset.lower() == "default":
            return served, None
        codes = {p.source.upper() for p in served.index.parties}
        if dataset.upper() not in codes:
            raise Problem(
                404, "Not Found", f"no dataset {dataset!r}: use default or one of {sorted(codes)}"
            )
        return served, {dataset.upper()}

    @app.post("/match/{dataset}", tags=["Screening"])
    def match(
        dataset: str,
        body: EntityMatchQuery,
        principal: Screening,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 5,
        threshold: Annotated[float, Query(ge=0.0, le=1.0)] = 0.7,
        cutoff: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5,
        algorithm: str = "best",
        exclude_entity_ids: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    ) -> dict[str, Any]:
        """yente's query-by-example matcher, plus the snapshot and rule versions used."""
        if len(body.queries) > MAX_QUERIES:
            raise Problem(
                400, "Bad Request", f"{len(body.queries)} queries; at most {MAX_QUERIES} a call"
            )
        served, sources = served_for(dataset)
        excluded = set(exclude_entity_ids)
        floor = min(cutoff, threshold)
        responses: dict[str, Any] = {}
        for key, example in body.queries.items():
            problem = check_example(example)
            if problem is not None:
                raise Problem(400, "Bad Request", f"query {key!r}: {problem}")
            best: dict[str, Any] = {}
            for query in queries_of(example):
                for hit in served.index.screen_query(query, floor):
                    if hit.party_id in excluded:
                        continue
                    party = served.party(hit.party_id)
                    if party is None or (
                        sources is not None and party.source.upper() not in sources
                    ):
                        continue
                    if hit.party_id not in best or hit.score > best[hit.party_id][0].score:
                        best[hit.party_id] = (hit, party)
            ranked = sorted(best.values(), key=lambda pair: (-pair[0].score, pair[0].party_id))
            responses[key] = {
                "status": 200,
                "results": [scored(party, hit, threshold) for hit, party in ranked[:limit]],
                "total": {"value": len(ranked), "relation": "eq"},
                "query": echo(example),
            }
        return {
            "responses": responses,
            "limit": limit,
            "algorithm": "computekyc",
            "algorithm_requested": algorithm,
            "snapshot": served.snapshot,
            "snapshot_created_at": served.snapshot_created_at,
            "rule_versions": _rule_versions(served),
        }

    @app.get("/search/{dataset}", tags=["Screening"])
    def search(
        dataset: str,
        principal: Screening,
        q: Annotated[str, Query(min_length=1, max_length=500)],
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    ) -> dict[str, Any]:
        """Listed parties whose names are close to ``q``, best first."""
        served, sources = served_for(dataset)
        hits = [
            (hit, party)
            for hit in served.index.screen_query(ScreeningQuery(q), 0.5)
            if (party := served.party(hit.party_id)) is not None
            and (sources is None or party.source.upper() in sources)
        ]
        page = hits[offset : offset + limit]
        return {
            "results": [entity_of(party) | {"score": hit.score} for hit, party in page],
            "total": {"value": len(hits), "relation": "eq"},
            "limit": limit,
            "offset": offset,
            "facets": {},
            "snapshot": served.snapshot,
            "rule_versions": _rule_versions(served),
        }

    @app.get("/entities/{entity_id}", tags=["Screening"])
    def entity(entity_id: str, principal: Screening) -> dict[str, Any]:
        """One listed party of the served snapshot, by its id."""
        served = holder.current()
        party = served.party(entity_id)
        if party is None:
            raise Problem(
                404, "Not Found", f"no listed party {entity_id!r} in snapshot {served.snapshot}"
            )
        return entity_of(party) | {"snapshot": served.snapshot}

    @app.get("/catalog", tags=["Screening"])
    def catalog(principal: Screening) -> dict[str, Any]:
        """The lists (datasets) served, with the snapshot they come from."""
        served = holder.current()
        counts: dict[str, int] = {}
        for party in served.index.parties:
            counts[party.source] = counts.get(party.source, 0) + 1
        datasets = [
            {"name": code, "title": code, "version": served.snapshot, "entity_count": count}
            for code, count in sorted(counts.items())
        ]
        return {
            "datasets": [
                {
                    "name": "default",
                    "title": "every list",
                    "version": served.snapshot,
                    "entity_count": len(served.index.parties),
                },
                *datasets,
            ],
            "current": ["default", *counts],
            "outdated": [],
            "index_stale": False,
            "snapshot": served.snapshot,
            "snapshot_created_at": served.snapshot_created_at,
        }

    @app.get("/algorithms", tags=["Screening"])
    def algorithms() -> dict[str, Any]:
        return {
            "algorithms": [
                {
                    "name": "computekyc",
                    "description": "multilingual token alignment with calibrated, explained "
                    "scores; every yente algorithm name is answered by it",
                }
            ],
            "default": "computekyc",
            "best": "computekyc",
        }

    return app
