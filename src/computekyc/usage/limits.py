"""Plausibility limits for usage rows, read from ``data/limits.yaml`` (values with reasons)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from computekyc.bulk import load_yaml
from computekyc.exc import ConfigError

LIMITS_FILE = "limits.yaml"


@dataclass(frozen=True)
class Limits:
    """The limits in force for one ingest; ``latest_s`` is fixed when the ingest starts."""

    version: str
    earliest_s: int
    latest_s: int
    max_row_seconds: int
    max_gpus_per_row: float
    elapsed_slack_seconds: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_limits(path: Path | None = None, now: datetime | None = None) -> Limits:
    """The limits of ``path`` (default: the reviewed file shipped with computekyc)."""
    if path is None:
        text = resources.files("computekyc.usage").joinpath("data", LIMITS_FILE).read_text("utf-8")
        where = LIMITS_FILE
    else:
        text, where = path.read_text(encoding="utf-8"), str(path)
    data = load_yaml(text)
    now = now or datetime.now(UTC)
    try:
        earliest = datetime.fromisoformat(str(data["earliest_time"]["value"]))
        return Limits(
            version=str(data["version"]),
            earliest_s=int(earliest.timestamp()),
            latest_s=int((now + timedelta(days=int(data["future_days"]["value"]))).timestamp()),
            max_row_seconds=int(data["max_row_days"]["value"]) * 86400,
            max_gpus_per_row=float(data["max_gpus_per_row"]["value"]),
            elapsed_slack_seconds=int(data["elapsed_slack_seconds"]["value"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: usage limits are incomplete or malformed ({exc})") from exc
