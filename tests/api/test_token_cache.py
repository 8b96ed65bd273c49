"""Verified tokens are remembered for a few seconds on routes that only read; a revoked token
is refused by those once that time has passed, and at once by routes that change something."""

from __future__ import annotations

import json
import time

import httpx

from computekyc.api.security import TOKEN_CACHE_SECONDS

from .conftest import Server, run_cli


def test_a_revoked_token_is_refused_within_the_cache_time(server: Server) -> None:
    added = json.loads(run_cli(server.env, "users", "add", "leaver", "--role", "analyst", "--json"))
    headers = {"Authorization": f"Bearer {added['token']}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        assert client.get("/alerts", params={"limit": 1}).status_code == 200  # now remembered
        run_cli(server.env, "users", "revoke", "leaver", "--reason", "left the team")
        revoked_at = time.monotonic()
        # A change is always checked against the database: refused at once.
        decided = client.post(
            "/alerts/999999/decision", json={"outcome": "escalated", "reason": "after revocation"}
        )
        assert decided.status_code == 401, decided.text
        time.sleep(max(0.0, TOKEN_CACHE_SECONDS + 0.5 - (time.monotonic() - revoked_at)))
        for path in ("/alerts", "/catalog", "/cases"):
            refused = client.get(path)
            assert refused.status_code == 401, (path, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
