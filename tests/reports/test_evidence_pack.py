"""Evidence packs on a scanned hand-built book: made, verified, and refused when anything in
them — one byte, a member, the manifest, the signature, an audit entry — was changed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from computekyc import audit
from computekyc.reports import MANIFEST, SIGNATURE, json_member, verify_pack, write_zip
from computekyc.settings import Settings

Cli = Callable[..., Any]


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _json(data: bytes, name: str) -> Any:
    return json.loads(_members(data)[name])


def _casework(cli: Cli) -> None:
    """Two reviewers; alert 1 (the Entity List match) escalated into a case, with a comment."""
    for name in ("rev", "rev2"):
        assert cli("users", "add", name, "--role", "reviewer").exit_code == 0
    done = cli(
        "alerts",
        "decide",
        "1",
        "--outcome",
        "escalated",
        "--reason",
        "Entity List row",
        "--user",
        "rev",
    )
    assert done.exit_code == 0, done.output
    assert cli("cases", "comment", "1", "licence needed for 3A090", "--user", "rev").exit_code == 0


@pytest.fixture()
def pack(home: Path, cli: Cli, tmp_path: Path) -> Path:
    _casework(cli)
    target = tmp_path / "pack.zip"
    made = cli("report", "case", "1", "--output", str(target))
    assert made.exit_code == 0, made.output
    return target


def _key(home: Path) -> Any:
    return audit.load_or_create_key(Settings(home=home)).public_key()


def test_pack_holds_the_evidence_and_verifies(pack: Path, cli: Cli, lists_dir: Path) -> None:
    checked = cli("report", "verify", str(pack))
    assert checked.exit_code == 0, checked.output
    assert "evidence pack intact" in checked.output
    data = pack.read_bytes()
    members = _members(data)
    alerts = _json(data, "alerts.json")
    assert [a["id"] for a in alerts] == [1]
    assert alerts[0]["type"] == "restricted_party_match"
    assert alerts[0]["subject"]["id"] == "c-1"
    decisions = _json(data, "decisions.json")["decisions"]["1"]
    assert decisions[0]["outcome"] == "escalated" and decisions[0]["decided_by"] == "rev"
    case = _json(data, "case.json")
    assert case["case"]["alerts"] == [1]
    assert [c["text"] for c in case["comments"]] == ["licence needed for 3A090"]
    explanations = _json(data, "explanations.json")
    assert explanations and explanations[0]["hit"]["explanation"]["matches"]
    # The exact list entry, from the alert's snapshot, with the line of the file it came from.
    entries = _json(data, "list_entries.json")["snapshot-1"]
    [party] = entries["parties"]
    assert party["name"] == "Hangzhou Hikvision Digital Technology Co., Ltd."
    assert party["source"] == "EL" and party["source_file"] == "consolidated.csv"
    assert party["source_line"] > 1 and entries["missing"] == []
    # The hash of the very list file loaded.
    real = hashlib.sha256((lists_dir / "csl" / "consolidated.csv").read_bytes()).hexdigest()
    files = _json(data, "list_files.json")["snapshot-1"]["feeds"]["csl"]["files"]
    assert [f["sha256"] for f in files] == [real]
    assert b"hq_advanced_computing" in members["rules/rules.yaml"]
    assert _json(data, "rules/versions.json")["texts_included"] is True
    # Audit entries: the alert raised by the scan, the decision, the case, the list load.
    actions = {e["action"] for e in _json(data, "audit/entries.json")}
    assert {"alert.new", "alert.decide", "lists.loaded", "case.open", "case.comment"} <= actions
    # Two segments: up to the scan's checkpoint (the list load, the alert raised), and from
    # there to the checkpoint signed for the pack (the decision and the case came later).
    segments = _json(data, "audit/proof.json")["segments"]
    assert [s["checkpoint"]["note"] for s in segments] == ["scan 1", "evidence pack"]
    assert segments[0]["start"] == 1
    assert segments[1]["start"] == segments[0]["checkpoint"]["count"] + 1
    last = max(e["seq"] for e in _json(data, "audit/entries.json"))
    assert segments[1]["checkpoint"]["count"] >= last
    manifest = _json(data, MANIFEST)
    assert set(manifest["members"]) == set(members) - {MANIFEST, SIGNATURE}


def test_a_case_pack_holds_every_alert_of_the_case(pack: Path, cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "case.zip"
    made = cli("report", "case", "case:1", "--output", str(target))
    assert made.exit_code == 0, made.output
    assert _json(target.read_bytes(), "pack.json")["about"] == {"kind": "case", "id": 1}
    assert cli("report", "verify", str(target)).exit_code == 0


def _offsets(data: bytes) -> dict[str, int]:
    """Where each member's bytes start in the (stored, uncompressed) archive."""
    found = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            start = info.header_offset
            name_length = int.from_bytes(data[start + 26 : start + 28], "little")
            extra_length = int.from_bytes(data[start + 28 : start + 30], "little")
            found[info.filename] = start + 30 + name_length + extra_length
    return found


