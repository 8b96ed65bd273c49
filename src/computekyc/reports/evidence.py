"""Evidence packs: one alert or case as a signed, self-checking ZIP archive (pure: no I/O).

A pack holds JSON members (the alerts, decisions, case and comments, hit explanations, ownership
findings, usage extract, the exact list entries and the hashes of the list files of the
snapshot, the rule texts), the audit entries about them with a proof that they lie in the hash
chain up to a signed checkpoint, and ``manifest.json``: the SHA-256 of every member, signed with
the audit signing key (``manifest.sig``, Ed25519). Members are stored uncompressed, sorted, with
fixed times: the archive is a pure function of its members, so :mod:`computekyc.reports.verify`
can rebuild it byte for byte, and a changed byte anywhere — in a member, a header or the
directory — is found.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from computekyc.audit import Checkpoint, key_id
from computekyc.audit.model import chain_hash

PACK_FORMAT = "computekyc-evidence-pack/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can say: the same bytes every time


def json_member(value: Any) -> bytes:
    """A member's bytes: sorted keys, two-space indents, UTF-8, a final newline."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PROOF_METHOD = (
    "chain = SHA-256(previous chain || leaf) over raw bytes; in each segment, fold start_chain "
    "over leaves (entries start..checkpoint.count) to get the signed checkpoint.head"
)


@dataclass(frozen=True, slots=True)
class AuditProof:
    """One segment of the chain: entries ``start``..``checkpoint.count`` as leaf hashes, from
    the chain value before ``start``; folding them must give the checkpoint's signed head. A
    segment runs from just after the previous checkpoint, so it holds at most one scan's worth
    of entries however long the log."""

    checkpoint: Checkpoint
    start: int
    start_chain: str
    leaves: tuple[str, ...]

    def head(self) -> str:
        value = self.start_chain
        for leaf in self.leaves:
            value = chain_hash(value, leaf)
        return value

    def chain_at(self) -> Iterator[tuple[int, str, str]]:
        """(seq, leaf, chain value) of every entry the proof covers."""
        value = self.start_chain
        for offset, leaf in enumerate(self.leaves):
            value = chain_hash(value, leaf)
            yield self.start + offset, leaf, value

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint.to_dict(),
            "start": self.start,
            "start_chain": self.start_chain,
            "leaves": list(self.leaves),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditProof:
        return cls(
            checkpoint=Checkpoint.from_dict(data["checkpoint"], "audit/proof.json"),
            start=int(data["start"]),
            start_chain=str(data["start_chain"]),
            leaves=tuple(str(leaf) for leaf in data["leaves"]),
        )


def manifest_for(
    members: Mapping[str, bytes], *, generated_at: str, generated_by: str, signer: str
) -> dict[str, Any]:
    return {
        "format": PACK_FORMAT,
        "generated_at": generated_at,
        "generated_by": generated_by,
        "key_id": signer,
        "algorithm": "sha256; manifest signed with Ed25519 (manifest.sig, base64)",
        "members": {
            name: {"sha256": sha256_hex(data), "bytes": len(data)}
            for name, data in sorted(members.items())
        },
    }


def write_zip(members: Mapping[str, bytes]) -> bytes:
    """The canonical archive of the members: stored, sorted by name, fixed times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the machine that builds it
            archive.writestr(info, members[name])
    return buffer.getvalue()


def sign_pack(
    members: Mapping[str, bytes],
    key: Ed25519PrivateKey,
    *,
    generated_at: str,
    generated_by: str,
) -> bytes:
    """The signed archive: the members, ``manifest.json`` and ``manifest.sig``."""
    if MANIFEST in members or SIGNATURE in members:
        raise ValueError("a member may not be called manifest.json or manifest.sig")
    signer = key_id(key.public_key())
    manifest = json_member(
        manifest_for(members, generated_at=generated_at, generated_by=generated_by, signer=signer)
    )
    signature = base64.b64encode(key.sign(manifest)) + b"\n"
    return write_zip({**members, MANIFEST: manifest, SIGNATURE: signature})


def party_ids_in(value: Any) -> set[str]:
    """Every ``party_id`` named anywhere in a JSON value (hits, rule entries, listings)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            party = item.get("party_id")
            if isinstance(party, str) and party:
                found.add(party)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def explanations_of(alert: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The screening hits behind an alert, each with its token-by-token explanation."""
    evidence = alert.get("evidence") or {}
    out: list[dict[str, Any]] = []
    for found in evidence.get("hits", []) if isinstance(evidence.get("hits"), list) else []:
        if isinstance(found, dict) and isinstance(found.get("hit"), dict):
            out.append({"alert": alert["id"], **found})
    rule = evidence.get("rule")
    if isinstance(rule, dict):
        for entry in rule.get("entries", []) or []:
            if isinstance(entry, dict) and entry.get("explanation") is not None:
                out.append({"alert": alert["id"], "rule": rule.get("rule"), "entry": entry})
    return out


OWNERSHIP_KEYS = ("rule", "findings", "item", "status", "as_of", "rules_version", "role", "share")
USAGE_KEYS = (
    "controlled_gpu_hours",
    "by_account",
    "by_chip",
    "since",
    "period",
    "runs",
    "threshold",
    "kind",
    "hardware",
)


def extract(alert: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    evidence = alert.get("evidence") or {}
    picked = {k: evidence[k] for k in keys if k in evidence}
    if not picked:
        return None
    return {"alert": alert["id"], "type": alert["type"], **picked}


def proof_document(segments: list[AuditProof]) -> dict[str, Any]:
    return {"method": PROOF_METHOD, "segments": [s.to_dict() for s in segments]}
