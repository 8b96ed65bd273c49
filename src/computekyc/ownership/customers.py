"""Customer records (JSON Lines) → :class:`Customer` trees, with precise errors for bad lines.

A bad line yields an :class:`InputError` naming file, line and field; reading carries on, so one
broken record never hides the determinations of the others. Facts that cannot be true are bad
lines too: a share outside 0..100% or owners adding up to more than 100%, a company owning
itself (directly or through a declared cycle), and a customer id already used earlier in the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from computekyc import exc
from computekyc.lists.partytypes import holder_type
from computekyc.ownership.graph import identifier_key
from computekyc.ownership.listgraph import norm
from computekyc.ownership.model import Customer, Holder, InputError, list_day

# Declared relations: a stake (owner) or control stated without a share (parent, ultimate_parent).
RELATIONS = {"owner", "parent", "ultimate_parent"}


class RecordError(exc.InputError, ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _country(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is str and len(value) == 2 and value.isalpha():
        return value.upper()  # the common case, as the checks below would find it
    if not isinstance(value, str) or len(value.strip()) != 2 or not value.strip().isalpha():
        raise RecordError(field, f"expected an ISO 3166-1 alpha-2 code, got {value!r}")
    return value.strip().upper()


# Type words already read (each once): customers and owners repeat a handful of them.
_KINDS: dict[str, str] = {}


def holder_kind(word: object) -> str:
    """``entity`` or ``individual`` for a customer's or owner's type word (see
    :func:`computekyc.lists.holder_type`, whose InputError an unknown word raises)."""
    if type(word) is str:
        known = _KINDS.get(word)
        if known is not None:
            return known
    kind = str(holder_type(word))
    if type(word) is str and len(_KINDS) < 1024:
        _KINDS[word] = kind
    return kind


def _kind(data: dict[str, Any], prefix: str) -> str:
    try:
        return holder_kind(data.get("type", "entity"))
    except exc.InputError as error:
        raise RecordError(f"{prefix}type", error.message) from None


def _share(data: dict[str, Any], prefix: str) -> float | None:
    raw = data.get("share")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise RecordError(f"{prefix}share", f"expected a percent number, got {raw!r}")
    if not 0 <= float(raw) <= 100:  # NaN fails this test too
        raise RecordError(f"{prefix}share", f"percent out of range 0..100: {raw}")
    return float(raw)


def _date_of_birth(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or list_day(value) is None:
        raise RecordError(field, f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    return value.strip()


# A holder above the one being read (a company cannot own itself, not even via others):
# (path, name key, country, identifier keys). A plain tuple: one is made per holder read.
_Ancestor = tuple[str, str, "str | None", frozenset[str]]
_NO_IDS: frozenset[str] = frozenset()


def _same(above: _Ancestor, me: _Ancestor) -> bool:
    if above[3] and above[3] & me[3]:
        return True
    countries_agree = above[2] is None or me[2] is None or above[2] == me[2]
    return bool(above[1]) and above[1] == me[1] and countries_agree


def _directors_ok(directors: Any) -> bool:
    return isinstance(directors, list) and all(
        isinstance(d, str) or (isinstance(d, dict) and isinstance(d.get("name"), str))
        for d in directors
    )


def _holder(
    data: Any, path: str, *, is_owner: bool, ancestors: tuple[_Ancestor, ...] = ()
) -> Holder:
    # Called once per customer and per owner (hundreds of thousands per book): field names
    # for errors are only spelled out when one is raised.
    if not isinstance(data, dict):
        raise RecordError(path or "<line>", f"expected a JSON object, got {type(data).__name__}")
    prefix = f"{path}." if path else ""
    get = data.get
    name = get("name")
    if not isinstance(name, str) or not name.strip():
        raise RecordError(f"{prefix}name", "missing or empty name")
    kind = _kind(data, prefix)
    if is_owner:
        share = _share(data, prefix)
        relation = get("relation", "owner")
        if relation not in RELATIONS:
            raise RecordError(
                f"{prefix}relation",
                f"expected one of {', '.join(sorted(RELATIONS))}, got {relation!r}",
            )
    else:
        share, relation = None, "owner"
    identifiers = get("identifiers") or {}
    if not isinstance(identifiers, dict):
        raise RecordError(f"{prefix}identifiers", "expected an object of scheme → value")
    country = _country(get("country"), f"{prefix}country")
    ids = (
        frozenset(identifier_key(str(k), str(v)) for k, v in identifiers.items() if v)
        if identifiers
        else _NO_IDS
    )
    owners_raw = get("owners") or []
    me: _Ancestor | None = None
    if ancestors or owners_raw:  # a root without owners has nothing to be compared with
        me = (path, norm(name), country, ids)
        for above in ancestors:
            if _same(above, me):
                what = "owns itself" if above is ancestors[-1] else "is in an ownership cycle"
                where = above[0] or "the customer"
                raise RecordError(f"{prefix}name", f"{name.strip()!r} {what}: it is also {where}")
    directors = get("directors") or []
    if directors and not _directors_ok(directors):
        raise RecordError(f"{prefix}directors", "expected a list of names or {name} objects")
    if not isinstance(owners_raw, list):
        raise RecordError(f"{prefix}owners", "expected a list of owner objects")
    owners: list[Holder] = []
    if owners_raw:
        assert me is not None
        lineage = (*ancestors, me)
        owners = [
            _holder(o, f"{prefix}owners[{i}]", is_owner=True, ancestors=lineage)
            for i, o in enumerate(owners_raw)
        ]
    declared = sum(o.share or 0.0 for o in owners)
    if declared > 100.0 + 1e-6:
        raise RecordError(f"{prefix}owners", f"declared shares add up to {declared:g}% (> 100%)")
    return Holder(
        name=name.strip(),
        type=kind,
        country=country,
        headquarters_country=_country(get("headquarters_country"), f"{prefix}headquarters_country"),
        share=share,
        relation=relation,
        date_of_birth=_date_of_birth(get("date_of_birth"), f"{prefix}date_of_birth"),
        owners=owners,
        identifiers={str(k).lower(): str(v) for k, v in identifiers.items() if v}
        if identifiers
        else {},
        directors=[d if isinstance(d, str) else d["name"] for d in directors] if directors else [],
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
    """Yield one Customer (or one InputError) per non-blank line of a JSONL file.

    A customer id seen on an earlier line is an error on the later line: two records for one
    id would give two determinations under one name."""
    first_line: dict[str, int] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                where = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
                yield InputError(str(path), number, "<text>", f"not UTF-8 text ({where})")
                continue
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield InputError(str(path), number, "<json>", f"invalid JSON: {exc.msg}")
                continue
            except RecursionError:
                yield InputError(str(path), number, "<json>", "nested too deeply to read")
                continue
            raw_id = data.get("id") if isinstance(data, dict) else None
            cid = None if raw_id is None or isinstance(raw_id, dict | list) else str(raw_id)
            try:
                if cid is not None and cid in first_line:
                    earlier = first_line[cid]
                    raise RecordError("id", f"duplicate id {cid!r}: first on line {earlier}")
                if cid is not None:
                    first_line[cid] = number  # also when this line is bad: the id is taken
                customer = parse_customer(data)
            except RecursionError:
                too_deep = "owners nested too deeply to read"
                yield InputError(str(path), number, "owners", too_deep, cid)
                continue
            except RecordError as exc:
                yield InputError(str(path), number, exc.field or "<record>", exc.message, cid)
                continue
            customer.line = number
            customer.source_file = str(path)
            yield customer
