"""The reviewed table of what listed firms run (``data/listed_footprint.csv``), plus the analyst's
own rows in ``$COMPUTEKYC_HOME/listed_footprint.csv`` (same columns)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

from computekyc.exc import InputError

TABLE_FILE = "listed_footprint.csv"
COLUMNS = ("kind", "value", "listed_name", "operator", "strength", "source")


class FootprintKind(StrEnum):
    DOMAIN = "domain"
    PRODUCT = "product"


class Strength(StrEnum):
    STRONG = "strong"  # distinctive: one hit is enough
    WEAK = "weak"  # generic word or common given name: needs a second hit of the same firm


@dataclass(frozen=True, slots=True)
class FootprintRow:
    kind: FootprintKind
    value: str
    listed_name: str
    operator: str
    strength: Strength
    source: str
    origin: str  # file:line, so an alert can cite the exact row

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": str(self.kind),
            "value": self.value,
            "listed_name": self.listed_name,
            "operator": self.operator,
            "strength": str(self.strength),
            "source": self.source,
            "row": self.origin,
        }


def parse_table(text: str, origin: str) -> list[FootprintRow]:
    """Rows of one table file; a bad row is an error naming the file, line and field."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    numbers = [
        n for n, line in enumerate(text.splitlines(), 1) if not line.lstrip().startswith("#")
    ]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=origin, line=1)
    rows: list[FootprintRow] = []
    for index, raw in enumerate(reader, start=1):
        line = numbers[index] if index < len(numbers) else None
        cells = {k: (raw.get(k) or "").strip() for k in COLUMNS}
        for column in ("kind", "value", "listed_name", "strength", "source"):
            if not cells[column]:
                raise InputError("is empty", file=origin, line=line, field=column)
        try:
            kind = FootprintKind(cells["kind"])
        except ValueError:
            raise InputError(
                f"{cells['kind']!r} is not domain or product", file=origin, line=line, field="kind"
            ) from None
        try:
            strength = Strength(cells["strength"])
        except ValueError:
            raise InputError(
                f"{cells['strength']!r} is not strong or weak",
                file=origin,
                line=line,
                field="strength",
            ) from None
        value = cells["value"]
        if kind is FootprintKind.DOMAIN:
            value = value.lower().rstrip(".")
            if "." not in value or any(c in value for c in "/@ :"):
                raise InputError(
                    f"{value!r} is not a domain name", file=origin, line=line, field="value"
                )
        rows.append(
            FootprintRow(
                kind,
                value,
                cells["listed_name"],
                cells["operator"],
                strength,
                cells["source"],
                f"{origin}:{line}",
            )
        )
    return rows


def packaged_rows() -> list[FootprintRow]:
    text = resources.files("computekyc.brands").joinpath("data", TABLE_FILE).read_text("utf-8")
    return parse_table(text, TABLE_FILE)


def load_rows(home: Path | None = None) -> list[FootprintRow]:
    """The packaged table plus the analyst's rows in ``home`` (if that file exists)."""
    rows = packaged_rows()
    if home is not None:
        extra = home / TABLE_FILE
        if extra.is_file():
            try:
                text = extra.read_text("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"not UTF-8 text ({exc.reason})", file=extra) from None
            rows += parse_table(text, str(extra))
    return rows
