"""Audit entries and the hash chain over them (pure: no I/O).

``leaf = SHA-256(canonical JSON of the entry)`` where the entry includes its sequence number and
time; ``chain = SHA-256(previous chain ‖ leaf)`` over the 32 raw bytes of each, starting from
:data:`GENESIS`. Changing, removing, inserting or reordering any entry changes every chain value
after it; a signed checkpoint of ``{count, chain head}`` kept elsewhere pins the whole prefix.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8: equal content gives equal text and equal hashes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user name, their role at the time, and the API token used (if any)."""

    user: str
    role: str
    token_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "role": self.role, "token_id": self.token_id}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One state change as a caller hands it to :func:`computekyc.audit.append`.

    ``object_kind``/``object_id`` name what changed (``alert``/``17``, ``user``/``alice``…);
    ``subject_kind``/``subject_id`` the customer, account or entity it concerns, if any (what
    ``audit log --subject`` finds). ``before``/``after`` are JSON values (the object's public
    shape); ``snapshot``, ``rule_versions`` and ``request_id`` are the context the decision was
    taken in; ``context`` holds anything else worth keeping (scan id, fingerprints…).
    """

    action: str
    object_kind: str
    object_id: str
    actor: Actor
    reason: str | None = None
    before: Any = None
    after: Any = None
    subject_kind: str | None = None
    subject_id: str | None = None
    snapshot: str | None = None
    rule_versions: dict[str, Any] | None = None
    request_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    at: str | None = None  # None: the time of appending

    def context_value(self) -> dict[str, Any]:
        return {
            **self.context,
            "snapshot": self.snapshot,
            "rule_versions": self.rule_versions,
            "request_id": self.request_id,
        }


def stored_fields(entry: AuditEntry, seq: int, at: str) -> dict[str, Any]:
    """The row of an entry, without its hashes (JSON values as canonical text)."""
    return {
        "seq": seq,
        "at": at,
        "actor_user": entry.actor.user,
        "actor_role": entry.actor.role,
        "actor_token": entry.actor.token_id,
        "action": entry.action,
        "object_kind": entry.object_kind,
        "object_id": entry.object_id,
        "subject_kind": entry.subject_kind,
        "subject_id": entry.subject_id,
        "reason": entry.reason,
        "before": None if entry.before is None else canonical_json(entry.before),
        "after": None if entry.after is None else canonical_json(entry.after),
        "context": canonical_json(entry.context_value()),
    }


HASHED_COLUMNS = (
    "seq",
    "at",
    "actor_user",
    "actor_role",
    "actor_token",
    "action",
    "object_kind",
    "object_id",
    "subject_kind",
    "subject_id",
    "reason",
    "before",
    "after",
    "context",
)


def leaf_hash(row: Any) -> str:
    """SHA-256 of the canonical JSON of a stored row's fields (a mapping with those columns)."""
    document = {name: row[name] for name in HASHED_COLUMNS}
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def chain_hash(previous: str, leaf: str) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(leaf)).hexdigest()


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """An entry as read back from the log (``audit log``)."""

    seq: int
    at: str
    actor: Actor
    action: str
    object_kind: str
    object_id: str
    subject_kind: str | None
    subject_id: str | None
    reason: str | None
    before: Any
    after: Any
    context: dict[str, Any]
    chain: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor.to_dict(),
            "action": self.action,
            "object": {"kind": self.object_kind, "id": self.object_id},
            "subject": (
                {"kind": self.subject_kind, "id": self.subject_id}
                if self.subject_id is not None
                else None
            ),
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
            "context": self.context,
            "chain": self.chain,
        }

    @classmethod
    def from_row(cls, row: Any) -> LoggedEntry:
        return cls(
            seq=int(row["seq"]),
            at=row["at"],
            actor=Actor(row["actor_user"], row["actor_role"], row["actor_token"]),
            action=row["action"],
            object_kind=row["object_kind"],
            object_id=row["object_id"],
            subject_kind=row["subject_kind"],
            subject_id=row["subject_id"],
            reason=row["reason"],
            before=None if row["before"] is None else json.loads(row["before"]),
            after=None if row["after"] is None else json.loads(row["after"]),
            context=json.loads(row["context"]),
            chain=row["chain"],
        )
