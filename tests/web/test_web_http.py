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
    "POST /reports/training-runs": {"from": "2026-11-01", "to": "2026-11-30", "format": "json"},
    "POST /reports/certification": {"year": "2026", "format": "json"},
    "POST /reports/screening": {"format": "csv"},
    "POST /reports/evidence": {"kind": "alert", "id": "999999"},
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


def test_a_reviewer_downloads_reports_from_the_reports_page(web_server: WebServer) -> None:
    """The Reports page's forms answer with the same documents the API's routes make (the
    same services), as the signed-in user; an evidence pack made in the UI verifies."""
    import json

    from computekyc.services.reports import verify_evidence_pack
    from computekyc.settings import Settings

    api = httpx.Client(
        base_url=web_server.url,
        headers={"Authorization": f"Bearer {web_server.tokens['rita']}"},
        timeout=120,
    )
    period = {"from": "2026-09-01", "to": "2026-11-30"}
    with sign_in_client(web_server, "rita") as client:
        page = client.get("/reports")
        assert page.status_code == 200
        for action in ("training-runs", "certification", "screening", "evidence"):
            assert f'action="/reports/{action}"' in page.text
        assert '<a href="/reports" aria-current="page">Reports</a>' in page.text
        csrf = csrf_of(client, "/reports")
        runs = client.post(
            "/reports/training-runs", data={"csrf": csrf, **period, "format": "json"}
        )
        assert runs.status_code == 200, runs.text[:300]
        assert runs.headers["content-type"].startswith("application/json")
        assert runs.headers["content-disposition"] == (
            'attachment; filename="training-runs-2026-09-01-2026-11-30.json"'
        )
        from_ui = json.loads(runs.content)
        from_api = api.get("/reports/training-runs", params=period).json()
        assert from_ui["generated_by"]["user"] == "rita"
        assert from_ui["runs"], "the example provider's large runs are reported"
        assert [r["id"] for r in from_ui["runs"]] == [r["id"] for r in from_api["runs"]]
        assert from_ui["book_revision"] == from_api["book_revision"]
        assert all(r["customer"] is None or r["customer"]["matches_book"] for r in from_ui["runs"])

        alert_id = api.get("/alerts", params={"type": "restricted_party_match"}).json()["results"][
            0
        ]["id"]
        assert f"Evidence pack of alert #{alert_id}" in client.get(f"/alerts/{alert_id}").text
        pack = client.post(
            "/reports/evidence", data={"csrf": csrf, "kind": "alert", "id": alert_id}
        )
        assert pack.status_code == 200, pack.text[:300]
        assert pack.headers["content-type"] == "application/zip"
        assert f'filename="evidence-alert-{alert_id}.zip"' in pack.headers["content-disposition"]
        verified = verify_evidence_pack(Settings(home=web_server.home), pack.content, None)
        assert verified.intact, verified.findings
        missing = client.post("/reports/evidence", data={"csrf": csrf, "kind": "case", "id": "9"})
        assert missing.status_code == 404
        forged = client.post("/reports/training-runs", data={"csrf": "forged", **period})
        assert forged.status_code == 403
    entries = (
        httpx.Client(
            base_url=web_server.url,
            headers={"Authorization": f"Bearer {web_server.tokens['adam']}"},
        )
        .get("/audit", params={"limit": 5000})
        .json()["results"]
    )
    made = [(e["action"], e["actor"]["user"]) for e in entries]
    assert ("report.training_runs", "rita") in made


@pytest.mark.parametrize("user", ["vic", "ana"])
def test_viewers_and_analysts_have_no_reports(web_server: WebServer, user: str) -> None:
    with sign_in_client(web_server, user) as client:
        assert client.get("/reports").status_code == 403
        alerts = client.get("/alerts").text
        assert 'href="/reports"' not in alerts
        alert_id = re.search(r'href="/alerts/(\d+)"', alerts)
        assert alert_id is not None
        assert "Evidence pack" not in client.get(f"/alerts/{alert_id.group(1)}").text


def _audit_seqs(page: str) -> list[int]:
    return [int(seq) for seq in re.findall(r"<tr><td>(\d+)</td><td><time", page)]


