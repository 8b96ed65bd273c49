"""yente-compatible screening routes: ``/match``, ``/search``, ``/entities``, ``/catalog``."""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from computekyc import __version__
from computekyc.api.deps import Index, Screener
from computekyc.api.problems import RESPONSES, Problem
from computekyc.api.yente import (
    EntityMatchQuery,
    check_example,
    echo,
    entity_of,
    queries_of,
    scored,
)
from computekyc.screening import Query as ScreeningQuery
from computekyc.services.indexes import IndexHolder, LoadedIndex

MAX_QUERIES = 100  # queries in one /match call, as yente
MAX_LIMIT = 500
router = APIRouter(tags=["Screening"], responses=RESPONSES)


def rule_versions(served: LoadedIndex) -> dict[str, str]:
    from computekyc.screening import index as screening_index

    return {"screening": f"index-format-{screening_index.INDEX_FORMAT}", "api": __version__}


def _served_for(holder: IndexHolder, dataset: str) -> tuple[LoadedIndex, set[str] | None]:
    served = holder.serving()
    if dataset.lower() == "default":
        return served, None
    codes = {p.source.upper() for p in served.index.parties}
    if dataset.upper() not in codes:
        raise Problem(
            404, "Not Found", f"no dataset {dataset!r}: use default or one of {sorted(codes)}"
        )
    return served, {dataset.upper()}


INLINE_QUERIES = 4  # up to this many queries are answered on the event loop (~2 ms each)


@router.post("/match/{dataset}")
async def match(
    dataset: str,
    body: EntityMatchQuery,
    actor: Screener,
    holder: Index,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 5,
    threshold: Annotated[float, Query(ge=0.0, le=1.0)] = 0.7,
    cutoff: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5,
    algorithm: Annotated[str, Query(max_length=50)] = "best",
    exclude_entity_ids: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
) -> dict[str, Any]:
    """yente's query-by-example matcher, plus the list snapshot and rule versions used."""
    if len(body.queries) > MAX_QUERIES:
        raise Problem(
            400, "Bad Request", f"{len(body.queries)} queries; at most {MAX_QUERIES} a call"
        )
    for key, example in body.queries.items():
        problem = check_example(example)
        if problem is not None:
            raise Problem(400, "Bad Request", f"query {key!r}: {problem}")
    args = (holder, dataset, body, limit, threshold, cutoff, algorithm, set(exclude_entity_ids))
    # A few names are answered at once on the event loop: a hop to the thread pool costs more
    # than screening one. A batch, or a server still loading its first index, goes to a thread
    # so that other requests are not held up behind it.
    if len(body.queries) <= INLINE_QUERIES and holder.ready():
        return _match(*args)
    return await run_in_threadpool(_match, *args)


def _match(
    holder: IndexHolder,
    dataset: str,
    body: EntityMatchQuery,
    limit: int,
    threshold: float,
    cutoff: float,
    algorithm: str,
    excluded: set[str],
) -> dict[str, Any]:
    served, sources = _served_for(holder, dataset)
    floor = min(cutoff, threshold)
    responses: dict[str, Any] = {}
    for key, example in body.queries.items():
        best: dict[str, Any] = {}
        for query in queries_of(example):
            for hit in served.index.screen_query(query, floor):
                if hit.party_id in excluded:
                    continue
                party = served.parties.get(hit.party_id)
                if party is None or (sources and party.source.upper() not in sources):
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
        "snapshot_created_at": served.created_at,
        "rule_versions": rule_versions(served),
    }


@router.get("/search/{dataset}")
def search(
    dataset: str,
    actor: Screener,
    holder: Index,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict[str, Any]:
    """Listed parties whose names are close to ``q``, best first."""
    served, sources = _served_for(holder, dataset)
    hits = [
        (hit, party)
        for hit in served.index.screen_query(ScreeningQuery(q), 0.5)
        if (party := served.parties.get(hit.party_id)) is not None
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
        "rule_versions": rule_versions(served),
    }


@router.get("/entities/{entity_id}")
def entity(entity_id: str, actor: Screener, holder: Index) -> dict[str, Any]:
    """One listed party of the served snapshot, by its id."""
    served = holder.serving()
    party = served.parties.get(entity_id)
    if party is None:
        raise Problem(
            404, "Not Found", f"no listed party {entity_id!r} in snapshot {served.snapshot}"
        )
    return entity_of(party) | {"snapshot": served.snapshot}


@router.get("/catalog")
def catalog(actor: Screener, holder: Index) -> dict[str, Any]:
    """The lists (datasets) served, with the snapshot they come from."""
    served = holder.serving()
    counts: dict[str, int] = {}
    for party in served.index.parties:
        counts[party.source] = counts.get(party.source, 0) + 1
    every = {
        "name": "default",
        "title": "every list",
        "version": served.snapshot,
        "entity_count": len(served.index.parties),
    }
    datasets = [
        {"name": code, "title": code, "version": served.snapshot, "entity_count": count}
        for code, count in sorted(counts.items())
    ]
    return {
        "datasets": [every, *datasets],
        "current": ["default", *sorted(counts)],
        "outdated": [],
        "index_stale": False,
        "snapshot": served.snapshot,
        "snapshot_created_at": served.created_at,
    }


@router.get("/algorithms")
def algorithms() -> dict[str, Any]:
    """The one algorithm: every yente algorithm name is answered by it."""
    return {
        "algorithms": [
            {
                "name": "computekyc",
                "description": "multilingual token alignment with calibrated, explained scores",
            }
        ],
        "default": "computekyc",
        "best": "computekyc",
    }
