"""Account records: JSON Lines and CSV, strict validation naming file, line and field."""

from __future__ import annotations

import json
import pickle
from dataclasses import fields
from pathlib import Path

import pytest

from computekyc.linking.records import AccountInputError, AccountRecord, load_accounts
from computekyc.pii import has_card_number

GOOD = {
    "account_id": "a-1",
    "name": "Dragon AI Pte. Ltd.",
    "type": "organization",
    "country": "SG",
    "emails": ["ops@dragon.sg", {"value": "ceo@dragon.sg", "verified": True}],
    "phones": ["+65 6123 4567"],
    "addresses": ["1 Raffles Place, Singapore 048616"],
    "payment_fingerprints": ["tok_9f8e7d"],
    "ip_log": [{"ip": "8.8.8.8", "ts": "2026-01-02T03:04:05Z", "action": "admin"}],
    "beneficial_owners": ["Li Wei"],
    "created_at": "2026-01-01",
}


def write_jsonl(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_jsonl_round_trip(tmp_path: Path) -> None:
    [record] = load_accounts(write_jsonl(tmp_path / "a.jsonl", GOOD))
    assert record.account_id == "a-1"
    assert record.emails[1].verified and not record.emails[0].verified
    assert record.ip_log[0].action == "admin"
    assert record.to_json()["emails"][1] == {"value": "ceo@dragon.sg", "verified": True}


def test_csv_multi_values(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "account_id,name,country,emails,phones,ip_log,beneficial_owners,history,created_at\n"
        "c-1,Acme Ltd,GB,a@acme.co.uk;verified:b@acme.co.uk,+44 20 7946 0000,"
        "81.2.69.160|2026-01-02T00:00:00|login;81.2.69.161|2026-01-03T00:00:00|admin,"
        "Jane Roe;John Doe,2026-01-05|name|Old Ltd|Acme Ltd,2026-01-01\n",
        encoding="utf-8",
    )
    [record] = load_accounts(path)
    assert [c.value for c in record.emails] == ["a@acme.co.uk", "b@acme.co.uk"]
    assert record.emails[1].verified
    assert [e.ip for e in record.ip_log] == ["81.2.69.160", "81.2.69.161"]
    assert record.beneficial_owners == ("Jane Roe", "John Doe")
    assert record.history[0].old == "Old Ltd"


@pytest.mark.parametrize(
    ("change", "line_field", "words"),
    [
        ({"country": "Singapore"}, "country", "alpha-2"),
        ({"emails": ["not-an-email"]}, "emails[0]", "e-mail"),
        ({"ip_log": [{"ip": "999.1.1.1", "ts": "2026-01-01"}]}, "ip_log[0].ip", "IP address"),
        ({"ip_log": [{"ip": "8.8.8.8", "ts": "yesterday"}]}, "ip_log[0].ts", "ISO 8601"),
        ({"type": "robot"}, "type", "unknown party type 'robot'; accepted"),
        ({"nickname": "x"}, "nickname", "unknown field"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_errors_name_file_line_field(
    tmp_path: Path, change: dict[str, object], line_field: str, words: str
) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", {**GOOD, "account_id": "ok"}, {**GOOD, **change})
    with pytest.raises(AccountInputError) as info:
        load_accounts(path)
    assert info.value.line == 2
    assert info.value.field == line_field
    assert str(path) in str(info.value) and words in str(info.value)


def test_duplicate_account_id(tmp_path: Path) -> None:
    with pytest.raises(AccountInputError, match="duplicate account_id"):
        load_accounts(write_jsonl(tmp_path / "d.jsonl", GOOD, GOOD))


@pytest.mark.parametrize(
    "card", ["4111111111111111", "4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"]
)
def test_raw_card_number_refused_and_never_echoed(tmp_path: Path, card: str) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", {**GOOD, "payment_fingerprints": ["tok_1", card]})
    with pytest.raises(AccountInputError) as info:
        load_accounts(path)
    message = str(info.value)
    digits = card.replace(" ", "").replace("-", "")
    assert info.value.field == "payment_fingerprints[1]"
    assert "holds a card number" in message
    assert digits not in message and card not in message and digits[:6] not in message
    assert message.count(digits[-4:]) == 1  # only the last four, as receipts print them


def test_card_lookalikes_that_fail_luhn_are_tokens() -> None:
    assert not has_card_number("4111111111111112")  # Luhn fails
    assert not has_card_number("411111111111")  # 12 digits
    assert not has_card_number("tok_9f8e7d6c5b4a")
    assert has_card_number("4012888888881881")
    # A card number inside a token is still a card number.
    assert has_card_number("tok_4111111111111111")


def test_invalid_json_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(GOOD) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(AccountInputError, match=r"j\.jsonl:2: field '<json>'"):
        load_accounts(path)


def test_usage_shapes(tmp_path: Path) -> None:
    from computekyc.linking import UsageInputError, load_usage, parse_usage

    assert parse_usage({"a": 1e24}) == {"a": 1e24}
    assert parse_usage({"estimated_operations": {"a": 2}}) == {"a": 2.0}
    assert parse_usage({"accounts": [{"account_id": "a", "estimated_operations": 3}]}) == {"a": 3.0}
    with pytest.raises(UsageInputError, match="non-negative"):
        parse_usage({"a": "lots"})
    bad = tmp_path / "u.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(UsageInputError, match=r"u\.json: invalid JSON"):
        load_usage(bad)


CARD = "4111111111111111"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"payment_fingerprints": ["4111.1111.1111.1111"]}, "payment_fingerprints[0]"),
        ({"payment_fingerprints": ["4111/1111/1111/1111"]}, "payment_fingerprints[0]"),
        ({"payment_fingerprints": ["pm_4111_1111_1111_1111"]}, "payment_fingerprints[0]"),
        ({"name": f"Card {CARD} Ltd"}, "name"),
        ({"addresses": ["1 Main St, card 4111-1111-1111-1111"]}, "addresses[0]"),
        ({"emails": [f"{CARD}@example.com"]}, "emails[0]"),
        ({"beneficial_owners": ["Li 4111 1111 1111 1111"]}, "beneficial_owners[0]"),
        ({"declared_use": f"training; card {CARD}"}, "declared_use"),
        ({"country": CARD}, "country"),
        ({"phones": ["4111 1111 1111 1111"]}, "phones[0]"),
        ({"history": [{"ts": "2026-01-02", "field": "name", "old": CARD, "new": "X"}]},
         "history[0].old"),
        ({"emails": [f"bad-{CARD}"]}, "emails[0]"),
    ],
)  # fmt: skip
def test_card_anywhere_refused_and_masked(
    tmp_path: Path, change: dict[str, object], where: str
) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", {**GOOD, **change})
    with pytest.raises(AccountInputError) as info:
        load_accounts(path)
    message = str(info.value)
    assert info.value.field == where
    assert "card number" in message and "…1111" in message
    assert "41111111" not in message.replace(" ", "").replace("-", "").replace(".", "")
    assert "\n" not in message


