"""The web UI as an app mounted at ``/ui`` inside the API app, and the negotiation that sends a
browser's requests for ``/alerts``, ``/lists``… to it (an API client, with its bearer token and
JSON, still reaches the API at the same paths).

Every page and action names the one permission it needs (:data:`PAGE_PERMISSIONS`, from the same
matrix as the API's routes); the service layer checks it again before any change.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from computekyc import __version__
from computekyc.alerts import SORT_KEYS, AlertStatus, AlertType, Severity
from computekyc.api.deps import attachment
from computekyc.audit import Actor
from computekyc.casework import Outcome, policy
from computekyc.exc import ComputekycError, NotFoundError, PermissionDenied
from computekyc.services import casework
from computekyc.settings import Settings
from computekyc.users import Permission, Role, allowed
from computekyc.web import views
from computekyc.web.session import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    csrf_ok,
    csrf_token,
    session_key,
    signed_in_actor,
    start_session,
)

PREFIX = "/ui"
PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 200
TEXT = 4000  # characters a reason may hold (as the API)
# "METHOD path" (inside the UI app) → the permission it needs; None: open to everyone.
PAGE_PERMISSIONS: dict[str, Permission | None] = {
    "GET /login": None,
    "POST /login": None,
    "POST /logout": None,
    "GET /": Permission.ALERTS_READ,
    "GET /alerts": Permission.ALERTS_READ,
    "POST /alerts/decisions": Permission.DECIDE,
    "GET /alerts/{alert_id}": Permission.ALERTS_READ,
    "GET /alerts/{alert_id}/usage": Permission.ALERTS_READ,
    "POST /alerts/{alert_id}/decision": Permission.DECIDE,
    "POST /alerts/{alert_id}/approval": Permission.APPROVE,
    "GET /customers/{customer_id}": Permission.SCREENING_READ,  # as GET /customers/{id}
    "GET /lists": Permission.SCREENING_READ,
    "GET /audit": Permission.AUDIT_READ,
    "GET /audit/verify": Permission.AUDIT_READ,
    "GET /users": Permission.USERS_MANAGE,
    "POST /users/{user_name}/role": Permission.USERS_MANAGE,
    "POST /users/{user_name}/revocation": Permission.USERS_MANAGE,
    "POST /cases/{case_id}/comments": Permission.DECIDE,  # as the API's route
    "GET /reports": Permission.REPORTS_READ,
    "POST /reports/training-runs": Permission.REPORTS_READ,  # as GET /reports/training-runs
    "POST /reports/certification": Permission.REPORTS_READ,
    "POST /reports/screening": Permission.REPORTS_READ,
    "POST /reports/evidence": Permission.REPORTS_READ,  # as GET /reports/{alerts|cases}/…
    # The API's report addresses opened in a browser: the form of that report, filled in.
    "GET /reports/training-runs": Permission.REPORTS_READ,
    "GET /reports/certification": Permission.REPORTS_READ,
    "GET /reports/screening": Permission.REPORTS_READ,
    "GET /reports/alerts/{alert_id}/evidence": Permission.REPORTS_READ,
    "GET /reports/cases/{case_id}/evidence": Permission.REPORTS_READ,
}
# First path segments the UI answers for a browser (no bearer token; HTML, htmx or a form).
UI_SEGMENTS = {
    "",
    "login",
    "logout",
    "alerts",
    "customers",
    "lists",
    "audit",
    "users",
    "cases",
    "reports",
}
REPORT_FORMATS = ("json", "html", "pdf")
# The API's report addresses → the report whose form they fill in, and the query fields it takes.
REPORT_LINKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "/reports/training-runs": ("training-runs", ("from", "to", "format")),
    "/reports/certification": ("certification", ("year", "format")),
    "/reports/screening": ("screening", ("format", "scan")),
    "/reports/alerts/{alert_id}/evidence": ("evidence", ()),
    "/reports/cases/{case_id}/evidence": ("evidence", ()),
}
REPORT_LABELS = {
    "training-runs": "training-runs report",
    "certification": "certification",
    "screening": "screening report",
    "evidence": "evidence pack",
}
TABLE_FORMATS = ("csv", "xlsx", "parquet")
MAX_ID = 2**31 - 1
OUTCOMES = [
    (Outcome.CONFIRMED, "Confirm"),
    (Outcome.FALSE_POSITIVE, "False positive"),
    (Outcome.ESCALATED, "Escalate"),
]


class Refused(Exception):
    """A page answer other than 200: sign in first, forbidden, not found, bad input."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BrowserNegotiation:
    """Send a browser's requests for a UI path to the UI app under ``/ui``: no Authorization
    header, and an HTML navigation, an htmx request or a submitted form. Everything else goes
    to the API unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._for_ui(scope):
            scope = dict(scope)
            scope["path"] = PREFIX + scope["path"]
            scope["raw_path"] = scope["path"].encode("utf-8")
        await self.app(scope, receive, send)

    @staticmethod
    def _for_ui(scope: Scope) -> bool:
        path: str = scope["path"]
        if path.startswith(PREFIX + "/") or path == PREFIX:
            return False
        if path.strip("/").split("/")[0] not in UI_SEGMENTS:
            return False
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if "authorization" in headers:
            return False
        if path.strip("/") in ("", "login", "logout"):
            return True
        content_type = headers.get("content-type", "")
        return (
            "text/html" in headers.get("accept", "")
            or headers.get("hx-request") == "true"
            or content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
        )


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the UI into the API app (``create_app`` calls this)."""
    app.mount(PREFIX, create_web_app(settings))
    app.add_middleware(BrowserNegotiation)


