"""``computekyc chips …``: classify a chip, instance type or label; list the catalogue."""

from __future__ import annotations

from typing import Any

import typer

from computekyc.chips import catalogue, classify, resolve
from computekyc.chips.model import Classification
from computekyc.cli._io import day_option, strict_json

chips_app = typer.Typer(
    help="Accelerator catalogue: classify chips, instance types and labels (3A090/4A090).",
    no_args_is_help=True,
)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def classification_json(chip_id: str, result: Classification) -> dict[str, Any]:
    """The documented JSON shape of ``chips classify --json``."""
    return {
        "chip": chip_id,
        "count": result.count,
        "tpp": _round(result.tpp),
        "performance_density": _round(result.performance_density),
        "memory_bandwidth_gbps": result.memory_bandwidth_gbps,
        "eccn": result.eccn,
        "status": result.status,
        "rule_version": result.rule_version,
        "flags": result.flags,
        "reasons": result.reasons,
    }


AS_OF_OPTION = typer.Option(None, "--as-of", help="Classify under the rules in force on this date.")


@chips_app.command("classify")
def classify_command(
    name: str = typer.Argument(..., help="Chip, instance type, k8s label, gres or DCGM name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_of: str | None = AS_OF_OPTION,
) -> None:
    """Resolve NAME to a chip and count, and classify it under ECCN 3A090/4A090."""
    allocation = resolve(name)  # UnknownHardware is an InputError: exit 2
    result = classify(allocation, day_option(as_of, "--as-of"))
    if as_json:
        typer.echo(strict_json(classification_json(allocation.chip.id, result), indent=2))
        return
    chip = allocation.chip
    typer.echo(f"{allocation.count} x {chip.id} ({chip.vendor} {chip.name})")
    typer.echo(
        f"ECCN: {result.eccn or 'not 3A090'}; system: {result.system_eccn or '-'}; "
        f"status: {result.status} ({result.rule_version})"
    )
    typer.echo(f"flags: {', '.join(result.flags) or '-'}")
    for reason in result.reasons:
        typer.echo(f"  - {reason}")


@chips_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per chip)."),
    as_of: str | None = AS_OF_OPTION,
) -> None:
    """The catalogue with each chip's computed TPP, density and classification."""
    day = day_option(as_of, "--as-of")
    rows = [classification_json(chip.id, classify(chip, day)) for chip in catalogue().values()]
    if as_json:
        for row in rows:
            row.pop("count")
        typer.echo(strict_json(rows, indent=2))
        return
    typer.echo(
        f"{'chip':<14} {'TPP':>8} {'PD':>6} {'mem GB/s':>9} {'ECCN':<8} {'status':<14} flags"
    )
    for row in rows:
        pd = "-" if row["performance_density"] is None else f"{row['performance_density']:.2f}"
        tpp = "-" if row["tpp"] is None else f"{row['tpp']:,.0f}"
        mem = row["memory_bandwidth_gbps"]
        typer.echo(
            f"{row['chip']:<14} {tpp:>8} {pd:>6} {mem or 0:>9,.0f} "
            f"{row['eccn'] or '-':<8} {row['status']:<14} {', '.join(row['flags'])}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(chips_app, name="chips")
