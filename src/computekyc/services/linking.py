"""Linking as the command line and the API run it: estimated operations per account merged from
a usage summary file and the ingested usage store (the file wins for an account in both), and
the linking state (stable entity ids, ``explain``) kept in the settings' home."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from computekyc.linking import LinkResult, explain, load_usage, parse_usage, run, state_dir
from computekyc.linking.model import Engine
from computekyc.settings import Settings
from computekyc.usage import Filters, UsageStore, make_engine, summary


def usage_store(settings: Settings) -> UsageStore:
    return UsageStore(settings.ensure_home() / "usage", threads=settings.threads)


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


def link_file(
    settings: Settings,
    accounts: Path | str,
    engine: Engine = "duckdb",
    usage: dict[str, float] | None = None,
    geoip_dir: Path | None = None,
) -> LinkResult:
    """Link the accounts of a file (``-``: stdin) against the ids of the last run kept in the
    settings' home, and keep this run there. The IP database: ``geoip_dir``, else the
    settings'; Spark on the settings' master."""
    if engine == "spark":
        from computekyc.spark import spark_session

        spark_session(settings.spark_master)  # linking then works in this session
    geoip = geoip_dir or settings.geoip_dir
    return run(accounts, state_dir(settings.ensure_home()), engine, usage, geoip)


def explain_account(settings: Settings, account_id: str) -> dict[str, Any]:
    """Why an account belongs to its entity, from the last run kept in the settings' home."""
    return explain(account_id, state_dir(settings.ensure_home()))
