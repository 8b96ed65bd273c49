"""Signed checkpoints: Ed25519 signatures over ``{count, chain head}`` of the audit log.

The private key lives under the state folder (``audit/signing-key.pem``, mode 0600, made on
first use); its public half can be exported and kept with the auditors. A checkpoint kept off
the machine (``audit checkpoint --export``) proves the first ``count`` entries even against
someone who rewrites the whole table and recomputes every hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from computekyc.audit.model import canonical_json
from computekyc.audit.schema import audit_checkpoints, audit_head
from computekyc.exc import ConfigError, InputError
from computekyc.settings import Settings
from computekyc.workflow.db import utc_now

KEY_FILE = "signing-key.pem"
CHECKPOINT_FORMAT = "computekyc-audit-checkpoint/1"


def key_path(settings: Settings) -> Path:
    return settings.home / "audit" / KEY_FILE


def load_or_create_key(settings: Settings) -> Ed25519PrivateKey:
    """The signing key; made (0600, in a 0700 folder) the first time it is needed."""
    path = key_path(settings)
    if not path.exists():
        settings.ensure_home()
        path.parent.mkdir(mode=0o700, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise ConfigError(f"{path} is not a PEM private key") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return loaded


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError("not a PEM public key", file=path) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", file=path)
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the log's first ``count`` entries end in chain value ``head``."""

    count: int
    head: str
    at: str
    key_id: str
    signature: str  # base64 Ed25519 signature over :meth:`signed_bytes`
    note: str | None = None

    def signed_bytes(self) -> bytes:
        document = {
            "format": CHECKPOINT_FORMAT,
            "count": self.count,
            "head": self.head,
            "at": self.at,
            "key_id": self.key_id,
        }
        return canonical_json(document).encode("utf-8")

    def valid_under(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(base64.b64decode(self.signature), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "count": self.count,
            "head": self.head,
            "at": self.at,
            "key_id": self.key_id,
            "note": self.note,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Any, source: str | Path = "checkpoint") -> Checkpoint:
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise InputError(f"not a {CHECKPOINT_FORMAT} document", file=source)
        try:
            return cls(
                count=int(data["count"]),
                head=str(data["head"]),
                at=str(data["at"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
                note=data.get("note"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"missing or bad field {exc}", file=source) from exc


def read_checkpoint_file(path: Path) -> Checkpoint:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", file=path, line=exc.lineno) from exc
    return Checkpoint.from_dict(data, path)


def sign_checkpoint(
    connection: Connection, settings: Settings, note: str | None = None
) -> Checkpoint:
    """Sign the log's current ``{count, head}`` and keep the checkpoint in the database.

    Call it inside the transaction whose entries it should cover (the scan does, at its end).
    Entries appended later by others do not make it wrong: it speaks of the first ``count``.
    """
    key = load_or_create_key(settings)
    head = connection.execute(
        select(audit_head.c.seq, audit_head.c.chain).where(audit_head.c.id == 1).with_for_update()
    ).one()
    public = key.public_key()
    unsigned = Checkpoint(int(head.seq), str(head.chain), utc_now(), key_id(public), "", note)
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode("ascii")
    checkpoint = Checkpoint(
        unsigned.count, unsigned.head, unsigned.at, unsigned.key_id, signature, note
    )
    connection.execute(
        insert(audit_checkpoints).values(
            at=checkpoint.at,
            count=checkpoint.count,
            head=checkpoint.head,
            key_id=checkpoint.key_id,
            note=note,
            signature=signature,
        )
    )
    return checkpoint


def stored_checkpoints(connection: Connection) -> list[Checkpoint]:
    rows = connection.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id))
    return [
        Checkpoint(int(m["count"]), m["head"], m["at"], m["key_id"], m["signature"], m["note"])
        for m in (row._mapping for row in rows)
    ]
