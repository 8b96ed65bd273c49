"""Account linking: resolve cloud accounts to the real entities behind them.

Public API: :func:`load_accounts` (strict JSON Lines / CSV records), :func:`link_accounts`
(pure linking), :func:`run` (load, link with stable ids, persist), :func:`explain`,
:func:`load_usage` (structuring input), :func:`accuracy` (against planted ground truth), and the
seeded population generator in :mod:`computekyc.linking.generate`.
"""

from __future__ import annotations

from computekyc.linking.cluster import Entity, Link
from computekyc.linking.evaluate import Accuracy, accuracy
from computekyc.linking.geoip import GeoIP, open_geoip
from computekyc.linking.pipeline import (
    LinkResult,
    NotLinked,
    explain,
    link_accounts,
    run,
    state_dir,
)
from computekyc.linking.records import AccountInputError, AccountRecord, load_accounts
from computekyc.linking.signals import UsageInputError, load_usage, parse_usage

__all__ = [
    "AccountInputError",
    "AccountRecord",
    "Accuracy",
    "Entity",
    "GeoIP",
    "Link",
    "LinkResult",
    "NotLinked",
    "UsageInputError",
    "accuracy",
    "explain",
    "link_accounts",
    "load_accounts",
    "load_usage",
    "open_geoip",
    "parse_usage",
    "run",
    "state_dir",
]
