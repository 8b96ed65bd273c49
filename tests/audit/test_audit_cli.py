"""The command-line round trip: users add --json, alerts decide, alerts approve, audit
checkpoint, audit verify (exit 0, then exit 1 naming the first bad entry after tampering),
audit log and key export — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.workflow import open_database

pytestmark = pytest.mark.xdist_group("postgres")
runner = CliRunner()


def _run(*args: str, stdin: str | None = None, code: int = 0) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output + str(result.exception)
    return result.output


@pytest.fixture()
def cli_desk(desk: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("COMPUTEKYC_HOME", str(desk.settings.home))
    if desk.settings.database_url:
        monkeypatch.setenv("COMPUTEKYC_DATABASE_URL", desk.settings.database_url)
    else:
        monkeypatch.delenv("COMPUTEKYC_DATABASE_URL", raising=False)
    return desk


def test_decide_approve_verify_round_trip(cli_desk: Any, tmp_path: Path) -> None:
    added = json.loads(_run("users", "add", "ana", "--role", "analyst", "--json"))
    assert set(added) == {"user", "role", "token"}
    assert (added["user"], added["role"]) == ("ana", "analyst")
    assert added["token"].startswith("ck_")
    _run("users", "add", "rev", "--role", "reviewer", "--password-stdin", stdin="s3cret\n")
    alert = cli_desk.alert(severity="critical", customer="c9")
    low = cli_desk.alert(severity="low", customer="c8")

    out = _run(
        "alerts",
        "decide",
        str(alert.id),
        "--outcome",
        "false_positive",
        "--reason",
        "a namesake",
        "--user",
        "ana",
    )
    assert "pending_approval" in out
    refused = runner.invoke(app, ["alerts", "approve", str(alert.id), "--user", "ana"])
    assert refused.exit_code == 2 and "alerts.approve" in refused.output
    approved = json.loads(_run("alerts", "approve", str(alert.id), "--user", "rev", "--json"))
    assert approved["alert"]["status"] == "closed"
    assert approved["decision"]["reviewed_by"] == "rev"
    decided = json.loads(
        _run(
            "alerts",
            "decide",
            str(low.id),
            "--outcome",
            "confirmed",
            "--reason",
            "match",
            "--user",
            "ana",
            "--json",
        )
    )
    assert decided[0]["alert"]["status"] == "closed"

    checkpoint = tmp_path / "checkpoint.json"
    _run("audit", "checkpoint", "--export", str(checkpoint))
    key = tmp_path / "audit.pub"
    _run("audit", "key", "--export", str(key))
    assert key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    report = json.loads(
        _run("audit", "verify", "--checkpoint", str(checkpoint), "--key", str(key), "--json")
    )
    assert report["intact"] and report["entries"] == 5 and report["checkpoints"] == 2
    log = json.loads(_run("audit", "log", "--subject", "c9", "--json"))
    assert [(e["action"], e["actor"]["user"]) for e in log] == [
        ("alert.decide", "ana"),
        ("alert.approve", "rev"),
    ]
    assert log[0]["reason"] == "a namesake" and log[0]["context"]["snapshot"] == "7"

    engine = open_database(cli_desk.settings)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET actor_user = 'boss' WHERE seq = 4"))
    result = runner.invoke(app, ["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert "first bad entry: #4" in result.output
    as_json = runner.invoke(app, ["audit", "verify", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["first_bad"] == 4


def test_revoked_user_cannot_decide_from_the_command_line(cli_desk: Any) -> None:
    _run("users", "add", "ana", "--role", "analyst")
    alert = cli_desk.alert(severity="low")
    _run("users", "revoke", "ana", "--reason", "left")
    listed = json.loads(_run("users", "list", "--json"))
    assert listed[0]["user"] == "ana" and listed[0]["disabled_at"] is not None
    result = runner.invoke(
        app,
        [
            "alerts",
            "decide",
            str(alert.id),
            "--outcome",
            "confirmed",
            "--reason",
            "x",
            "--user",
            "ana",
        ],
    )
    assert result.exit_code == 2 and "revoked" in result.output
    unknown = runner.invoke(app, ["alerts", "approve", "1", "--user", "nobody"])
    assert unknown.exit_code == 2 and "no user" in unknown.output
