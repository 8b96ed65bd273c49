"""Customer records (JSON Lines) → :class:`Customer` trees, with precise errors for bad lines.

A bad line yields an :class:`InputError` naming file, line and field; reading carries on, so one
broken record never hides the determinations of the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from computekyc import exc
from computekyc.ownership.model import Customer, Holder, InputError

TYPES = {"entity", "individual"}


class RecordError(exc.InputError, ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _country(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value.strip()) != 2 or not value.strip().isalpha():
        raise RecordError(field, f"expected an ISO 3166-1 alpha-2 code, got {value!r}")
    return value.strip().upper()


def _holder(data: Any, path: str, *, is_owner: bool) -> Holder:
    if not isinstance(data, dict):
        raise RecordError(path or "<line>", f"expected a JSON object, got {type(data).__name__}")
    prefix = f"{path}." if path else ""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RecordError(f"{prefix}name", "missing or empty name")
    kind = data.get("type", "entity")
    if kind not in TYPES:
        raise RecordError(f"{prefix}type", f"expected entity or individual, got {kind!r}")
    share: float | None = None
    if is_owner:
        raw = data.get("share")
        if raw is not None:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise RecordError(f"{prefix}share", f"expected a percent number, got {raw!r}")
            if not 0 <= float(raw) <= 100:
                raise RecordError(f"{prefix}share", f"percent out of range 0..100: {raw}")
            share = float(raw)
    identifiers = data.get("identifiers") or {}
    if not isinstance(identifiers, dict):
        raise RecordError(f"{prefix}identifiers", "expected an object of scheme → value")
    directors = data.get("directors") or []
    if not isinstance(directors, list) or not all(
        isinstance(d, str) or (isinstance(d, dict) and isinstance(d.get("name"), str))
        for d in directors
    ):
        raise RecordError(f"{prefix}directors", "expected a list of names or {name} objects")
    owners_raw = data.get("owners") or []
    if not isinstance(owners_raw, list):
        raise RecordError(f"{prefix}owners", "expected a list of owner objects")
    owners = [_holder(o, f"{prefix}owners[{i}]", is_owner=True) for i, o in enumerate(owners_raw)]
    declared = sum(o.share or 0.0 for o in owners)
    if declared > 100.0 + 1e-6:
        raise RecordError(f"{prefix}owners", f"declared shares add up to {declared:g}% (> 100%)")
    return Holder(
        name=name.strip(),
        type=kind,
        country=_country(data.get("country"), f"{prefix}country"),
        headquarters_country=_country(
            data.get("headquarters_country"), f"{prefix}headquarters_country"
        ),
        share=share,
        owners=owners,
        identifiers={str(k).lower(): str(v) for k, v in identifiers.items() if v},
        directors=[d if isinstance(d, str) else d["name"] for d in directors],
    )


def parse_customer(data: Any) -> Customer:
    """One decoded JSON object → Customer; raises :class:`RecordError` naming the bad field."""
    if not isinstance(data, dict):
        raise RecordError("<line>", "expected a JSON object per line")
    cid = data.get("id")
    if not isinstance(cid, str | int) or isinstance(cid, bool) or str(cid).strip() == "":
        raise RecordError("id", "missing or empty id")
    root = _holder(data, "", is_owner=False)
    addresses = data.get("addresses") or []
    if not isinstance(addresses, list):
        raise RecordError("addresses", "expected a list")
    return Customer(
        id=str(cid),
        root=root,
        addresses=[a if isinstance(a, str) else json.dumps(a, sort_keys=True) for a in addresses],
    )


def read_customers(path: Path) -> Iterator[Customer | InputError]:
    """Yield one Customer (or one InputError) per non-blank line of a JSONL file."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield InputError(str(path), number, "<json>", f"invalid JSON: {exc.msg}")
                continue
            try:
                customer = parse_customer(data)
            except RecordError as exc:
                cid = data.get("id") if isinstance(data, dict) else None
                yield InputError(
                    str(path),
                    number,
                    exc.field or "<record>",
                    exc.message,
                    None if cid is None else str(cid),
                )
                continue
            customer.line = number
            customer.source_file = str(path)
            yield customer
