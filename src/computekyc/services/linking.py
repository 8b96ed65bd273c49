"""Linking inputs the command line and the API share: estimated operations per account merged
from a usage summary file and the ingested usage store (the file wins for an account in both)."""

from __future__ import annotations

from pathlib import Path

from computekyc.linking import load_usage, parse_usage
from computekyc.settings import Settings
from computekyc.usage import Filters, UsageStore, make_engine, summary


def usage_store(settings: Settings) -> UsageStore:
    return UsageStore(settings.ensure_home() / "usage")


def operations_from_store(settings: Settings, filters: Filters | None = None) -> dict[str, float]:
    """Estimated operations per account from the usage ingested into the settings' home."""
    store = usage_store(settings)
    if not store.has_rows():
        return {}
    return parse_usage(summary(make_engine("duckdb", store), filters=filters), "usage store")


def merge_usage_sources(
    settings: Settings, usage_file: Path | None = None, from_store: bool = False
) -> dict[str, float] | None:
    """Operations per account for the structuring signal; None when no source is asked for."""
    ops: dict[str, float] | None = load_usage(usage_file) if usage_file is not None else None
    if from_store:
        ops = {**operations_from_store(settings), **(ops or {})}
    return ops
