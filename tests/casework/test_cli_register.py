"""``alerts decide|approve`` join the ``alerts`` group another module registered, or make it."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from computekyc.cli import casework as casework_cli


def _commands(app: typer.Typer, group: str) -> set[str]:
    [info] = [g for g in app.registered_groups if g.name == group]
    assert isinstance(info.typer_instance, typer.Typer)
    return {c.name or "" for c in info.typer_instance.registered_commands}


def test_joins_an_existing_alerts_group() -> None:
    app = typer.Typer()
    alerts = typer.Typer()

    @alerts.command("list")
    def list_alerts() -> None:
        typer.echo("the queue")

    app.add_typer(alerts, name="alerts")
    casework_cli.register(app)
    assert [g.name for g in app.registered_groups].count("alerts") == 1
    assert {"list", "decide", "approve"} <= _commands(app, "alerts")
    assert CliRunner().invoke(app, ["alerts", "list"]).output == "the queue\n"


def test_makes_the_alerts_group_when_absent() -> None:
    app = typer.Typer()
    casework_cli.register(app)
    assert _commands(app, "alerts") == {"decide", "approve"}
    assert {g.name for g in app.registered_groups} == {"alerts", "cases", "users", "audit"}