def _templates() -> Jinja2Templates:
    folder = resources.files("computekyc.web") / "templates"
    templates = Jinja2Templates(directory=str(folder))
    templates.env.filters["age"] = _age
    templates.env.filters["number"] = lambda v, d=1: "—" if v is None else f"{float(v):,.{d}f}"
    templates.env.globals["version"] = __version__
    return templates


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "—"
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max((datetime.now(UTC) - then).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def create_web_app(settings: Settings) -> FastAPI:
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = _templates()
    web.add_middleware(
        SessionMiddleware,
        secret_key=session_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_SECONDS,
        same_site="strict",
        https_only=False,  # loopback by default; behind TLS the proxy adds Secure
    )
    static = resources.files("computekyc.web") / "static"
    web.mount("/static", StaticFiles(directory=str(static)), name="static")

    @web.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith(PREFIX + "/static"):
            response.headers["Cache-Control"] = "no-store"
        return response

    def render(
        request: Request,
        template: str,
        actor: Actor | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        can = {p.value: actor is not None and allowed(actor, p) for p in Permission}
        started = getattr(request.state, "page_started", None)
        return templates.TemplateResponse(
            request,
            template,
            {
                "actor": actor,
                "can": can,
                "csrf": csrf_token(request),
                "static": PREFIX + "/static",
                "status_code": status_code,
                "server_ms": (
                    round((time.perf_counter() - started) * 1000, 1) if started else None
                ),
                **context,
            },
            status_code=status_code,
        )

    def need(request: Request, permission: Permission | None) -> Actor:
        request.state.page_started = time.perf_counter()
        actor = signed_in_actor(request, settings)
        if actor is None:
            raise Refused(401, "sign in first")
        request.state.principal = actor
        if permission is not None and not allowed(actor, permission):
            raise Refused(403, f"role {actor.role!r} does not hold {permission.value}")
        return actor

    async def form_of(request: Request) -> dict[str, Any]:
        form = await request.form()
        data: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                data.setdefault(key, []).append(value)
        if not csrf_ok(request, (data.get("csrf") or [None])[0]):
            raise Refused(403, "the form has expired or did not come from this site: reload it")
        return data

    @web.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if exc.status == 401:
            target = request.url.path.removeprefix(PREFIX) or "/alerts"
            if request.url.query:
                target += "?" + request.url.query
            login = "/login?" + urlencode({"next": target})
            if request.headers.get("hx-request") == "true":  # a whole page, not a fragment
                return Response(status_code=204, headers={"HX-Redirect": login})
            return RedirectResponse(login, status_code=303)
        actor = getattr(request.state, "principal", None)
        return render(request, "error.html", actor, exc.status, message=exc.message)

    @web.exception_handler(ComputekycError)
    async def domain_error(request: Request, exc: ComputekycError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 403
        if not isinstance(exc, NotFoundError | PermissionDenied):
            status = 409 if exc.exit_code == 3 else 400
        actor = getattr(request.state, "principal", None)
        return render(request, "error.html", actor, status, message=str(exc))

    # -- signing in and out ------------------------------------------------------------------
    def _next(target: str | None) -> str:
        # Only a path on this site (no scheme, no //host): an open redirect is a phishing aid.
        if target and target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
        return "/alerts"

    @web.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str | None = None) -> HTMLResponse:
        actor = signed_in_actor(request, settings)
        return render(request, "login.html", actor, next=_next(next), error=None)

    @web.post("/login")
    async def login(request: Request) -> Response:
        form = await form_of(request)
        name = (form.get("username") or [""])[0]
        password = (form.get("password") or [""])[0]
        target = _next((form.get("next") or [None])[0])
        try:
            actor = casework.web_sign_in(
                settings, name, password, request_id=request.state.request_id
            )
        except PermissionDenied:
            return render(
                request,
                "login.html",
                None,
                401,
                next=target,
                error="Wrong user name or password.",
                username=name,
            )
        start_session(request, actor)
        return RedirectResponse(target, status_code=303)

    @web.post("/logout")
    async def logout(request: Request) -> Response:
        await form_of(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- the queue ---------------------------------------------------------------------------
    @web.get("/")
    def home(request: Request) -> Response:
        need(request, PAGE_PERMISSIONS["GET /"])
        return RedirectResponse("/alerts", status_code=303)

    @web.get("/alerts", response_class=HTMLResponse)
    def queue(request: Request) -> HTMLResponse:
        actor = need(request, PAGE_PERMISSIONS["GET /alerts"])
        q = request.query_params
        status = q.get("status") or "active"
        type_ = q.get("type") or ""
        severity = q.get("severity") or ""
        subject = (q.get("subject") or "").strip()[:200]
        sort = q.get("sort") or "severity"
        order = q.get("order") or "asc"
        try:
            page = max(int(q.get("page") or 1), 1)
        except ValueError:
            raise Refused(400, "page must be a whole number") from None
        if type_ and type_ not in {str(t) for t in AlertType}:
            raise Refused(400, f"unknown alert type {type_!r}")
        if severity and severity not in {str(s) for s in Severity}:
            raise Refused(400, f"unknown severity {severity!r}")
        if sort not in SORT_KEYS or order not in ("asc", "desc"):
            raise Refused(400, "unknown sort order")
        found = casework.alert_queue(
            settings,
            actor,
            status=status,
            types=[AlertType(type_)] if type_ else None,
            severities=[Severity(severity)] if severity else None,
            subject_text=subject or None,
            sort=sort,
            descending=order == "desc",
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        rules = policy()
        today = date.today()
        rows = []
        for alert in found.alerts:
            opened = date.fromisoformat(alert.first_seen[:10])
            due = rules.due_on(opened, alert.severity)
            live = alert.status in (AlertStatus.OPEN, AlertStatus.PENDING_APPROVAL)
            rows.append({"alert": alert, "due": due, "overdue": live and due < today})
        filters = {
            "status": status,
            "type": type_,
            "severity": severity,
            "subject": subject,
            "sort": sort,
            "order": order,
        }

        def link(**change: Any) -> str:
            merged = {k: v for k, v in (filters | change).items() if v not in ("", None)}
            return "/alerts?" + urlencode(merged)

        pages = max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        template = "_queue.html" if request.headers.get("hx-request") == "true" else "alerts.html"
        return render(
            request,
            template,
            actor,
            rows=rows,
            total=found.total,
            page=page,
            pages=pages,
            filters=filters,
            link=link,
            statuses=["active", "all", *[str(s) for s in AlertStatus]],
            types=[str(t) for t in AlertType],
            severities=[str(s) for s in Severity],
            outcomes=OUTCOMES,
            sort_keys=[
                ("id", "Alert"),
                ("subject", "Subject"),
                ("type", "Type"),
                ("severity", "Severity"),
                ("status", "Status"),
                ("age", "Age"),
            ],
        )

    @web.post("/alerts/decisions")
    async def decide_many(request: Request) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /alerts/decisions"])
        form = await form_of(request)
        try:
            ids = [int(v) for v in form.get("alert", [])]
        except ValueError:
            raise Refused(400, "alert ids are whole numbers") from None
        if not ids:
            raise Refused(400, "select at least one alert")
        outcome, reason, until = _decision_fields(form)
        results = casework.decide_many(
            settings,
            actor,
            ids,
            outcome,
            reason,
            suppress_until=until,
            request_id=request.state.request_id,
        )
        back = _next((form.get("back") or ["/alerts"])[0])
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}decided={len(results)}", status_code=303)

    # -- one alert ---------------------------------------------------------------------------
    @web.get("/alerts/{alert_id}", response_class=HTMLResponse)
    def alert_page(request: Request, alert_id: int) -> HTMLResponse:
        actor = need(request, PAGE_PERMISSIONS["GET /alerts/{alert_id}"])
        if not 0 < alert_id < 2**31:
            raise Refused(404, f"no alert {alert_id}")
        alert, decisions = casework.alert_detail(settings, actor, alert_id)
        evidence = alert.evidence
        case = None
        if alert.case_id is not None and allowed(actor, Permission.CASES_READ):
            case = casework.case_detail(settings, actor, alert.case_id)
        ownership = views.ownership_graph(evidence)
        links = views.link_graph(evidence, alert.subject.id)
        pending = next((d for d in decisions if str(d.status) == "pending"), None)
        return render(
            request,
            "alert.html",
            actor,
            alert=alert,
            evidence=evidence,
            decisions=decisions,
            pending=pending,
            case=case,
            hits=views.match_hits(evidence),
            ownership=ownership.to_dict() if ownership else None,
            rule=evidence.get("rule") if isinstance(evidence.get("rule"), dict) else None,
            links=links.to_dict() if links else None,
            link_rows=views.link_rows(evidence),
            outcomes=OUTCOMES,
            four_eyes=policy().needs_four_eyes(alert.severity),
            decided=request.query_params.get("decided"),
        )

    @web.get("/alerts/{alert_id}/usage", response_class=HTMLResponse)
    def alert_usage(request: Request, alert_id: int) -> HTMLResponse:
        """The usage section of an alert page, loaded after the evidence (the usage store is
        the slow part); a page of its own without JavaScript."""
        actor = need(request, PAGE_PERMISSIONS["GET /alerts/{alert_id}/usage"])
        if not 0 < alert_id < 2**31:
            raise Refused(404, f"no alert {alert_id}")
        from computekyc.services.usage_series import alert_accounts, usage_by_day

        alert, _ = casework.alert_detail(settings, actor, alert_id)
        accounts = alert_accounts(settings, alert)
        usage = usage_by_day(settings, accounts)
        fragment = request.headers.get("hx-request") == "true"
        return render(
            request,
            "_usage.html" if fragment else "usage.html",
            actor,
            alert=alert,
            usage=usage.to_dict() if usage.days else None,
            usage_accounts=accounts,
        )

    def _decision_fields(form: dict[str, Any]) -> tuple[str, str, str | None]:
        outcome = (form.get("outcome") or [""])[0]
        reason = (form.get("reason") or [""])[0].strip()
        until = (form.get("suppress_until") or [""])[0].strip() or None
        if outcome not in {str(o) for o, _ in OUTCOMES}:
            raise Refused(400, "choose an outcome")
        if not reason or len(reason) > TEXT:
            raise Refused(400, f"give a reason (1–{TEXT} characters)")
        if until is not None:
            try:
                date.fromisoformat(until)
            except ValueError:
                raise Refused(400, "the suppression date is YYYY-MM-DD") from None
        return outcome, reason, until

    @web.post("/alerts/{alert_id}/decision")
    async def decide(request: Request, alert_id: int) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /alerts/{alert_id}/decision"])
        form = await form_of(request)
        outcome, reason, until = _decision_fields(form)
        casework.decide(
            settings,
            actor,
            alert_id,
            outcome,
            reason,
            suppress_until=until,
            request_id=request.state.request_id,
        )
        return RedirectResponse(f"/alerts/{alert_id}?decided=1#history", status_code=303)

    @web.post("/alerts/{alert_id}/approval")
    async def approve(request: Request, alert_id: int) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /alerts/{alert_id}/approval"])
        form = await form_of(request)
        verdict = (form.get("verdict") or [""])[0]
        reason = (form.get("reason") or [""])[0].strip()
        if verdict not in ("approve", "reject"):
            raise Refused(400, "approve or reject")
        if not reason or len(reason) > TEXT:
            raise Refused(400, f"give a reason (1–{TEXT} characters)")
        casework.approve(
            settings,
            actor,
            alert_id,
            reject=verdict == "reject",
            reason=reason,
            request_id=request.state.request_id,
        )
        return RedirectResponse(f"/alerts/{alert_id}?decided=1#history", status_code=303)

    # -- customers, lists, audit, users --------------------------------------------------------
    @web.get("/customers/{customer_id}", response_class=HTMLResponse)
    def customer_page(request: Request, customer_id: str) -> HTMLResponse:
        actor = need(request, PAGE_PERMISSIONS["GET /customers/{customer_id}"])
        from computekyc.services.customers import customer_detail

        provider = request.query_params.get("provider") or None
        detail = customer_detail(settings, customer_id[:200], provider)
        links = views.Graph()
        for entity in detail.entities:
            part = views.link_graph({"links": entity.links, "accounts": entity.accounts}, "")
            links.nodes.update(part.nodes)
            links.edges.extend(part.edges)
        owners = views.record_ownership(detail.record)
        return render(
            request,
            "customer.html",
            actor,
            detail=detail,
            ownership=owners.to_dict() if owners else None,
            links=links.to_dict() if links else None,
            link_rows=[row for e in detail.entities for row in views.link_rows({"links": e.links})],
        )

    @web.get("/lists", response_class=HTMLResponse)
    def lists_page(request: Request) -> HTMLResponse:
        actor = need(request, PAGE_PERMISSIONS["GET /lists"])
        from computekyc.services.lists import list_snapshots, snapshot_diff

        found = list_snapshots(settings)
        diff = None
        diff_error = None
        q = request.query_params
        try:
            old = int(q["old"]) if q.get("old") else None
            new = int(q["new"]) if q.get("new") else None
        except ValueError:
            raise Refused(400, "snapshots are whole numbers") from None
        if len(found.snapshots) > 1 or old is not None:
            try:
                _pair, diff = snapshot_diff(settings, old, new)
            except ComputekycError as exc:
                diff_error = str(exc)
        return render(
            request,
            "lists.html",
            actor,
            active=found.active,
            snapshots=list(reversed(found.snapshots)),
            diff=diff,
            diff_error=diff_error,
        )

    @web.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request) -> HTMLResponse:
        actor = need(request, PAGE_PERMISSIONS["GET /audit"])
        q = request.query_params
        subject = (q.get("subject") or "").strip()[:200] or None
        # Newest first, as auditors read a log; each page links to the entries before it.
        try:
            before = int(q["before"]) if q.get("before") else None
        except ValueError:
            raise Refused(400, "before is a whole number") from None
        if before is not None and not 0 < before <= MAX_ID:
            raise Refused(400, "before is a whole number from 1")
        entries = casework.audit_log(
            settings,
            actor,
            subject=subject,
            before_seq=before,
            newest_first=True,
            limit=AUDIT_PAGE_SIZE + 1,  # one more: is there an older page?
        )
        older = entries[AUDIT_PAGE_SIZE - 1].seq if len(entries) > AUDIT_PAGE_SIZE else None

        def link(**change: Any) -> str:
            chosen = {k: v for k, v in ({"subject": subject} | change).items() if v}
            return "/audit" + ("?" + urlencode(chosen) if chosen else "")

        return render(
            request,
            "audit.html",
            actor,
            entries=entries[:AUDIT_PAGE_SIZE],
            subject=subject or "",
            before=before,
            older=link(before=older) if older is not None else None,
            newest=link() if before is not None else None,
            quote=quote,
            report=None,
        )

    @web.get("/audit/verify", response_class=HTMLResponse)
    def audit_verify(request: Request) -> HTMLResponse:
        actor = need(request, PAGE_PERMISSIONS["GET /audit/verify"])
        report = casework.audit_verify(settings, actor)
        return render(request, "_verify.html", actor, report=report)

    @web.get("/users", response_class=HTMLResponse)
    def users_page(request: Request) -> HTMLResponse:
        actor = need(request, PAGE_PERMISSIONS["GET /users"])
        found = casework.list_users(settings, actor)
        return render(request, "users.html", actor, users=found, roles=[str(r) for r in Role])

    @web.post("/users/{user_name}/role")
    async def set_role(request: Request, user_name: str) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /users/{user_name}/role"])
        form = await form_of(request)
        role = (form.get("role") or [""])[0]
        casework.set_role(settings, actor, user_name, role, request_id=request.state.request_id)
        return RedirectResponse("/users?changed=" + quote(user_name), status_code=303)

    @web.post("/users/{user_name}/revocation")
    async def revoke(request: Request, user_name: str) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /users/{user_name}/revocation"])
        form = await form_of(request)
        reason = (form.get("reason") or [""])[0].strip()[:TEXT] or None
        casework.revoke_user(
            settings, actor, user_name, reason, request_id=request.state.request_id
        )
        return RedirectResponse("/users?changed=" + quote(user_name), status_code=303)

    @web.post("/cases/{case_id}/comments")
    async def comment(request: Request, case_id: int) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /cases/{case_id}/comments"])
        form = await form_of(request)
        text = (form.get("text") or [""])[0].strip()
        if not text or len(text) > TEXT:
            raise Refused(400, f"write a comment (1–{TEXT} characters)")
        casework.comment_case(settings, actor, case_id, text, request_id=request.state.request_id)
        back = _next((form.get("back") or ["/alerts"])[0])
        return RedirectResponse(back + "#history", status_code=303)

    # -- reports: made by the same services as the API's routes, as the signed-in user --------
    # Making a report writes an audit entry and signs a checkpoint: a form with its CSRF token.
    def _field(form: dict[str, Any], name: str) -> str:
        return str((form.get(name) or [""])[0]).strip()[:200]

    def _choice(form: dict[str, Any], allowed: tuple[str, ...]) -> str:
        value = _field(form, "format") or allowed[0]
        if value not in allowed:
            raise Refused(400, f"the format is one of {', '.join(allowed)}")
        return value

    def _form_day(form: dict[str, Any], name: str, label: str) -> date:
        try:
            return date.fromisoformat(_field(form, name))
        except ValueError:
            raise Refused(400, f"{label} is a date YYYY-MM-DD") from None

    def _day_or(text: str | None, default: date) -> str:
        try:
            return date.fromisoformat(text or "").isoformat()
        except ValueError:
            return default.isoformat()

    def _number(text: str | None) -> int | None:
        return int(text) if text and text.isdigit() and 0 < int(text) <= MAX_ID else None

    @web.get("/reports", response_class=HTMLResponse)
    def reports_page(request: Request) -> HTMLResponse:
        """The report forms; a link (an API report address opened here) fills one in."""
        actor = need(request, PAGE_PERMISSIONS["GET /reports"])
        q = request.query_params
        today = date.today()
        asked = q.get("report") if q.get("report") in REPORT_LABELS else None
        year = _number(q.get("year"))
        return render(
            request,
            "reports.html",
            actor,
            asked=asked,
            asked_label=REPORT_LABELS.get(asked or ""),
            first=_day_or(q.get("from"), today.replace(day=1)),
            last=_day_or(q.get("to"), today),
            year=year if year is not None and 2000 <= year <= 9999 else today.year,
            chosen={
                "runs": q.get("format") if asked == "training-runs" else None,
                "cert": q.get("format") if asked == "certification" else None,
                "screening": q.get("format") if asked == "screening" else None,
            },
            scan=_number(q.get("scan")) if asked == "screening" else None,
            pack_kind=q.get("kind") if q.get("kind") in ("alert", "case") else "alert",
            pack_id=_number(q.get("id")),
            report_formats=REPORT_FORMATS,
            table_formats=TABLE_FORMATS,
        )

    # A browser that opens one of the API's report addresses (a link in a mail or a ticket)
    # gets that report's form filled in from the address, after signing in: making a report
    # is recorded in the audit log, so the user submits it (with the form's CSRF token).
    def _report_link(path: str, report: str, fields: tuple[str, ...]) -> Callable[..., Response]:
        permission = PAGE_PERMISSIONS[f"GET {path}"]

        def link(request: Request) -> Response:
            need(request, permission)
            q = request.query_params
            query = {"report": report} | {name: q[name][:200] for name in fields if q.get(name)}
            for name, value in request.path_params.items():  # alert_id or case_id
                query |= {"kind": name.removesuffix("_id"), "id": str(value)[:200]}
            return RedirectResponse("/reports?" + urlencode(query), status_code=303)

        return link

    for path, (report, fields) in REPORT_LINKS.items():
        web.add_api_route(path, _report_link(path, report, fields), methods=["GET"])

    @web.post("/reports/training-runs")
    async def training_runs_download(request: Request) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /reports/training-runs"])
        form = await form_of(request)
        first, last = _form_day(form, "from", "From"), _form_day(form, "to", "To")
        from computekyc.services.reports_runs import training_runs_file

        found = training_runs_file(
            settings, None, first, last, _choice(form, REPORT_FORMATS), actor=actor
        )
        return attachment(found.data, found.media_type, found.file_name)

    @web.post("/reports/certification")
    async def certification_download(request: Request) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /reports/certification"])
        form = await form_of(request)
        year = _field(form, "year")
        if not (year.isdigit() and 2000 <= int(year) <= 9999):
            raise Refused(400, "the year is four digits, 2000 or later")
        from computekyc.services.reports_runs import certification_file

        found = certification_file(
            settings, None, int(year), _choice(form, REPORT_FORMATS), actor=actor
        )
        return attachment(found.data, found.media_type, found.file_name)

    @web.post("/reports/screening")
    async def screening_download(request: Request) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /reports/screening"])
        form = await form_of(request)
        from computekyc.reports import ReportFormat
        from computekyc.services.reports import screening_report

        chosen = ReportFormat(_choice(form, TABLE_FORMATS))
        scan = _field(form, "scan")
        if scan and not (scan.isdigit() and 0 < int(scan) <= MAX_ID):
            raise Refused(400, "the scan is a whole number")
        report = screening_report(settings, actor, chosen, scan_id=int(scan) if scan else None)
        return attachment(report.data, chosen.media_type, report.file_name)

    @web.post("/reports/evidence")
    async def evidence_download(request: Request) -> Response:
        actor = need(request, PAGE_PERMISSIONS["POST /reports/evidence"])
        form = await form_of(request)
        kind, number = _field(form, "kind") or "alert", _field(form, "id")
        if kind not in ("alert", "case"):
            raise Refused(400, "an evidence pack is of an alert or a case")
        if not (number.isdigit() and 0 < int(number) <= MAX_ID):
            raise Refused(400, f"the {kind} id is a whole number")
        from computekyc.services.reports import PackRef, evidence_pack

        pack = evidence_pack(settings, actor, PackRef(kind, int(number)))
        return attachment(pack.data, "application/zip", pack.file_name)

    routes = {
        f"{method} {route.path}"
        for route in web.routes
        if isinstance(route, APIRoute)
        for method in (route.methods or set()) - {"HEAD"}
    }
    if set(PAGE_PERMISSIONS) != routes:
        raise AssertionError("PAGE_PERMISSIONS and the UI's routes differ")  # a coding bug
    return web
