"""``computekyc link …``: link cloud accounts into entities; explain why an account belongs.

``link`` is both a command (``computekyc link --accounts FILE``) and a group with the
``explain`` subcommand, so it is a Typer group whose callback runs the linking when no
subcommand is given.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from computekyc.cli._io import check_input, check_output, is_stdio, open_output, strict_json
from computekyc.exc import OptionError
from computekyc.settings import Settings

ENGINES = ("duckdb", "spark")

link_app = typer.Typer(
    help="Account linking: resolve cloud accounts to the entities behind them.",
    invoke_without_command=True,
)

# Output is plain text through typer.echo, never a Rich console: account names, ids and paths
# may hold square brackets, which Rich would read as markup.


def _print_entity(entity: dict[str, Any]) -> None:
    typer.echo(f"{entity['entity_id']}  {len(entity['accounts'])} accounts")
    for signal in entity["signals"]:
        typer.echo(f"    [{signal['severity']}] {signal['kind']}: {signal['summary']}")


@link_app.callback()
def link_command(
    ctx: typer.Context,
    accounts: str | None = typer.Option(
        None,
        "--accounts",
        help="Account records: JSON Lines (.jsonl), CSV (.csv) or Parquet; - reads stdin.",
    ),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    output: str | None = typer.Option(
        None, "--output", help="Write one JSON record per entity to this file (- for stdout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON record per entity."),
    usage: Path | None = typer.Option(
        None,
        "--usage",
        help="Estimated operations per account (JSON: {account: ops} or the per-account "
        "summaries of `computekyc usage summary --json`) for the structuring signal.",
    ),
    usage_store: bool = typer.Option(
        False,
        "--usage-store",
        help="Take estimated operations from the usage data ingested in $COMPUTEKYC_HOME.",
    ),
    geoip: Path | None = typer.Option(
        None,
        "--geoip",
        help="Folder of the IP→country database (else $COMPUTEKYC_GEOIP_DIR, else "
        "/usr/share/tor/geoip).",
    ),
) -> None:
    """Link the accounts in FILE into entities, with link evidence and signals."""
    if ctx.invoked_subcommand is not None:
        return
    if accounts is None:
        typer.echo(ctx.get_help())
        raise OptionError(
            "--accounts FILE is required (or use `computekyc link explain ACCOUNT_ID`)"
        )
    if engine.lower() not in ENGINES:
        raise OptionError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    check_input(accounts, "--accounts")
    if output is not None:
        # Before the work: a missing folder or a folder as the target fails now, not after it.
        check_output(output, "--output", [accounts])
    from computekyc.services.linking import link_file, merge_usage_sources

    settings = Settings.from_env()
    ops = merge_usage_sources(settings, usage, usage_store)
    result = link_file(
        settings, accounts, "spark" if engine.lower() == "spark" else "duckdb", ops, geoip
    )
    if output is not None:
        with open_output(output) as handle:
            for entity in result.entities:
                handle.write(strict_json(entity.to_json()) + "\n")
        if is_stdio(output):
            return
    if as_json:
        for entity in result.entities:
            sys.stdout.write(strict_json(entity.to_json()) + "\n")
        return
    summary = result.summary()
    typer.echo(
        f"{summary['accounts']} accounts → {summary['entities']} entities "
        f"({summary['multi_account_entities']} with several accounts)"
    )
    typer.echo(f"signals: {summary['signals'] or 'none'}")
    if result.model.get("u_source") == "priors":
        typer.echo(
            f"model: prior u probabilities (fewer than {result.model['min_train_accounts']:,} "
            "accounts is too few to train on)"
        )
    if result.geoip is None:
        typer.echo("access geography: skipped (no IP→country database found)")
    else:
        typer.echo(f"IP→country: {result.geoip['database']}, generated {result.geoip['generated']}")
    flagged = [e for e in result.entities if e.signals][:20]
    for entity in flagged:
        _print_entity(entity.to_json())
    if output is not None:
        typer.echo(f"wrote {summary['entities']} entities to {output}")


@link_app.command("explain")
def explain_command(
    account_id: str = typer.Argument(..., help="The account to explain."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Why ACCOUNT_ID belongs to its entity (from the last `computekyc link` run)."""
    from computekyc.services.linking import explain_account

    answer = explain_account(Settings.from_env(), account_id)
    if as_json:
        typer.echo(strict_json(answer, indent=1))
        return
    typer.echo(f"{account_id} → entity {answer['entity_id']} ({len(answer['accounts'])} accounts)")
    if answer["alone"]:
        typer.echo(
            "  linked to no other account: no deterministic evidence and no Splink pair at "
            "p ≥ 0.95 (values shared by many accounts are ignored as shared infrastructure)"
        )
    for link in answer["links"]:
        typer.echo(f"  {link['a']} — {link['b']}  p={link['probability']}")
        for item in link["evidence"]:
            values = item.get("values", item.get("value"))
            typer.echo(f"      {item['kind']}: {values}")
    for signal in answer["signals"]:
        typer.echo(f"  [{signal['severity']}] {signal['kind']}: {signal['summary']}")


def register(app: typer.Typer) -> None:
    app.add_typer(link_app, name="link")
