"""Property tests of the account readers: random bytes, truncations and mutations of real
account files (generated populations in JSON Lines and Parquet, the hand-built scenarios in
JSON Lines and CSV) give either records or one clean ComputekycError — never another exception,
and never a card number in the message. Also: the E.164 shortcut agrees with ``phonenumbers``,
and a card number is found whatever its layout."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from computekyc.exc import ComputekycError
from computekyc.linking.features import e164
from computekyc.linking.generate import write_population
from computekyc.linking.records import AccountRecord, load_accounts
from computekyc.pii import find_card_numbers, has_card_number, luhn_ok, mask_card_numbers

from ..linking.scenarios import scenario_dicts

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
SUFFIXES = (".jsonl", ".csv", ".parquet")
_CSV_LISTS = ("emails", "phones", "addresses", "payment_fingerprints", "beneficial_owners")


def _csv(rows: list[dict[str, object]]) -> bytes:
    """The hand-built scenarios in the CSV layout (``;`` lists, ``ip|ts|action`` events)."""
    columns = ["account_id", "name", "type", "country", "billing_account_id", "customer_id",
               *_CSV_LISTS, "ip_log", "created_at"]  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        cells = dict(row)
        for key in _CSV_LISTS:
            values = cells.get(key) or []
            cells[key] = ";".join(
                ("verified:" + v["value"]) if isinstance(v, dict) else str(v)
                for v in values  # type: ignore[attr-defined]
            )
        cells["ip_log"] = ";".join(
            f"{e['ip']}|{e['ts']}|{e['action']}"
            for e in cells.get("ip_log") or []  # type: ignore[attr-defined]
        )
        writer.writerow(cells)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="session")
def seeds(shared: Path) -> list[tuple[str, bytes]]:
    """(suffix, content) of real account files to mutate."""
    out: list[tuple[str, bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".jsonl", ".parquet"):
            path = Path(tmp) / f"accounts{suffix}"
            write_population(40, path, seed=3, geoip_dir=shared / "data" / "ip")
            out.append((suffix, path.read_bytes()))
    rows = scenario_dicts()
    out.append((".jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")))
    out.append((".csv", _csv(rows)))
    return out


def _read(suffix: str, content: bytes) -> list[AccountRecord] | ComputekycError:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"accounts{suffix}"
        path.write_bytes(content)
        try:
            return load_accounts(path)
        except ComputekycError as exc:
            message = str(exc)
            assert "\n" not in message and not has_card_number(message)
            return exc


def test_seeds_read_whole(seeds: list[tuple[str, bytes]]) -> None:
    for suffix, content in seeds:
        records = _read(suffix, content)
        assert isinstance(records, list) and len(records) >= 27


@FAST
@given(st.sampled_from(SUFFIXES), st.binary(max_size=2000))
def test_random_bytes(suffix: str, content: bytes) -> None:
    _read(suffix, content)


@FAST
@given(st.data())
def test_truncations(seeds: list[tuple[str, bytes]], data: st.DataObject) -> None:
    suffix, content = data.draw(st.sampled_from(seeds))
    cut = data.draw(st.integers(0, len(content)))
    result = _read(suffix, content[:cut])
    if isinstance(result, list) and suffix != ".parquet":
        # A cut at a line end keeps whole records: as many as the lines kept.
        assert len(result) <= len(_read(suffix, content))  # type: ignore[arg-type]


@FAST
@given(st.data())
def test_mutations(seeds: list[tuple[str, bytes]], data: st.DataObject) -> None:
    suffix, content = data.draw(st.sampled_from(seeds))
    buffer = bytearray(content)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, max(len(buffer) - 1, 0)))
        action = data.draw(st.sampled_from(("flip", "insert", "delete", "card", "bracket")))
        if action == "flip" and buffer:
            buffer[at] = data.draw(st.integers(0, 255))
        elif action == "insert":
            buffer[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del buffer[at : at + data.draw(st.integers(1, 16))]
        elif action == "card":
            buffer[at:at] = b"4111.1111.1111.1111"
        else:
            buffer[at:at] = data.draw(st.sampled_from((b"[", b"]", b"{", b"}", b'"', b"\n")))
    result = _read(suffix, bytes(buffer))
    if isinstance(result, list):
        for record in result:
            # Phones are read as phone numbers first: any other field holding a card is refused.
            fields = {k: v for k, v in record.to_json().items() if k != "phones"}
            assert not has_card_number(json.dumps(fields))


@FAST
@given(
    st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
    st.text("0123456789", min_size=5, max_size=12),
    st.sampled_from(("", " ", "-", ".")),
)
def test_e164_shortcut_agrees_with_phonenumbers(code: int, national: str, sep: str) -> None:
    written = f"+{code}{sep}{national[:3]}{sep}{national[3:]}"
    try:
        expected = phonenumbers.format_number(
            phonenumbers.parse(written, None), phonenumbers.PhoneNumberFormat.E164
        )
    except phonenumbers.NumberParseException:
        return
    assert e164(written) == expected


def _card(prefix: str) -> str:
    body = prefix
    check = next(str(d) for d in range(10) if luhn_ok(body + str(d)))
    return body + check


@FAST
@given(
    st.text("0123456789", min_size=12, max_size=18).map(_card),
    st.sampled_from((" ", "-", ".", "/", "_", " - ", "")),
    st.integers(1, 6),
    st.text(st.characters(codec="utf-8", exclude_categories=("Nd",)), max_size=12),
    st.text(st.characters(codec="utf-8", exclude_categories=("Nd",)), max_size=12),
)
def test_card_found_and_masked(card: str, sep: str, group: int, before: str, after: str) -> None:
    written = sep.join(card[i : i + group] for i in range(0, len(card), group))
    text = before + written + after
    [match] = find_card_numbers(text)
    assert match.last4 == card[-4:]
    masked = mask_card_numbers(text)
    assert sum(ch in "0123456789" for ch in masked) == 4
