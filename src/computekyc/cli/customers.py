"""``computekyc customers show ID``: one customer as the book and the latest scan know it."""

from __future__ import annotations

import typer

from computekyc.cli._io import strict_json
from computekyc.settings import Settings

customers_app = typer.Typer(
    help="Customers of the book: record, determinations, accounts, links, alerts.",
    no_args_is_help=True,
)


@customers_app.command("show")
def show_command(
    customer_id: str = typer.Argument(..., help="The customer id in the provider's book."),
    provider: str | None = typer.Option(
        None, "--provider", help="The provider, when several books hold the id."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the API's document)."),
) -> None:
    """The customer's record (latest book revision), determinations per chip from the latest
    scan with their rules, accounts, linked entities with evidence, and alerts."""
    from computekyc.services.customers import customer_detail

    detail = customer_detail(Settings.from_env(), customer_id, provider)
    if as_json:
        typer.echo(strict_json(detail.to_dict(), indent=1))
        return
    typer.echo(f"customer {detail.customer_id}  {detail.name or '(no stored record)'}")
    removed = f", removed in {detail.removed_revision}" if detail.removed_revision else ""
    typer.echo(
        f"book: {detail.provider}, revision {detail.revision} ({detail.revision_created_at}); "
        f"this version from revision {detail.record_revision}{removed}"
    )
    scan = detail.scan
    if scan is not None:
        typer.echo(
            f"scan {scan.scan_id} as of {scan.as_of} on {scan.snapshot}: "
            f"{scan.status or 'not determined'}"
        )
        for chip in scan.determinations:
            rules = [r["rule"] for r in chip.determination["rules"] if r.get("applied")]
            typer.echo(
                f"  {chip.chip}: {chip.status} ({chip.determination['rules_version']})"
                + (f" — {', '.join(rules)}" if rules else "")
            )
            typer.echo(f"    {chip.determination['explanation']}")
    for account in detail.accounts:
        typer.echo(f"account {account.account_id}  entity {account.entity_id or '-'}")
    for entity in detail.entities:
        typer.echo(
            f"entity {entity.entity_id}: {', '.join(entity.accounts)} "
            f"({len(entity.links)} links, {len(entity.signals)} signals)"
        )
    for alert in detail.alerts:
        typer.echo(
            f"alert {alert.id}  [{alert.severity}] {alert.type}  {alert.status}  "
            f"{alert.subject_kind} {alert.subject_id}"
        )
    for status in detail.subject_status:
        typer.echo(f"status set by alert {status.alert_id}: {status.status}")
    for note in detail.notes:
        typer.echo(f"note: {note}")


def register(app: typer.Typer) -> None:
    app.add_typer(customers_app, name="customers")
