"""Resolve what a provider sees (instance type, k8s label, gres name, DCGM model) to chips."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapidfuzz import fuzz, process, utils

from computekyc.chips.catalogue import (
    CatalogueError,
    catalogue,
    find_chip,
    normalise,
    read_data_file,
)
from computekyc.chips.model import Allocation, HardwareKind, UnknownHardware

NAMES_FILE = "hardware_names.yaml"

# Prefixes that wrap a name without changing it: SageMaker "ml.p5.48xlarge", Azure "Standard_…",
# the k8s label key, the Slurm TRES prefix.
_INSTANCE_PREFIXES = ("ml.",)
_AZURE_PREFIX = "standard-"
_LABEL_KEY = re.compile(r"^nvidia\.com/gpu\.product\s*[=:]\s*", re.IGNORECASE)
_GRES = re.compile(r"^(?:gres/)?gpu:(?P<type>[^=:]+?)(?:[=:](?P<count>\d+))?$", re.IGNORECASE)
_MIG = re.compile(r"^(?:nvidia\.com/mig-)?\d+g\.\d+gb$", re.IGNORECASE)
# GFD appends sharing suffixes to the product label (e.g. "NVIDIA-A100-SXM4-40GB-SHARED").
_LABEL_SUFFIX = re.compile(r"-(shared|mig-[\w.]+)$", re.IGNORECASE)
_COUNT_PREFIX = re.compile(r"^(?P<count>\d+)\s*[x×]\s*(?P<name>.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class _Entry:
    chip_id: str
    count: int
    kind: HardwareKind
    canonical: str
    source: str


def _mapping(data: dict[str, Any], section: str, key: str) -> tuple[str, dict[str, Any]]:
    block = data.get(section)
    if not isinstance(block, dict) or not isinstance(block.get(key), dict):
        raise CatalogueError(f"{NAMES_FILE}: section '{section}' needs a '{key}' mapping")
    return str(block.get("source", "")), block[key]


def _check_chip(chip_id: Any, where: str) -> str:
    if str(chip_id) not in catalogue():
        raise CatalogueError(f"{NAMES_FILE}: {where}: chip {chip_id!r} is not in the catalogue")
    return str(chip_id)


@cache
def _tables() -> dict[HardwareKind, dict[str, _Entry]]:
    """Normalised name -> entry, per kind, validated against the catalogue."""
    data = read_data_file(NAMES_FILE)
    tables: dict[HardwareKind, dict[str, _Entry]] = {
        "instance_type": {},
        "k8s_label": {},
        "gres": {},
        "dcgm_model": {},
    }
    families = data.get("instance_types")
    if not isinstance(families, list):
        raise CatalogueError(f"{NAMES_FILE}: 'instance_types' must be a list of families")
    for number, family in enumerate(families, start=1):
        where = f"instance_types[{number}]"
        if not isinstance(family, dict) or not str(family.get("source", "")).strip():
            raise CatalogueError(f"{NAMES_FILE}: {where}: every family needs a 'source'")
        for name, spec in (family.get("types") or {}).items():
            if not isinstance(spec, dict) or not isinstance(spec.get("count"), int):
                raise CatalogueError(f"{NAMES_FILE}: {where}.{name}: needs {{chip, count}}")
            chip_id = _check_chip(spec.get("chip"), f"{where}.{name}")
            tables["instance_type"][_instance_key(str(name))] = _Entry(
                chip_id, spec["count"], "instance_type", str(name), str(family["source"])
            )
    for kind, section, key in (
        ("k8s_label", "k8s_labels", "labels"),
        ("dcgm_model", "dcgm_models", "models"),
        ("gres", "gres_types", "types"),
    ):
        source, mapping = _mapping(data, section, key)
        for name, chip_id in mapping.items():
            checked = _check_chip(chip_id, f"{section}.{name}")
            canonical = f"gres/gpu:{name}" if kind == "gres" else str(name)
            entry = _Entry(checked, 1, kind, canonical, source)  # type: ignore[arg-type]
            tables[kind][normalise(str(name))] = entry  # type: ignore[index]
    return tables


def _instance_key(name: str) -> str:
    key = normalise(name)
    for prefix in _INSTANCE_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    if key.startswith(_AZURE_PREFIX):
        key = key[len(_AZURE_PREFIX) :]
    return key


def _allocation(entry: _Entry, count: int | None = None) -> Allocation:
    return Allocation(
        chip=catalogue()[entry.chip_id],
        count=entry.count if count is None else count,
        matched=entry.canonical,
        kind=entry.kind,
        source=entry.source,
    )


def _resolve_gres(text: str) -> Allocation | None:
    match = _GRES.match(text)
    if not match:
        return None
    type_name = match.group("type")
    count = int(match.group("count")) if match.group("count") else 1
    if _MIG.match(type_name):
        raise UnknownHardware(
            f"{text!r} is a MIG slice: its profile name does not say which GPU model it is cut "
            "from; resolve the node's GPU product instead"
        )
    entry = _tables()["gres"].get(normalise(type_name))
    if entry is None:
        chip = find_chip(type_name)
        if chip is None:
            dcgm = _tables()["dcgm_model"].get(normalise(f"nvidia {type_name}"))
            if dcgm is None:
                raise UnknownHardware(
                    f"unknown Slurm GRES type {type_name!r} in {text!r}: not a known gres type "
                    "or chip name (sites choose these names; add it to hardware_names.yaml)"
                )
            chip = catalogue()[dcgm.chip_id]
        entry = _Entry(chip.id, 1, "gres", f"gres/gpu:{type_name}", "chip alias")
    return _allocation(entry, count)


def resolve(name: str) -> Allocation:
    """Resolve a chip, instance type, k8s label, gres name or DCGM model to chip + count.

    Raises :class:`UnknownHardware` with the reason when the name is not known.
    """
    text = name.strip()
    if not text:
        raise UnknownHardware("empty hardware name")
    counted = _COUNT_PREFIX.match(text)
    if counted and not _tables()["instance_type"].get(_instance_key(text)):
        inner = resolve(counted.group("name"))
        count = int(counted.group("count")) * inner.count
        return Allocation(inner.chip, count, text, inner.kind, inner.source)
    gres = _resolve_gres(text)
    if gres is not None:
        return gres
    tables = _tables()
    entry = tables["instance_type"].get(_instance_key(text))
    if entry is not None:
        return _allocation(entry)
    label = _LABEL_SUFFIX.sub("", _LABEL_KEY.sub("", text))
    key = normalise(label)
    # A name with spaces is how NVML/DCGM spells it; hyphenated is the k8s label spelling.
    order: tuple[HardwareKind, ...] = (
        ("dcgm_model", "k8s_label") if " " in label else ("k8s_label", "dcgm_model")
    )
    for kind in order:
        entry = tables[kind].get(key)
        if entry is not None:
            return _allocation(entry)
    chip = find_chip(label)
    if chip is not None:
        return Allocation(chip, 1, chip.id, "chip")
    if _MIG.match(text):
        raise UnknownHardware(
            f"{text!r} is a MIG profile: it does not identify the GPU model it is cut from"
        )
    raise UnknownHardware(
        f"unknown hardware {name!r}: not a catalogued chip, cloud instance type, "
        "nvidia.com/gpu.product label, Slurm gres/gpu:TYPE or DCGM modelName "
        "(see `computekyc chips list`)",
        suggestions=suggest(name),
    )


@cache
def _all_names() -> dict[str, str]:
    """Every spelling a person might mean (chip ids, names, aliases, provider names) -> what it
    stands for (a chip id, or the instance type/label itself)."""
    names: dict[str, str] = {}
    for chip in sorted(catalogue().values(), key=lambda c: c.id):
        for label in (chip.id, chip.name, *chip.aliases):
            names.setdefault(label, chip.id)
    for table in _tables().values():
        for entry in table.values():
            target = entry.canonical if entry.kind == "instance_type" else entry.chip_id
            names.setdefault(entry.canonical, target)
    return names


SUGGESTION_CUTOFF = 60.0  # rapidfuzz WRatio (0-100) below which a name is not worth offering


def suggest(name: str, limit: int = 5) -> tuple[str, ...]:
    """The known hardware names closest to ``name`` (rapidfuzz WRatio), best first, one per
    chip or instance type (five aliases of one chip are one suggestion)."""
    names = _all_names()
    found = process.extract(
        name,
        list(names),
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=None,
        score_cutoff=SUGGESTION_CUTOFF,
    )
    # Best score first; among equal scores the shorter (plainer) spelling.
    found.sort(key=lambda hit: (-hit[1], len(hit[0]), hit[0]))
    picked: dict[str, str] = {}
    for match, _score, _index in found:
        picked.setdefault(names[match], match)
        if len(picked) == limit:
            break
    return tuple(picked.values())


def known_names() -> dict[str, list[str]]:
    """Every name ``resolve`` accepts, by kind (for listings and documentation)."""
    names: dict[str, list[str]] = {
        kind: sorted(entry.canonical for entry in table.values())
        for kind, table in _tables().items()
    }
    names["chip"] = sorted(catalogue())
    return names