def test_card_in_an_unexpected_value_is_masked_in_the_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", {**GOOD, "ip_log": [{"ip": CARD, "ts": "x"}]})
    with pytest.raises(AccountInputError) as info:
        load_accounts(path)
    assert CARD not in str(info.value) and "…1111" in str(info.value)


@pytest.mark.parametrize("phone", ["+1 415 555 0100", "+86 138 0013 8000", "020 7946 0000"])
def test_real_phones_are_never_refused(tmp_path: Path, phone: str) -> None:
    [record] = load_accounts(write_jsonl(tmp_path / "p.jsonl", {**GOOD, "phones": [phone]}))
    assert record.phones[0].value == phone


@pytest.mark.parametrize(
    ("given", "kind"),
    [("organization", "organization"), ("company", "organization"), ("entity", "organization"),
     ("legal_entity", "organization"), ("organisation", "organization"),
     ("Company", "organization"), ("Organization", "organization"),
     ("LegalEntity", "organization"), ("person", "individual"), ("Person", "individual"),
     ("individual", "individual")],
)  # fmt: skip
def test_party_type_vocabulary(tmp_path: Path, given: str, kind: str) -> None:
    [record] = load_accounts(write_jsonl(tmp_path / "t.jsonl", {**GOOD, "type": given}))
    assert record.type == kind


