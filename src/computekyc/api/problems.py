"""Errors as RFC 9457 problem documents (``application/problem+json``), never a bare 500 page."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from computekyc.exc import (
    ComputekycError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    StateError,
)

PROBLEM = "application/problem+json"
_CODES = {status.value for status in HTTPStatus}
log = logging.getLogger("computekyc.api")


class ProblemDocument(BaseModel):
    """RFC 9457 problem details, with the request id to quote when asking about it."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None


def _documented(description: str) -> dict[str, Any]:
    return {"model": ProblemDocument, "description": description, "content": {PROBLEM: {}}}


# Every route documents the problems it may answer (content type application/problem+json).
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("Bad request: a value that cannot be used"),
    401: _documented("No token, or an unknown or revoked one"),
    403: _documented("The token's role does not allow this"),
    404: _documented("No such object"),
    409: _documented("Conflicts with the current state"),
    413: _documented("The body is over the size limit"),
    422: _documented("The request does not follow the schema"),
    503: _documented("Not ready: no list snapshot or no database"),
}


class Problem(Exception):
    """An HTTP error the handlers turn into a problem document."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str = "",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": str(request.url.path),
        "request_id": getattr(request.state, "request_id", None),
    }
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _status_of(exc: ComputekycError) -> tuple[int, str]:
    if isinstance(exc, PermissionDenied):
        return 403, "Forbidden"
    if isinstance(exc, NotFoundError):
        return 404, "Not Found"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, StateError):
        return 503, "Service Unavailable"
    return 400, "Bad Request"


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(ComputekycError)
    async def _domain(request: Request, exc: ComputekycError) -> JSONResponse:
        status, title = _status_of(exc)
        return problem_response(request, status, title, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()[:20]
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
        return problem_response(request, 422, "Unprocessable Content", str(detail), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase if exc.status_code in _CODES else "Error"
        return problem_response(
            request, exc.status_code, title, str(exc.detail), headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error", extra={"request_id": request.state.request_id})
        return problem_response(
            request, 500, "Internal Server Error", "an internal error; it was logged"
        )
