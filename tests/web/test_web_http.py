"""The UI's pages over plain HTTP: every page and action × every role as the role matrix says,
CSRF on every form, sign-in audited, and the API still answering its clients at the same paths."""

from __future__ import annotations

import re

import httpx
import pytest

from computekyc.users import permissions_of
from computekyc.web import PAGE_PERMISSIONS

from .conftest import USERS, WebServer, csrf_of, sign_in_client

pytestmark = pytest.mark.xdist_group("web")
CONCRETE = {
    "{alert_id}": "999999",
    "{customer_id}": "c-105",
    "{case_id}": "999999",
    "{user_name}": "nobody-here",
}
FORMS = {
    "POST /users/{user_name}/role": {"role": "viewer"},
    "POST /users/{user_name}/revocation": {"reason": "matrix"},
    "POST /cases/{case_id}/comments": {"text": "matrix"},
    "POST /alerts/decisions": {"alert": "999999", "outcome": "escalated", "reason": "matrix"},
    "POST /alerts/{alert_id}/decision": {"outcome": "escalated", "reason": "matrix"},
    "POST /alerts/{alert_id}/approval": {"verdict": "approve", "reason": "matrix"},
}


def _path(template: str) -> str:
    for key, value in CONCRETE.items():
        template = template.replace(key, value)
    return template


@pytest.mark.parametrize("user", sorted(USERS))
def test_every_page_and_action_follows_the_role_matrix(web_server: WebServer, user: str) -> None:
    role = USERS[user][0]
    held = permissions_of(role)
    with sign_in_client(web_server, user) as client:
        csrf = csrf_of(client, "/login")
        for route, permission in PAGE_PERMISSIONS.items():
            if permission is None:
                continue
            method, template = route.split(" ", 1)
            if method == "GET":
                answer = client.get(_path(template))
            else:
                answer = client.post(_path(template), data={"csrf": csrf, **FORMS[route]})
            if permission not in held:
                assert answer.status_code == 403, (route, role, answer.status_code)
                assert f"does not hold {permission.value}" in answer.text
            else:
                # Allowed: the page, a redirect, or "no alert 999999" (nothing changes).
                assert answer.status_code in (200, 303, 404), (route, role, answer.text[:300])


def test_signed_out_pages_send_to_sign_in(web_server: WebServer) -> None:
    with httpx.Client(base_url=web_server.url, headers={"Accept": "text/html"}) as client:
        for route, permission in PAGE_PERMISSIONS.items():
            method, template = route.split(" ", 1)
            if permission is None or method != "GET":
                continue
            answer = client.get(_path(template))
            assert answer.status_code == 303, route
            assert answer.headers["location"].startswith("/login?next=")


def test_forms_need_the_sessions_csrf_token(web_server: WebServer) -> None:
    with sign_in_client(web_server, "ana") as client:
        for token in (None, "forged"):
            data = {"outcome": "escalated", "reason": "csrf"}
            if token:
                data["csrf"] = token
            answer = client.post("/alerts/1/decision", data=data)
            assert answer.status_code == 403
            assert "did not come from this site" in answer.text
        assert "escalated by ana" not in client.get("/alerts/1").text
    with httpx.Client(base_url=web_server.url) as fresh:
        answer = fresh.post("/login", data={"username": "ana", "password": USERS["ana"][1]})
        assert answer.status_code == 403  # a sign-in form needs its token too


