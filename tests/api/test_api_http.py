"""The API over real HTTP: roles on every route, four eyes, yente's request shape, bad input."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from computekyc.api import create_app
from computekyc.settings import Settings
from computekyc.users import Role, permissions_of

from .conftest import Server


def _routes() -> list[tuple[str, str, Any]]:
    app = create_app(Settings(home=__import__("pathlib").Path("/nonexistent")))
    found = []
    for route in app.routes:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        permissions = [
            getattr(dep.call, "permission", None)
            for dep in dependant.dependencies
            if getattr(dep.call, "permission", None) is not None
        ]
        for method in sorted(route.methods - {"HEAD"}):  # type: ignore[attr-defined]
            found.append((method, route.path, permissions[0] if permissions else None))  # type: ignore[attr-defined]
    return found


PUBLIC = {
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/algorithms",
}
BODIES: dict[str, Any] = {
    "/match/{dataset}": {"queries": {"q": {"schema": "Company", "properties": {"name": ["X"]}}}},
    "/alerts/{alert_id}/decision": {"outcome": "escalated", "reason": "role matrix"},
    "/alerts/{alert_id}/approval": {"approve": True, "reason": "role matrix"},
    "/cases/{case_id}/comments": {"text": "role matrix"},
    "/cases/{case_id}/assignee": {"assignee": "analyst"},
    "/cases/{case_id}/closure": {"reason": "role matrix"},
    "/scans": {"provider_dir": "/nonexistent/provider"},
}


def _concrete(path: str) -> str:
    # Unknown ids: an allowed role gets 404 (nothing changes), a refused one 403 before that.
    return (
        path.replace("{dataset}", "default")
        .replace("{alert_id}", "999999")
        .replace("{case_id}", "999999")
        .replace("{entity_id}", "no-such-party")
        .replace("{scan_id}", "no-such-scan")
        .replace("{customer_id}", "no-such-customer")
    )


def test_every_route_is_public_or_needs_a_permission() -> None:
    for method, path, permission in _routes():
        assert path in PUBLIC or permission is not None, (method, path)


@pytest.mark.parametrize("user", ["viewer", "analyst", "reviewer", "auditor", "admin"])
def test_role_matrix_on_every_route(server: Server, user: str) -> None:
    granted = permissions_of(Role(user if user != "analyst" else "analyst"))
    with server.client(user) as client:
        for method, path, permission in _routes():
            if permission is None:
                continue
            url = _concrete(path) + ("?q=huawei" if path.startswith("/search") else "")
            response = client.request(method, url, json=BODIES.get(path))
            assert response.status_code < 500, (method, path, response.text)
            if permission in granted:
                assert response.status_code not in (401, 403), (user, method, path, response.text)
            else:
                assert response.status_code == 403, (user, method, path, response.status_code)
                assert response.headers["content-type"].startswith("application/problem+json")


def test_no_token_or_a_bad_one_is_401(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/alerts").status_code == 401
        bad = client.get("/alerts", headers={"Authorization": "Bearer ck_nope_nope"})
        assert bad.status_code == 401
        assert bad.json()["status"] == 401
        assert client.get("/healthz").status_code == 200
        assert client.get("/openapi.json").status_code == 200


def _critical_open(server: Server) -> int:
    with server.client("viewer") as client:
        queue = client.get("/alerts", params={"status": "open", "limit": 100}).json()["results"]
    return next(a["id"] for a in queue if a["severity"] == "critical")


def test_four_eyes_over_http(server: Server) -> None:
    alert_id = _critical_open(server)
    with server.client("analyst") as analyst:
        decided = analyst.post(
            f"/alerts/{alert_id}/decision",
            json={"outcome": "false_positive", "reason": "different person, other country"},
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["alert"]["status"] == "pending_approval"
        assert (
            analyst.post(
                f"/alerts/{alert_id}/approval", json={"approve": True, "reason": "ok"}
            ).status_code
            == 403
        )
    with server.client("viewer") as viewer:
        refused = viewer.post(
            f"/alerts/{alert_id}/decision", json={"outcome": "confirmed", "reason": "x"}
        )
        assert refused.status_code == 403
    with server.client("reviewer") as reviewer:
        approved = reviewer.post(
            f"/alerts/{alert_id}/approval", json={"approve": True, "reason": "agree"}
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["alert"]["status"] in ("closed", "suppressed")
    with server.client("auditor") as auditor:
        log = auditor.get("/audit", params={"limit": 5000}).json()["results"]
        actions = [
            (e["actor"]["user"], e["action"]) for e in log if e["object"]["id"] == str(alert_id)
        ]
        assert any(user == "analyst" for user, _ in actions)
        assert any(user == "reviewer" for user, _ in actions)
        assert auditor.get("/audit/verify").json()["intact"] is True


def test_the_decider_cannot_approve_their_own_decision(server: Server) -> None:
    with server.client("viewer") as client:
        queue = client.get("/alerts", params={"status": "open", "limit": 100}).json()["results"]
    alert_id = next(a["id"] for a in queue if a["severity"] == "high")
    with server.client("reviewer2") as reviewer:
        decided = reviewer.post(
            f"/alerts/{alert_id}/decision", json={"outcome": "false_positive", "reason": "mine"}
        )
        assert decided.json()["alert"]["status"] == "pending_approval"
        own = reviewer.post(f"/alerts/{alert_id}/approval", json={"approve": True, "reason": "ok"})
        assert own.status_code == 403, own.text


def test_a_yente_client_request_works_unchanged(server: Server) -> None:
    # yente's own test query (tests/test_match.py), against the same ZALA FtM data.
    query = {
        "queries": {
            "vv": {
                "schema": "Person",
                "properties": {
                    "name": ["Alexander Vyacheslavovich ZAKHAROV"],
                    "birthDate": ["1965"],
                    "country": "Russia",
                },
            }
        }
    }
    with server.client("viewer") as client:
        response = client.post("/match/default", json=query, params={"algorithm": "best"})
    assert response.status_code == 200, response.text
    data = response.json()
    answer = data["responses"]["vv"]
    assert answer["query"]["schema"] == "Person"
    assert answer["query"]["properties"]["country"][0] == "ru"
    assert answer["total"]["value"] > 0
    best = answer["results"][0]
    assert "ZAKHAROV" in best["caption"].upper()
    for key in (
        "id",
        "caption",
        "schema",
        "properties",
        "datasets",
        "score",
        "match",
        "explanations",
    ):
        assert key in best
    assert best["match"] is True and best["schema"] == "Person"
    assert data["snapshot"] and data["rule_versions"]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"x" * 2_000_000, {"content-type": "application/json"}, 413),
        (b"[" * 50_000 + b"]" * 50_000, {"content-type": "application/json"}, 0),  # 400 or 422
        (b"\xff\xfe\x00{", {"content-type": "application/json"}, 0),  # 400 or 422
        (
            json.dumps(
                {
                    "queries": {
                        f"q{i}": {"schema": "Company", "properties": {"name": ["a"]}}
                        for i in range(10_000)
                    }
                }
            ).encode(),
            {"content-type": "application/json"},
            400,
        ),
        (
            b'{"queries": {"q": {"schema": "Spaceship", "properties": {"name": ["x"]}}}}',
            {"content-type": "application/json"},
            422,
        ),
        (
            b'{"queries": {"q": {"schema": "Company", "properties": {}}}}',
            {"content-type": "application/json"},
            422,
        ),
        (
            b'{"queries": {"q": {"schema": "Company", '
            b'"properties": {"name": ["x"], "country": 5}}}}',
            {"content-type": "application/json"},
            422,
        ),
    ],
)
def test_bad_input_is_a_4xx_problem(
    server: Server, body: bytes, headers: dict[str, str], status: int
) -> None:
    with server.client("viewer") as client:
        response = client.post("/match/default", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text[:300]
    if status:
        assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    assert "x-request-id" in response.headers
