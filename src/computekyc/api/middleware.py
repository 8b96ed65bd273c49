"""The request context as a plain ASGI middleware: the request id (``X-Request-ID``, taken from
the request or made), the body size limit (413 before the body is read) and one JSON access log
line per request with the user the route authenticated.

A plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``):
that one runs every request in an extra task with wrapped receive and streamed response, which
cost more CPU than the screening it carried.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from computekyc.api import problems

MAX_BODY_BYTES = 1_048_576  # a request body over 1 MiB is refused (413)
access = logging.getLogger("computekyc.api.access")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given: bytes = b""
        length: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value[:64]
            elif name == b"content-length":
                length = value
        request_id = given.decode("latin-1") if given else uuid.uuid4().hex[:16]
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                response = problems.problem_response(
                    Request(scope),
                    413,
                    "Content Too Large",
                    f"the body limit is {MAX_BODY_BYTES} bytes",
                )
                await response(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            if access.isEnabledFor(logging.INFO):
                principal = state.get("principal")
                access.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                            "user": principal.user if principal else None,
                        },
                        ensure_ascii=False,
                    )
                )
