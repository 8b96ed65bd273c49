"""``computekyc report …``: reports for regulators and auditors.

This module makes the ``report`` group (:func:`report_group`) and adds ``case``, ``verify`` and
``screening``. Another module registered on the same command (``COMMANDS["report"]`` names
several modules, this one first) adds its commands with ``report_group(app).command(...)``, and
may write binary reports with :func:`write_bytes`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import typer

from computekyc.audit import Actor
from computekyc.cli._io import check_input, check_output, strict_json
from computekyc.exc import EXIT_FINDINGS, InputError
from computekyc.reports import ReportFormat
from computekyc.services import casework
from computekyc.services import reports as service
from computekyc.settings import Settings
from computekyc.users import local_operator

REPORT_HELP = (
    "Reports for regulators and auditors: training runs, evidence packs, screening, certification."
)
AS_OPTION = typer.Option(None, "--user", help="Act as this user (default: the local operator).")


def report_group(app: typer.Typer) -> typer.Typer:
    """The ``report`` group: the one already registered on ``app``, else a new one."""
    for info in app.registered_groups:
        if info.name == "report" and isinstance(info.typer_instance, typer.Typer):
            return info.typer_instance
    group = typer.Typer(help=REPORT_HELP, no_args_is_help=True)
    app.add_typer(group, name="report")
    return group


def _actor(settings: Settings, name: str | None) -> Actor:
    return local_operator() if name is None else casework.acting_user(settings, name)


def write_bytes(path: str, data: bytes) -> None:
    """A binary report to ``path`` (``-`` for stdout), replaced atomically once whole."""
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def case_command(
    reference: str = typer.Argument(
        ..., metavar="ALERT_OR_CASE_ID", help="An alert (17 or alert:17) or a case (case:3)."
    ),
    output: str = typer.Option(..., "--output", "-o", help="The pack to write (.zip)."),
    by: str | None = AS_OPTION,
) -> None:
    """Evidence pack of an alert or a case: a signed ZIP an auditor can check."""
    ref = service.PackRef.parse(reference)
    check_output(output, "--output")
    settings = Settings.from_env()
    pack = service.evidence_pack(settings, _actor(settings, by), ref)
    write_bytes(output, pack.data)
    if output != "-":
        proof = (
            f"proven up to the checkpoint of {pack.checkpoint.count} entries signed "
            f"{pack.checkpoint.at}"
            if pack.checkpoint is not None
            else "none recorded"
        )
        about = f"{ref.kind} {ref.id}"
        if ref.kind == "case":
            about += f" (alerts {', '.join(map(str, pack.alerts))})"
        typer.echo(
            f"evidence pack {output}: {about}, {len(pack.members) + 2} members, "
            f"{pack.audit_entries} audit entries ({proof})"
        )


def verify_command(
    pack: Path = typer.Argument(..., help="The evidence pack (.zip)."),
    key: Path | None = typer.Option(
        None, "--key", help="The exported audit public key to trust (default: this machine's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check every member's hash, the signature and the audit proof; exit 1 naming what fails."""
    check_input(pack, "PACK")
    try:
        data = pack.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=pack) from exc
    report = service.verify_evidence_pack(Settings.from_env(), data, key)
    if as_json:
        typer.echo(strict_json(report.to_dict(), indent=2))
    elif report.intact:
        checkpoint = report.checkpoint
        proof = (
            f"{report.audit_entries} audit entries proven up to the checkpoint of "
            f"{checkpoint['count']} entries signed {checkpoint['at']}"
            if checkpoint
            else "no audit entries"
        )
        typer.echo(
            f"evidence pack intact: {report.members} members, signed by key {report.key_id} "
            f"at {report.generated_at}; {proof}"
        )
    else:
        typer.echo(f"evidence pack NOT INTACT: {len(report.findings)} finding(s)")
        for finding in report.findings:
            typer.echo(f"  {finding}")
    if not report.intact:
        raise typer.Exit(EXIT_FINDINGS)


def screening_command(
    output: str = typer.Option(..., "--output", "-o", help="The file to write (- for stdout)."),
    fmt: str = typer.Option("csv", "--format", help="csv (UTF-8 with BOM), xlsx or parquet."),
    scan: int | None = typer.Option(None, "--scan", help="A scan id (default: the latest)."),
    by: str | None = AS_OPTION,
) -> None:
    """Every screened subject and hit of the latest scan, as CSV, XLSX or Parquet."""
    chosen = ReportFormat.parse(fmt)
    check_output(output, "--output")
    settings = Settings.from_env()
    report = service.screening_report(settings, _actor(settings, by), chosen, scan_id=scan)
    write_bytes(output, report.data)
    if output != "-":
        typer.echo(
            f"screening report of scan {report.scan_id}: {len(report.rows)} rows -> {output}"
        )


def register(app: typer.Typer) -> None:
    group = report_group(app)
    group.command("case")(case_command)
    group.command("verify")(verify_command)
    group.command("screening")(screening_command)