def test_sign_in_and_its_refusal_are_audited(web_server: WebServer) -> None:
    with httpx.Client(base_url=web_server.url, headers={"Accept": "text/html"}) as client:
        csrf = client.get("/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        refused = client.post("/login", data={"csrf": csrf, "username": "vic", "password": "x"})
        assert refused.status_code == 401
    with sign_in_client(web_server, "vic"):
        pass
    api = httpx.Client(
        base_url=web_server.url, headers={"Authorization": f"Bearer {web_server.tokens['adam']}"}
    )
    entries = api.get("/audit", params={"limit": 5000}).json()["results"]
    actions = [(e["action"], e["object"]["id"]) for e in entries]
    assert ("user.sign_in_refused", "vic") in actions
    assert ("user.sign_in", "vic") in actions
    assert not any(str(e.get("after")) == "x" for e in entries)  # never the password


def test_the_api_still_answers_its_clients_at_the_same_paths(web_server: WebServer) -> None:
    headers = {"Authorization": f"Bearer {web_server.tokens['vic']}"}
    with httpx.Client(base_url=web_server.url, headers=headers) as api:
        answer = api.get("/alerts", params={"limit": 2})
        assert answer.headers["content-type"].startswith("application/json")
        assert len(answer.json()["results"]) == 2
        # Even with a browser's Accept header, a bearer token means the API.
        assert api.get("/lists", headers={"Accept": "text/html"}).json()["active"] == 1
    with httpx.Client(base_url=web_server.url) as anonymous:
        assert anonymous.get("/alerts").status_code == 401  # an API client without a token


def test_vendored_assets_are_served_and_recorded(web_server: WebServer) -> None:
    import json
    from importlib import resources

    vendor = resources.files("computekyc.web") / "static" / "vendor"
    recorded = json.loads((vendor / "VENDORED.json").read_text("utf-8"))
    assert {r["package"] for r in recorded} == {"htmx.org", "echarts"}
    with httpx.Client(base_url=web_server.url) as client:
        for record in recorded:
            assert (vendor / record["license_file"]).is_file()
            for name in record["files"]:
                answer = client.get(f"/ui/static/vendor/{name}")
                assert answer.status_code == 200 and len(answer.content) > 10_000
    with sign_in_client(web_server, "ana") as client:
        page = client.get("/alerts")
    assert "https://" not in page.text.split("<main", 1)[0]  # no CDN in the page head
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_escalate_then_comment_on_the_case(web_server: WebServer) -> None:
    api = httpx.Client(
        base_url=web_server.url, headers={"Authorization": f"Bearer {web_server.tokens['adam']}"}
    )
    found = api.get("/alerts", params={"type": "unclassified_hardware"}).json()["results"]
    alert_id = found[0]["id"]
    with sign_in_client(web_server, "ana") as client:
        csrf = csrf_of(client)
        decided = client.post(
            f"/alerts/{alert_id}/decision",
            data={"csrf": csrf, "outcome": "escalated", "reason": "ask the account owner"},
        )
        assert decided.status_code == 303
        case_id = api.get(f"/alerts/{alert_id}").json()["case_id"]
        assert case_id is not None  # an escalated alert goes into its subject's case
        commented = client.post(
            f"/cases/{case_id}/comments",
            data={"csrf": csrf, "text": "owner says: render farm", "back": f"/alerts/{alert_id}"},
        )
        assert commented.status_code == 303
        page = re.sub(r"<[^>]+>", "", client.get(f"/alerts/{alert_id}").text)
        assert "comment by ana" in page and "owner says: render farm" in page
        assert "escalated by ana (analyst)" in page


def test_admin_changes_a_role_and_revokes_at_once(web_server: WebServer) -> None:
    from computekyc.services import casework
    from computekyc.settings import Settings
    from computekyc.users import local_operator

    settings = Settings(home=web_server.home)
    casework.add_user(settings, local_operator(), "temp", "viewer", password="temp-password")
    USERS["temp"] = ("viewer", "temp-password")
    try:
        with sign_in_client(web_server, "temp") as temp, sign_in_client(web_server, "adam") as adm:
            assert temp.get("/audit").status_code == 403
            csrf = csrf_of(adm, "/users")
            assert (
                adm.post("/users/temp/role", data={"csrf": csrf, "role": "auditor"}).status_code
                == 303
            )
            assert temp.get("/audit").status_code == 200  # the new role holds at once
            answer = adm.post("/users/temp/revocation", data={"csrf": csrf, "reason": "left"})
            assert answer.status_code == 303
            assert "revoked" in adm.get("/users").text
            gone = temp.get("/alerts")  # the session ends with the revocation
            assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    finally:
        del USERS["temp"]


def test_bulk_decision_from_the_queue(web_server: WebServer) -> None:
    api = httpx.Client(
        base_url=web_server.url, headers={"Authorization": f"Bearer {web_server.tokens['adam']}"}
    )
    ids = [
        api.get("/alerts", params={"type": kind}).json()["results"][0]["id"]
        for kind in ("identity_churn", "structuring")
    ]
    with sign_in_client(web_server, "ana") as client:
        queue = client.get("/alerts", params={"severity": "medium"}).text
        for alert_id in ids:  # each row offers its checkbox
            assert f'name="alert" value="{alert_id}"' in queue
        answer = client.post(
            "/alerts/decisions",
            data={
                "csrf": csrf_of(client),
                "alert": [str(i) for i in ids],
                "outcome": "escalated",
                "reason": "same structuring ring",
                "back": "/alerts?severity=medium",
            },
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/alerts?severity=medium&decided=2"
    for alert_id in ids:
        decisions = api.get(f"/alerts/{alert_id}").json()["decisions"]
        assert [(d["outcome"], d["decided_by"], d["reason"]) for d in decisions] == [
            ("escalated", "ana", "same structuring ring")
        ]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_sign_in_never_redirects_off_site(web_server: WebServer, target: str) -> None:
    with httpx.Client(base_url=web_server.url, headers={"Accept": "text/html"}) as client:
        csrf = csrf_of(client, "/login")
        answer = client.post(
            "/login",
            data={"csrf": csrf, "username": "vic", "password": USERS["vic"][1], "next": target},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/alerts"
