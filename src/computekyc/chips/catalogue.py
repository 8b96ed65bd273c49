"""Load and validate the reviewed accelerator catalogue (``data/accelerators.yaml``)."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from computekyc.bulk import load_yaml
from computekyc.chips.model import PRECISION_BITS, Chip, UnknownHardware
from computekyc.exc import InputError

CATALOGUE_FILE = "accelerators.yaml"
REFERENCE_CHIP = "H100-SXM"  # the unit of "H100 equivalents"

# Figures that must each carry a source when present (the catalogue is a reviewed file).
_SOURCED_FIGURES = (
    "dense_tops",
    "die_area_mm2",
    "memory_bandwidth_gbps",
    "interconnect_bandwidth_gbps",
    "datacenter",
)
_KNOWN_KEYS = {
    "vendor",
    "name",
    "aliases",
    "datacenter",
    "designed_in",
    "notes",
    "sources",
    "unpublished",
    *_SOURCED_FIGURES,
}


class CatalogueError(InputError, ValueError):
    """The catalogue data file is malformed; the message names the file, chip and field."""


def read_data_file(name: str) -> dict[str, Any]:
    """Parse one YAML file shipped in ``computekyc/chips/data``."""
    text = resources.files("computekyc.chips").joinpath("data", name).read_text(encoding="utf-8")
    try:
        loaded = load_yaml(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{name}: not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise CatalogueError(f"{name}: expected a mapping at the top level")
    return loaded


def normalise(name: str) -> str:
    """Case- and separator-insensitive key: 'NVIDIA H100 80GB HBM3' == 'nvidia-h100-80gb-hbm3'."""
    return re.sub(r"[\s_\-]+", "-", name.strip().lower()).strip("-")


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatalogueError(f"{where}: expected a number, got {value!r}")
    if value < 0:
        raise CatalogueError(f"{where}: must not be negative, got {value!r}")
    return float(value)


def parse_chip(chip_id: str, raw: Any, file: str = CATALOGUE_FILE) -> Chip:
    """Build a :class:`Chip` from one catalogue entry, refusing unknown or unsourced fields."""
    where = f"{file}: chip {chip_id}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    unknown = set(raw) - _KNOWN_KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {sorted(unknown)}")
    for required in ("vendor", "name", "datacenter", "dense_tops", "sources"):
        if required not in raw:
            raise CatalogueError(f"{where}: missing field '{required}'")
    if not isinstance(raw["datacenter"], bool):
        raise CatalogueError(f"{where}: field 'datacenter' must be true or false")
    unpublished = raw.get("unpublished") or []
    if not isinstance(unpublished, list) or not set(unpublished) <= set(_SOURCED_FIGURES):
        raise CatalogueError(
            f"{where}: field 'unpublished' must be a list of figures "
            f"({', '.join(_SOURCED_FIGURES)})"
        )
    dense_raw = raw["dense_tops"]
    # No compute figure at all is allowed only when the data says it is not public.
    if not isinstance(dense_raw, dict) or (not dense_raw and "dense_tops" not in unpublished):
        raise CatalogueError(f"{where}: field 'dense_tops' must be a non-empty mapping")
    dense: dict[str, float] = {}
    for precision, value in dense_raw.items():
        if precision not in PRECISION_BITS:
            raise CatalogueError(
                f"{where}: dense_tops.{precision} is not a known precision "
                f"({', '.join(PRECISION_BITS)})"
            )
        number = _number(value, f"{where}: dense_tops.{precision}")
        if not number:
            raise CatalogueError(f"{where}: dense_tops.{precision} must be a positive number")
        dense[precision] = number
    sources = raw["sources"]
    if not isinstance(sources, dict):
        raise CatalogueError(f"{where}: field 'sources' must be a mapping")
    for figure in _SOURCED_FIGURES:
        present = raw.get(figure) is not None or figure in unpublished
        if present and not str(sources.get(figure, "")).strip():
            raise CatalogueError(f"{where}: figure '{figure}' has no entry in 'sources'")
    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list):
        raise CatalogueError(f"{where}: field 'aliases' must be a list")
    return Chip(
        id=chip_id,
        vendor=str(raw["vendor"]),
        name=str(raw["name"]),
        dense_tops=dense,
        die_area_mm2=_number(raw.get("die_area_mm2"), f"{where}: die_area_mm2"),
        memory_bandwidth_gbps=_number(
            raw.get("memory_bandwidth_gbps"), f"{where}: memory_bandwidth_gbps"
        ),
        interconnect_bandwidth_gbps=_number(
            raw.get("interconnect_bandwidth_gbps"), f"{where}: interconnect_bandwidth_gbps"
        ),
        datacenter=raw["datacenter"],
        sources={str(k): str(v) for k, v in sources.items()},
        designed_in=str(raw.get("designed_in", "US")),
        aliases=tuple(str(a) for a in aliases),
        notes=str(raw.get("notes", "")),
        unpublished=tuple(str(u) for u in unpublished),
    )


def build_catalogue(data: dict[str, Any], file: str = CATALOGUE_FILE) -> dict[str, Chip]:
    """Validate a parsed catalogue document and attach the H100 reference figure to each chip."""
    chips_raw = data.get("chips")
    if not isinstance(chips_raw, dict) or not chips_raw:
        raise CatalogueError(f"{file}: missing or empty 'chips' mapping")
    chips = {str(cid): parse_chip(str(cid), raw, file) for cid, raw in chips_raw.items()}
    if REFERENCE_CHIP not in chips:
        raise CatalogueError(f"{file}: the reference chip {REFERENCE_CHIP} is missing")
    reference = chips[REFERENCE_CHIP].peak_ops_per_second("bf16")
    return {cid: replace(chip, reference_bf16_ops=reference) for cid, chip in chips.items()}


@cache
def catalogue() -> dict[str, Chip]:
    """Every catalogued chip by id (loaded once; callers must not mutate the dict)."""
    return build_catalogue(read_data_file(CATALOGUE_FILE))


@cache
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for chip in catalogue().values():
        for label in (chip.id, chip.name, *chip.aliases):
            index.setdefault(normalise(label), chip.id)
            # Vendor-prefixed spellings ("NVIDIA H100", "AMD Instinct MI300X") name the same chip.
            index.setdefault(normalise(f"{chip.vendor} {label}"), chip.id)
    return index


def find_chip(id_or_name: str) -> Chip | None:
    """The chip whose id, name or alias matches (case/separator-insensitive), else None."""
    chip_id = _name_index().get(normalise(id_or_name))
    return catalogue()[chip_id] if chip_id else None


def get_chip(id_or_name: str) -> Chip:
    """The chip with this id, name or alias; raises :class:`UnknownHardware` otherwise."""
    chip = find_chip(id_or_name)
    if chip is None:
        from computekyc.chips.resolve import suggest  # resolve imports this module

        raise UnknownHardware(
            f"unknown chip {id_or_name!r}: not an id, name or alias in the catalogue "
            "(see `computekyc chips list`)",
            suggestions=suggest(id_or_name),
        )
    return chip
