"""Verification of the audit log: every leaf and chain value recomputed, sequence gaps found,
the head row and every signed checkpoint checked.

Findings name the first sequence number where the stored log stops matching what was appended.
After a finding the walk carries on from the stored chain value, so one edit is one finding,
not one per later entry; the *recomputed* chain (from the first entry on) is what checkpoints
are compared with, so a log rewritten with freshly computed hashes still fails its checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.engine import Connection

from computekyc.audit.log import iter_rows
from computekyc.audit.model import GENESIS, chain_hash, leaf_hash
from computekyc.audit.schema import audit_head
from computekyc.audit.signing import (
    Checkpoint,
    key_id,
    key_path,
    load_or_create_key,
    stored_checkpoints,
)
from computekyc.settings import Settings


@dataclass(frozen=True, slots=True)
class Finding:
    seq: int | None  # the first bad entry (None: about the log as a whole)
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "problem": self.problem}


@dataclass(slots=True)
class VerifyReport:
    entries: int = 0
    head: str = GENESIS
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> int | None:
        seqs = [f.seq for f in self.findings if f.seq is not None]
        return min(seqs) if seqs else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "head": self.head,
            "checkpoints": self.checkpoints,
            "first_bad": self.first_bad,
            "findings": [f.to_dict() for f in self.findings],
        }


def verify_log(
    connection: Connection,
    checkpoints: Iterable[Checkpoint],
    public_key: Ed25519PublicKey | None,
) -> VerifyReport:
    """Walk the whole log once (constant memory) and check it against the checkpoints."""
    report = VerifyReport()
    pinned = list(checkpoints)
    wanted = {c.count for c in pinned}
    recomputed_at: dict[int, str] = {0: GENESIS} if 0 in wanted else {}
    expected_seq = 1
    stored_previous = GENESIS  # continue from what is stored after a finding
    true_chain = GENESIS  # the chain recomputed from the first entry, never from storage
    last_seq = 0
    for row in iter_rows(connection):
        seq = int(row["seq"])
        leaf = leaf_hash(row)
        if seq != expected_seq:
            what = (
                f"entries {expected_seq}..{seq - 1} are missing"
                if seq > expected_seq
                else f"sequence number {seq} out of order (expected {expected_seq})"
            )
            report.findings.append(Finding(seq, what))
        if leaf != row["leaf"]:
            report.findings.append(Finding(seq, "entry content does not match its hash (edited)"))
        elif chain_hash(stored_previous, leaf) != row["chain"]:
            report.findings.append(
                Finding(seq, "chain broken: an entry before it was removed, inserted or moved")
            )
        true_chain = chain_hash(true_chain, leaf)
        stored_previous = str(row["chain"])
        report.entries += 1
        if report.entries in wanted:
            recomputed_at[report.entries] = true_chain
        expected_seq = seq + 1
        last_seq = seq
    report.head = true_chain
    _check_head(connection, report, last_seq, stored_previous)
    signer = key_id(public_key) if public_key is not None else None
    for checkpoint in pinned:
        report.checkpoints += 1
        _check_checkpoint(checkpoint, public_key, signer, recomputed_at, report)
    report.findings.sort(key=lambda f: (f.seq is None, f.seq or 0))
    return report


def _check_head(
    connection: Connection, report: VerifyReport, last_seq: int, last_chain: str
) -> None:
    head = connection.execute(
        select(audit_head.c.seq, audit_head.c.chain).where(audit_head.c.id == 1)
    ).first()
    if head is None:
        report.findings.append(Finding(None, "the audit head row is missing"))
        return
    if int(head.seq) > last_seq:
        report.findings.append(
            Finding(last_seq + 1, f"entries {last_seq + 1}..{int(head.seq)} were removed")
        )
    elif int(head.seq) != last_seq or head.chain != last_chain:
        report.findings.append(
            Finding(int(head.seq) + 1, "the log does not end where the head row says")
        )


def _check_checkpoint(
    checkpoint: Checkpoint,
    public_key: Ed25519PublicKey | None,
    signer: str | None,
    recomputed_at: dict[int, str],
    report: VerifyReport,
) -> None:
    label = f"checkpoint of {checkpoint.count} entries signed {checkpoint.at}"
    if public_key is None or checkpoint.key_id != signer:
        report.findings.append(
            Finding(None, f"{label}: signed by key {checkpoint.key_id}, not the known key")
        )
        return
    if not checkpoint.valid_under(public_key):
        report.findings.append(Finding(None, f"{label}: the signature is not valid"))
        return
    actual = recomputed_at.get(checkpoint.count)
    if actual is None:
        report.findings.append(
            Finding(checkpoint.count, f"{label}: the log now has only {report.entries} entries")
        )
    elif actual != checkpoint.head:
        report.findings.append(
            Finding(
                checkpoint.count,
                f"{label}: the log's first {checkpoint.count} entries no longer end in the "
                "signed chain value (rewritten)",
            )
        )


def verify(
    connection: Connection,
    settings: Settings,
    extra_checkpoints: Iterable[Checkpoint] = (),
    public_key: Ed25519PublicKey | None = None,
) -> VerifyReport:
    """Verify the log against its stored checkpoints and any kept elsewhere.

    ``public_key`` defaults to the public half of this installation's signing key (an auditor
    passes the exported one they keep, so a replaced key on the machine is caught too).
    """
    if public_key is None and key_path(settings).exists():
        public_key = load_or_create_key(settings).public_key()
    checkpoints = [*stored_checkpoints(connection), *extra_checkpoints]
    return verify_log(connection, checkpoints, public_key)