def test_one_changed_byte_in_a_member_fails_naming_it(pack: Path, cli: Cli, tmp_path: Path) -> None:
    data = pack.read_bytes()
    for name, offset in _offsets(data).items():
        changed = bytearray(data)
        changed[offset + 1] ^= 0x01
        target = tmp_path / "tampered.zip"
        target.write_bytes(bytes(changed))
        checked = cli("report", "verify", str(target))
        assert checked.exit_code == 1, (name, checked.output)
        assert "NOT INTACT" in checked.output
        assert f"  {name}: " in checked.output, (name, checked.output)


def test_one_changed_byte_anywhere_fails(pack: Path, home: Path) -> None:
    data = pack.read_bytes()
    key = _key(home)
    assert verify_pack(data, key).intact
    step = max(1, len(data) // 400)  # about 400 places, headers and directory included
    places = [*range(0, len(data), step), len(data) - 1, *range(len(data) - 60, len(data))]
    for place in places:
        changed = bytearray(data)
        changed[place] ^= 0x20
        report = verify_pack(bytes(changed), key)
        assert not report.intact, place
        assert report.findings[0].member  # each finding names a member or the archive


def _rezip(data: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    members = _members(data)
    change(members)
    return write_zip(members)


def test_a_changed_manifest_or_signature_fails(pack: Path, home: Path) -> None:
    data, key = pack.read_bytes(), _key(home)

    def forge_hash(members: dict[str, bytes]) -> None:
        members["alerts.json"] = members["alerts.json"].replace(b"critical", b"low     ")
        manifest = json.loads(members[MANIFEST])
        digest = hashlib.sha256(members["alerts.json"]).hexdigest()
        manifest["members"]["alerts.json"]["sha256"] = digest
        members[MANIFEST] = json_member(manifest)

    report = verify_pack(_rezip(data, forge_hash), key)
    assert [str(f) for f in report.findings] == [
        f"{SIGNATURE}: the signature of {MANIFEST} is not valid under key {audit.key_id(key)}"
    ]

    def bad_signature(members: dict[str, bytes]) -> None:
        raw = bytearray(base64.b64decode(members[SIGNATURE]))
        raw[0] ^= 1
        members[SIGNATURE] = base64.b64encode(bytes(raw)) + b"\n"

    assert [f.member for f in verify_pack(_rezip(data, bad_signature), key).findings] == [SIGNATURE]

    def signed_elsewhere(members: dict[str, bytes]) -> None:
        other = Ed25519PrivateKey.generate()
        manifest = json.loads(members[MANIFEST])
        manifest["key_id"] = audit.key_id(other.public_key())
        members[MANIFEST] = json_member(manifest)
        members[SIGNATURE] = base64.b64encode(other.sign(members[MANIFEST])) + b"\n"

    found = verify_pack(_rezip(data, signed_elsewhere), key).findings
    assert {f.member for f in found} == {MANIFEST, SIGNATURE}


def test_a_member_added_or_removed_fails(pack: Path, home: Path) -> None:
    data, key = pack.read_bytes(), _key(home)
    added = verify_pack(_rezip(data, lambda m: m.update({"extra.json": b"{}\n"})), key)
    assert [str(f) for f in added.findings] == ["extra.json: added: not in the manifest"]
    removed = verify_pack(_rezip(data, lambda m: m.pop("decisions.json")), key)
    assert [str(f) for f in removed.findings] == [
        "decisions.json: removed: listed in the manifest but not in the archive"
    ]


def test_an_edited_audit_entry_fails_even_when_the_manifest_is_signed_again(
    pack: Path, home: Path
) -> None:
    """Someone holding the signing key re-signs the manifest: the entry no longer matches its
    leaf, and the chain no longer reaches the checkpoint signed before."""
    data = pack.read_bytes()
    signing = audit.load_or_create_key(Settings(home=home))
    members = _members(data)
    entries = json.loads(members["audit/entries.json"])
    entries[-1]["reason"] = "nothing to see"
    members["audit/entries.json"] = json_member(entries)
    manifest = json.loads(members[MANIFEST])
    for name in ("audit/entries.json",):
        manifest["members"][name]["sha256"] = hashlib.sha256(members[name]).hexdigest()
    members[MANIFEST] = json_member(manifest)
    members[SIGNATURE] = base64.b64encode(signing.sign(members[MANIFEST])) + b"\n"
    report = verify_pack(write_zip(members), signing.public_key())
    assert {f.member for f in report.findings} == {"audit/entries.json"}
    assert "does not match its leaf hash" in report.findings[0].problem


def test_verify_elsewhere_needs_the_exported_key(
    pack: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = tmp_path / "audit.pub.pem"
    assert cli("audit", "key", "--export", str(exported)).exit_code == 0
    monkeypatch.setenv("COMPUTEKYC_HOME", str(tmp_path / "auditor-home"))  # no key there
    refused = cli("report", "verify", str(pack))
    assert refused.exit_code == 3 and "--key" in refused.output
    checked = cli("report", "verify", str(pack), "--key", str(exported), "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["intact"] is True
    other = tmp_path / "other.pem"
    other.write_text(audit.public_key_pem(Ed25519PrivateKey.generate().public_key()))
    assert cli("report", "verify", str(pack), "--key", str(other)).exit_code == 1


def test_bad_references_and_unknown_ids(home: Path, cli: Cli, tmp_path: Path) -> None:
    out = str(tmp_path / "x.zip")
    assert cli("report", "case", "banana", "--output", out).exit_code == 2
    missing = cli("report", "case", "999", "--output", out)
    assert missing.exit_code == 2 and "no alert 999" in missing.output
    assert cli("report", "case", "case:999", "--output", out).exit_code == 2
    assert not Path(out).exists()
    not_a_zip = tmp_path / "not.zip"
    not_a_zip.write_bytes(b"hello")
    checked = cli("report", "verify", str(not_a_zip))
    assert checked.exit_code == 1 and "(archive): not a readable ZIP archive" in checked.output


def test_no_pack_from_an_edited_audit_log(home: Path, cli: Cli, tmp_path: Path) -> None:
    """An entry rewritten in the database (triggers dropped by the owner) no longer folds to
    the checkpoint the scan signed: the pack is refused, nothing is written."""
    with sqlite3.connect(home / "computekyc.db") as connection:
        connection.execute("DROP TRIGGER audit_log_no_update")
        connection.execute(
            "UPDATE audit_log SET reason = 'rewritten' WHERE object_kind = 'alert' "
            "AND object_id = '1'"
        )
    target = tmp_path / "pack.zip"
    refused = cli("report", "case", "1", "--output", str(target))
    assert refused.exit_code == 3, refused.output
    assert "no longer matches its checkpoint" in refused.output
    assert not target.exists()


def test_the_usage_extract_of_a_controlled_rental(home: Path, cli: Cli, tmp_path: Path) -> None:
    """Hikvision's account rented 8 H100 for 48 hours: the alert's own figures, and the
    account's usage from the usage store up to the alert's day, day by day."""
    listed = json.loads(cli("alerts", "list", "--type", "controlled_rental", "--json").stdout)
    [rental] = [a for a in listed if a["subject"]["id"] == "c-1"]
    target = tmp_path / "rental.zip"
    made = cli("report", "case", f"alert:{rental['id']}", "--output", str(target))
    assert made.exit_code == 0, made.output
    usage = _json(target.read_bytes(), "usage.json")
    [evidence] = usage["alert_evidence"]
    assert evidence["by_account"] == {"a-1": 384.0}
    [stored] = usage["usage_store"]
    assert stored["account"] == "a-1" and stored["up_to"] == "2026-11-30"
    assert stored["summary"]["controlled_gpu_hours"] == 384.0
    assert [d["date"] for d in stored["summary"]["days"]] == ["2026-11-10", "2026-11-11"]
    assert cli("report", "verify", str(target)).exit_code == 0