def test_not_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"account_id": "x\xff"}\n')
    with pytest.raises(AccountInputError, match=r"l\.jsonl:2: field '<encoding>': not UTF-8"):
        load_accounts(path)
    csv_path = tmp_path / "l.csv"
    csv_path.write_bytes(b"account_id,name\na,Acme\nb,Caf\xe9 Ltd\n")
    with pytest.raises(AccountInputError, match=r"l\.csv:3: field '<encoding>'"):
        load_accounts(csv_path)


def test_bom_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b"\xef\xbb\xbfaccount_id,name\na,Acme Ltd\n")
    assert [r.account_id for r in load_accounts(path)] == ["a"]


def test_oversized_csv_cell_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("account_id,name,declared_use\na,Acme," + "x" * 200_000 + "\n")
    with pytest.raises(AccountInputError) as info:
        load_accounts(path)
    assert (info.value.line, info.value.field) == (2, "declared_use")
    assert len(str(info.value)) < 200


def test_deep_json_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "\n")
    with pytest.raises(AccountInputError, match="nested too deeply"):
        load_accounts(path)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"emails": [{"value": "a@b.c", "verified": "no"}]}, "emails[0].verified"),
        ({"account_id": 12}, "account_id"),
        ({"name": ["A", "B"]}, "name"),
        ({"ip_log": "8.8.8.8"}, "ip_log"),
        ({"ip_log": [{"ip": "8.8.8.8", "ts": 5}]}, "ip_log[0].ts"),
        ({"history": [{"ts": "2026-01-01", "field": 1, "old": "a", "new": "b"}]}, "history[0]"),
        ({"created_at": {"a": 1}}, "created_at"),
        ({"phones": [None]}, "phones[0]"),
    ],
)
def test_wrongly_typed_fields(tmp_path: Path, change: dict[str, object], where: str) -> None:
    path = write_jsonl(tmp_path / "w.jsonl", {**GOOD, **change})
    with pytest.raises(AccountInputError) as info:
        load_accounts(path)
    assert info.value.field == where and info.value.line == 1


def test_a_record_pickles_to_an_equal_record(tmp_path: Path) -> None:
    # Records pickle as their constructor's arguments (the scan keeps the book it read):
    # every field, nested contacts, events and changes come back equal.
    history = [{"ts": "2026-02-01", "field": "name", "old": "Dragon AI", "new": "Dragon AI Pte"}]
    [record] = load_accounts(
        write_jsonl(
            tmp_path / "a.jsonl",
            GOOD | {"billing_account_id": "b-1", "customer_id": "c-1", "history": history},
        )
    )
    again = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == record and repr(again) == repr(record)
    assert all(getattr(again, f.name) == getattr(record, f.name) for f in fields(record))
    assert again.history and again.ip_log and again.emails[1].verified


def test_a_record_writes_out_as_asdict_would(tmp_path: Path) -> None:
    # to_json is dataclasses.asdict written out by hand (for speed): the same plain JSON, with an
    # unverified contact as its bare value and empty fields left out.
    from dataclasses import asdict

    def reference(record: AccountRecord) -> dict[str, object]:
        out = asdict(record)
        for key in ("emails", "phones"):
            out[key] = [c["value"] if not c["verified"] else c for c in out[key]]
        return {k: v for k, v in out.items() if v not in (None, [], ())}

    history = [{"ts": "2026-02-01", "field": "name", "old": "Dragon AI", "new": "Dragon AI Pte"}]
    records = load_accounts(
        write_jsonl(
            tmp_path / "a.jsonl",
            GOOD | {"billing_account_id": "b-1", "customer_id": "c-1", "history": history},
            {"account_id": "a-2", "name": "Bare Name Ltd"},
        )
    ) + load_accounts(Path(__file__).parents[2] / "examples" / "provider" / "accounts.jsonl")
    assert any(r.history and r.ip_log and r.emails for r in records)
    for record in records:
        assert record.to_json() == reference(record)
        assert json.dumps(record.to_json()) == json.dumps(reference(record))