def test_the_audit_page_shows_the_newest_entries_first_and_pages_back(
    web_server: WebServer,
) -> None:
    from computekyc.web.app import AUDIT_PAGE_SIZE

    api = httpx.Client(
        base_url=web_server.url,
        headers={"Authorization": f"Bearer {web_server.tokens['adam']}"},
        timeout=60,
    )
    with sign_in_client(web_server, "audrey") as client:
        stored = [e["seq"] for e in api.get("/audit", params={"limit": 5000}).json()["results"]]
        # More than a page, so that the pages are walked (a refused sign-in is an entry).
        with httpx.Client(base_url=web_server.url, headers={"Accept": "text/html"}) as other:
            login_csrf = csrf_of(other, "/login")
            for _ in range(AUDIT_PAGE_SIZE + 5 - len(stored)):
                refused = other.post(
                    "/login", data={"csrf": login_csrf, "username": "nobody", "password": "x"}
                )
                assert refused.status_code == 401
        stored = [e["seq"] for e in api.get("/audit", params={"limit": 5000}).json()["results"]]
        assert len(stored) > AUDIT_PAGE_SIZE
        first = client.get("/audit")
        assert first.status_code == 200
        assert "newest first" in first.text and "Verify the chain" in first.text
        assert "Newest entries" not in first.text  # already on the newest page
        seen, page, pages = [], first.text, 1
        while True:
            seqs = _audit_seqs(page)
            assert len(seqs) <= AUDIT_PAGE_SIZE
            seen += seqs
            older = re.search(r'<a href="([^"]+)" rel="next">Older entries</a>', page)
            if older is None:
                break
            assert "Newest entries" in page or pages == 1
            page = client.get(older.group(1).replace("&amp;", "&")).text
            pages += 1
        assert pages >= 2
        assert seen == sorted(stored, reverse=True)  # every entry once, newest first
        # Paging within a subject keeps the subject.
        about = client.get("/audit", params={"subject": "c-105"}).text
        subject_seqs = _audit_seqs(about)
        assert subject_seqs and subject_seqs == sorted(subject_seqs, reverse=True)
        assert client.get("/audit", params={"before": "x"}).status_code == 400


def test_a_browser_opening_an_api_report_address_gets_the_report_form(
    web_server: WebServer,
) -> None:
    links = {
        "/reports/training-runs?from=2026-11-01&to=2026-11-15&format=pdf": [
            'value="2026-11-01"',
            'value="2026-11-15"',
            '<option value="pdf" selected>',
            "asks for the training-runs report",
        ],
        "/reports/certification?year=2025&format=html": [
            'value="2025"',
            '<option value="html" selected>',
        ],
        "/reports/screening?format=xlsx&scan=1": [
            '<option value="xlsx" selected>',
            'name="scan" value="1"',
        ],
        "/reports/alerts/3/evidence": ['<option value="alert" selected>', 'value="3"'],
        "/reports/cases/2/evidence": ['<option value="case" selected>', 'value="2"'],
    }
    with httpx.Client(base_url=web_server.url, headers={"Accept": "text/html"}) as browser:
        for link in links:
            answer = browser.get(link)  # signed out: sign in first, then back to the link
            assert answer.status_code == 303, (link, answer.status_code)
            location = answer.headers["location"]
            assert location.startswith("/login?next=")
            assert httpx.URL(location).params["next"] == link
    with sign_in_client(web_server, "rita") as client:
        for link, expected in links.items():
            answer = client.get(link, follow_redirects=True)
            assert answer.status_code == 200, (link, answer.text[:300])
            assert answer.url.path == "/reports"
            for text in expected:
                assert text in answer.text, (link, text)
        # The filled-in form makes the report asked for (the scan it names included).
        form = client.get("/reports/screening?format=csv&scan=1", follow_redirects=True).text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        made = client.post("/reports/screening", data={"csrf": csrf, "format": "csv", "scan": "1"})
        assert made.status_code == 200 and "scan-1" in made.headers["content-disposition"]
    with sign_in_client(web_server, "vic") as viewer:  # no reports.read: refused, not a form
        assert viewer.get("/reports/cases/2/evidence").status_code == 403
    # API clients still get the report itself at the same address.
    api = httpx.Client(
        base_url=web_server.url,
        headers={"Authorization": f"Bearer {web_server.tokens['rita']}"},
        timeout=120,
    )
    answer = api.get("/reports/certification", params={"year": 2025})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
