"""Checking an evidence pack: the archive, every member's hash, the manifest's signature, and
the audit entries against the signed checkpoint of their chain (pure: bytes in, findings out).

The key a pack is checked against is one the verifier trusts (this installation's audit key, or
the public key exported with ``computekyc audit key --export`` and kept by the auditor); the copy
inside the pack only names the signer.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from computekyc.audit import key_id
from computekyc.audit.model import leaf_hash
from computekyc.reports.evidence import (
    MANIFEST,
    PACK_FORMAT,
    SIGNATURE,
    AuditProof,
    sha256_hex,
    write_zip,
)

ENTRIES = "audit/entries.json"
PROOF = "audit/proof.json"
ARCHIVE = "(archive)"


@dataclass(frozen=True, slots=True)
class PackFinding:
    member: str  # the member at fault, or "(archive)"
    problem: str

    def to_dict(self) -> dict[str, str]:
        return {"member": self.member, "problem": self.problem}

    def __str__(self) -> str:
        return f"{self.member}: {self.problem}"


@dataclass(slots=True)
class PackReport:
    members: int = 0
    audit_entries: int = 0
    checkpoint: dict[str, Any] | None = None
    generated_at: str | None = None
    key_id: str | None = None
    findings: list[PackFinding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    def add(self, member: str, problem: str) -> None:
        self.findings.append(PackFinding(member, problem))

    def to_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "members": self.members,
            "audit_entries": self.audit_entries,
            "checkpoint": self.checkpoint,
            "generated_at": self.generated_at,
            "key_id": self.key_id,
            "findings": [f.to_dict() for f in self.findings],
        }


def _read_members(data: bytes, report: PackReport) -> dict[str, bytes] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        report.add(ARCHIVE, f"not a readable ZIP archive ({exc})")
        return None
    members: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            if info.filename in members:
                report.add(info.filename, "the archive holds this name twice")
                continue
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
                report.add(info.filename, f"unreadable: {exc}")
    return members


def _manifest(members: dict[str, bytes], key: Ed25519PublicKey, report: PackReport) -> Any:
    manifest_bytes = members.get(MANIFEST)
    signature = members.get(SIGNATURE)
    if manifest_bytes is None:
        report.add(MANIFEST, "missing")
        return None
    try:
        manifest = json.loads(manifest_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add(MANIFEST, f"not JSON ({exc})")
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
        report.add(MANIFEST, f"not a {PACK_FORMAT} manifest")
        manifest = None
    trusted = key_id(key)
    if manifest is not None:
        report.generated_at = str(manifest.get("generated_at"))
        report.key_id = str(manifest.get("key_id"))
        if report.key_id != trusted:
            report.add(MANIFEST, f"signed by key {report.key_id}, not the trusted key {trusted}")
    if signature is None:
        report.add(SIGNATURE, "missing")
        return manifest
    try:
        key.verify(base64.b64decode(signature.strip(), validate=True), manifest_bytes)
    except (InvalidSignature, binascii.Error, ValueError):
        report.add(SIGNATURE, f"the signature of {MANIFEST} is not valid under key {trusted}")
    return manifest


def _hashes(members: dict[str, bytes], manifest: dict[str, Any], report: PackReport) -> None:
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        report.add(MANIFEST, "has no member list")
        return
    present = set(members) - {MANIFEST, SIGNATURE}
    for name in sorted(present - set(listed)):
        report.add(name, "added: not in the manifest")
    for name in sorted(set(listed) - present):
        report.add(name, "removed: listed in the manifest but not in the archive")
    for name in sorted(present & set(listed)):
        entry = listed[name]
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if sha256_hex(members[name]) != expected:
            report.add(name, "content changed: its SHA-256 differs from the manifest")


def _audit(members: dict[str, bytes], key: Ed25519PublicKey, report: PackReport) -> None:
    """Every entry's leaf recomputed, placed in the proof's leaves, and the leaves folded to
    the signed checkpoint head."""
    if ENTRIES not in members or PROOF not in members:
        for name in (ENTRIES, PROOF):
            if name not in members:
                report.add(name, "missing")
        return
    try:
        entries = json.loads(members[ENTRIES])
        proof_data = json.loads(members[PROOF])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add(ENTRIES, f"the audit members are not JSON ({exc})")
        return
    if not isinstance(entries, list):
        report.add(ENTRIES, "not a list of entries")
        return
    report.audit_entries = len(entries)
    if not entries:
        return
    segments = proof_data.get("segments") if isinstance(proof_data, dict) else None
    if not isinstance(segments, list) or not segments:
        report.add(PROOF, "no signed checkpoint proves the entries")
        return
    chained: dict[int, tuple[str, str]] = {}
    for number, data in enumerate(segments, start=1):
        try:
            proof = AuditProof.from_dict(data)
        except Exception as exc:  # any malformed proof is a finding, not a crash
            report.add(PROOF, f"segment {number}: malformed ({exc})")
            continue
        checkpoint = proof.checkpoint
        report.checkpoint = {
            "count": checkpoint.count,
            "head": checkpoint.head,
            "at": checkpoint.at,
        }
        label = f"segment {number} (checkpoint of {checkpoint.count} entries)"
        if checkpoint.key_id != key_id(key) or not checkpoint.valid_under(key):
            report.add(PROOF, f"{label}: the signature is not valid under the trusted key")
        if proof.start + len(proof.leaves) - 1 != checkpoint.count:
            report.add(PROOF, f"{label}: the leaves do not run up to the checkpoint")
        try:
            if proof.head() != checkpoint.head:
                report.add(PROOF, f"{label}: the leaves do not fold to the signed head")
            chained.update({seq: (leaf, chain) for seq, leaf, chain in proof.chain_at()})
        except ValueError as exc:
            report.add(PROOF, f"{label}: a hash is not hexadecimal ({exc})")
    for row in entries:
        try:
            seq = int(row["seq"])
            leaf = leaf_hash(row)
        except (KeyError, TypeError, ValueError) as exc:
            report.add(ENTRIES, f"an entry lacks a field ({exc})")
            continue
        if leaf != row.get("leaf"):
            report.add(ENTRIES, f"entry #{seq}: its content does not match its leaf hash")
        placed = chained.get(seq)
        if placed is None:
            report.add(ENTRIES, f"entry #{seq} lies outside the proof (not covered)")
        elif placed != (leaf, row.get("chain")):
            report.add(ENTRIES, f"entry #{seq} is not the entry at its place in the chain")


def verify_pack(data: bytes, key: Ed25519PublicKey) -> PackReport:
    """Every check, each failure a finding naming the member at fault."""
    report = PackReport()
    members = _read_members(data, report)
    if members is None:
        return report
    report.members = len(members)
    if write_zip(members) != data and not report.findings:
        report.add(
            ARCHIVE,
            "the archive's bytes differ from the canonical archive of its members "
            "(changed outside the members: a header, the directory, a comment or padding)",
        )
    manifest = _manifest(members, key, report)
    if manifest is not None:
        _hashes(members, manifest, report)
    _audit(members, key, report)
    return report
