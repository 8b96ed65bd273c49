"""``computekyc alerts list|show``: the alert queue the scans raise."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from computekyc.alerts import AlertStatus, AlertStore, AlertType
from computekyc.exc import OptionError
from computekyc.settings import Settings
from computekyc.workflow import open_database

console = Console()
alerts_app = typer.Typer(help="The alert queue raised by `computekyc scan`.", no_args_is_help=True)


def _store() -> AlertStore:
    return AlertStore(open_database(Settings.from_env()))


def _statuses(value: str) -> list[AlertStatus] | None:
    if value == "all":
        return None
    try:
        return [AlertStatus(value)]
    except ValueError:
        choices = ", ".join([*(str(s) for s in AlertStatus), "all"])
        raise OptionError(f"--status must be one of {choices}, not {value!r}") from None


def _types(value: str | None) -> list[AlertType] | None:
    if value is None:
        return None
    try:
        return [AlertType(value)]
    except ValueError:
        choices = ", ".join(str(t) for t in AlertType)
        raise OptionError(f"--type must be one of {choices}, not {value!r}") from None


@alerts_app.command("list")
def list_command(
    status: str = typer.Option(
        "open", "--status", help="open, pending_approval, closed, suppressed or all."
    ),
    type_: str | None = typer.Option(None, "--type", help="Only alerts of this type."),
    subject: str | None = typer.Option(None, "--subject", help="Only alerts about this id."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """The queue, most severe first."""
    found = _store().list(status=_statuses(status), types=_types(type_), subject_id=subject)
    if as_json:
        typer.echo(json.dumps([a.to_dict() for a in found], ensure_ascii=False, indent=1))
        return
    if not found:
        console.print("No alerts.", markup=False)
        return
    table = Table(title=f"{len(found)} alert(s)")
    for column in ("id", "severity", "type", "subject", "summary", "last seen"):
        table.add_column(column, overflow="fold")
    for alert in found:
        who = f"{alert.subject.kind} {alert.subject.id}"
        if alert.subject.name:
            who += f"\n{alert.subject.name}"
        table.add_row(
            str(alert.id),
            str(alert.severity),
            str(alert.type),
            who,
            alert.summary,
            alert.last_seen,
        )
    console.print(table, markup=False)


@alerts_app.command("show")
def show_command(
    alert_id: int = typer.Argument(..., help="The alert id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One alert with its evidence and history."""
    alert = _store().get(alert_id)
    data = alert.to_dict()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    typer.echo(f"alert {alert.id}  [{alert.severity}] {alert.type}  {alert.status}")
    typer.echo(f"subject: {alert.subject.kind} {alert.subject.id} {alert.subject.name or ''}")
    typer.echo(f"summary: {alert.summary}")
    typer.echo(f"snapshot: {alert.snapshot}; rules: {json.dumps(alert.rule_versions)}")
    typer.echo(f"first seen {alert.first_seen}, last seen {alert.last_seen}")
    for change in alert.changes:
        typer.echo(f"  {change['at']}: {change['change']}")
    typer.echo("evidence:")
    typer.echo(json.dumps(alert.evidence, ensure_ascii=False, indent=1))


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
