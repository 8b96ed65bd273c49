"""The audit trail: every state change appended, hash-chained, append-only, with signed
checkpoints, in the same transaction as the change it records.

Other packages record their changes with :func:`append` (or :func:`append_many`) on the
connection of their own transaction, and sign a checkpoint at the end of a scan with
:func:`sign_checkpoint`.
"""

from computekyc.audit.log import (
    append,
    append_many,
    chain_before,
    leaves_between,
    read_entries,
    rows_about,
)
from computekyc.audit.model import GENESIS, Actor, AuditEntry, LoggedEntry, canonical_json
from computekyc.audit.signing import (
    Checkpoint,
    key_id,
    key_path,
    load_or_create_key,
    load_public_key,
    public_key_pem,
    read_checkpoint_file,
    sign_checkpoint,
    stored_checkpoints,
)
from computekyc.audit.verify import Finding, VerifyReport, verify, verify_log

__all__ = [
    "GENESIS",
    "Actor",
    "AuditEntry",
    "Checkpoint",
    "Finding",
    "LoggedEntry",
    "VerifyReport",
    "append",
    "append_many",
    "canonical_json",
    "chain_before",
    "key_id",
    "key_path",
    "leaves_between",
    "load_or_create_key",
    "load_public_key",
    "public_key_pem",
    "read_checkpoint_file",
    "read_entries",
    "rows_about",
    "sign_checkpoint",
    "stored_checkpoints",
    "verify",
    "verify_log",
]
