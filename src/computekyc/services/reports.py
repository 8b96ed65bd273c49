"""Reports a regulator or auditor can rely on: evidence packs of an alert or a case, their
verification, and the screening report of a scan.

An evidence pack is built from what is stored, never recomputed from today's lists: the alerts
(their evidence as the scan recorded it), decisions, the case and its comments, the list
entries as they stand in the snapshot the alert names, the hashes of that snapshot's files, the
rule texts, and the audit entries with a proof up to a signed checkpoint. So making the pack
again later — after newer lists are loaded — gives the same members; only ``manifest.json``
(its generation time) and ``manifest.sig`` differ.

The screening report reads the *screening register* the scan keeps of every name it screened
(``$COMPUTEKYC_HOME/reports/screening/scan-N.json.gz``, written by :func:`stage_register` and put
in place by :func:`keep_register` once the scan has committed): each role's screened name with
its hits as of that scan, which later book revisions do not change. An unchanged re-scan keeps
only ``scan-N.replay.json``, naming the register it replays.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from computekyc import __version__, audit, casework, users
from computekyc.alerts import Alert, AlertType, SubjectKind
from computekyc.alerts.schema import alerts as alerts_table
from computekyc.alerts.store import row_to_alert
from computekyc.audit import Actor, Checkpoint
from computekyc.book import Book
from computekyc.book.schema import scans
from computekyc.bulk import StagedFile, atomic_file, stage_file
from computekyc.exc import ConflictError, NotFoundError, OptionError, StateError
from computekyc.lists.model import Party
from computekyc.ownership import RuleSet, load_rules
from computekyc.reports import (
    AuditProof,
    PackReport,
    ReportFormat,
    json_member,
    render_screening,
    sign_pack,
    verify_pack,
)
from computekyc.reports.evidence import (
    OWNERSHIP_KEYS,
    USAGE_KEYS,
    explanations_of,
    extract,
    party_ids_in,
    proof_document,
)
from computekyc.services.alerting import (
    Role,
    account_matched,
    account_roles,
    customer_matched,
    customer_roles,
    in_force,
)
from computekyc.services.determination import CustomerDetermination
from computekyc.services.indexes import list_store
from computekyc.services.linking import usage_store
from computekyc.services.screening import HitRecord
from computekyc.settings import Settings
from computekyc.usage import Filters, make_engine, summary
from computekyc.users import OPERATOR_ROLE, Permission
from computekyc.workflow import open_database
from computekyc.workflow.db import utc_now

__all__ = [
    "EvidencePack",
    "PackRef",
    "RegisterEntries",
    "ScreeningReport",
    "carry_register",
    "evidence_pack",
    "keep_register",
    "register_entries",
    "register_kept",
    "save_register",
    "screening_report",
    "stage_register",
    "stage_register_delta",
    "verify_evidence_pack",
]

RULE_FILES = ("rules.yaml", "country_groups.yaml")
PACK_NOTE = "evidence pack"


def _require(actor: Actor) -> None:
    """Holders of ``reports.read``; on the command line also the local operator."""
    if actor.role != OPERATOR_ROLE:
        users.require(actor, Permission.REPORTS_READ)


@contextmanager
def _reading(settings: Settings) -> Iterator[Connection]:
    with open_database(settings).connect() as connection:
        yield connection


# -- evidence packs ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PackRef:
    """What a pack is about: one alert, or a case with all its alerts."""

    kind: str  # "alert" | "case"
    id: int

    @classmethod
    def parse(cls, text: str) -> PackRef:
        """``17`` or ``alert:17`` for alert 17; ``case:3`` for case 3."""
        found = re.fullmatch(r"\s*(?:(alert|case)[:\-]?)?\s*(\d{1,10})\s*", text, re.IGNORECASE)
        if found is None:
            raise OptionError(
                f"expected an alert id (17, alert:17) or a case (case:3), not {text!r}"
            )
        return cls((found.group(1) or "alert").lower(), int(found.group(2)))

    @property
    def label(self) -> str:
        return f"{self.kind}-{self.id}"


@dataclass(frozen=True, slots=True)
class EvidencePack:
    ref: PackRef
    data: bytes
    members: dict[str, bytes]
    alerts: list[int]
    audit_entries: int
    checkpoint: Checkpoint | None

    @property
    def file_name(self) -> str:
        return f"evidence-{self.ref.label}.zip"


def _snapshot_number(name: str | None) -> int | None:
    if name and (found := re.fullmatch(r"snapshot-(\d+)", name)):
        return int(found.group(1))
    return None


def _case_dict(case: casework.Case) -> dict[str, Any]:
    data = case.to_dict()
    data.pop("overdue", None)  # depends on the day the pack is made, not on the case
    return data


def _list_members(settings: Settings, found: Sequence[Alert]) -> dict[str, Any]:
    """The list entries every alert names, as stored in the alert's own snapshot, and the
    hashes of that snapshot's files."""
    store = list_store(settings)
    wanted: dict[str, set[str]] = defaultdict(set)
    for alert in found:
        snapshot = alert.snapshot or alert.evidence.get("snapshot")
        if isinstance(snapshot, str):
            wanted[snapshot] |= party_ids_in(alert.evidence)
    entries: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for name, ids in sorted(wanted.items()):
        number = _snapshot_number(name)
        if number is None:
            entries[name] = {
                "note": f"{name} is not a stored list snapshot",
                "missing": sorted(ids),
            }
            continue
        try:
            info = store.snapshot(number)
        except StateError:
            entries[name] = {"note": f"{name} is no longer stored", "missing": sorted(ids)}
            continue
        parties: list[Party] = store.parties_by_id(number, ids)
        held = {p.party_id for p in parties}
        entries[name] = {
            "parties": [p.to_dict() for p in parties],
            "missing": sorted(ids - held),
        }
        files[name] = info.to_dict()
    return {"list_entries.json": entries, "list_files.json": files}


def _rule_members(found: Sequence[Alert]) -> dict[str, bytes]:
    """The rule texts the alerts were raised under: the packaged rule files when their version
    is the one the alerts name, else a note that this installation holds another version."""
    recorded = sorted({json.dumps(a.rule_versions, sort_keys=True) for a in found})
    current = load_rules().version_tag()
    named = {json.loads(v).get("rules") for v in recorded}
    matches = current in named
    members = {
        "rules/versions.json": json_member(
            {
                "alerts": [json.loads(v) for v in recorded],
                "this_installation": current,
                "texts_included": matches,
                "note": (
                    "rules.yaml and country_groups.yaml below are the texts of that version"
                    if matches
                    else "this installation holds another rule version: texts not included"
                ),
            }
        )
    }
    if matches:
        data = resources.files("computekyc.ownership").joinpath("data")
        for name in RULE_FILES:
            members[f"rules/{name}"] = data.joinpath(name).read_bytes()
    return members


def _audit_objects(found: Sequence[Alert], case_ids: Iterable[int]) -> list[tuple[str, str]]:
    objects = [("alert", str(a.id)) for a in found]
    objects += [("case", str(c)) for c in sorted(set(case_ids))]
    objects += sorted({(str(a.subject.kind), a.subject.id) for a in found})  # status overrides
    snapshots = {_snapshot_number(a.snapshot) for a in found}
    objects += [("list_snapshot", str(n)) for n in sorted(s for s in snapshots if s is not None)]
    return objects


def _usage_accounts(found: Sequence[Alert]) -> dict[str, str | None]:
    """The accounts whose usage the alerts speak of, each with the latest day an alert was
    evaluated for (None: no day recorded)."""
    days: dict[str, str | None] = {}
    for alert in found:
        day = alert.rule_versions.get("as_of")
        names: set[str] = set()
        if alert.subject.kind is SubjectKind.ACCOUNT:
            names.add(alert.subject.id)
        by_account = alert.evidence.get("by_account")
        if isinstance(by_account, dict):
            names |= {str(a) for a in by_account}
        accounts = alert.evidence.get("accounts")
        if isinstance(accounts, list):
            names |= {str(a) for a in accounts}
        for name in names:
            known = days.get(name)
            days[name] = max(known, day) if known and isinstance(day, str) else day or known
    return days


def _usage_extract(settings: Settings, found: Sequence[Alert]) -> list[dict[str, Any]]:
    """Each account's usage from the ingested usage store up to the alert's day: totals, by
    chip and by day, every row classified under the rules of its own day."""
    accounts = _usage_accounts(found)
    store = usage_store(settings)
    if not accounts or not store.has_rows():
        return []
    engine = make_engine("duckdb", store)
    out: list[dict[str, Any]] = []
    for account, day in sorted(accounts.items()):
        last = date.fromisoformat(day[:10]) if day else None
        rows = summary(engine, filters=Filters(account=account, last_day=last))
        out.append({"account": account, "up_to": day, "summary": rows[0] if rows else None})
    return out


def _our_checkpoints(connection: Connection, settings: Settings) -> list[Checkpoint]:
    """Stored checkpoints signed by this installation's key, by entry count."""
    key = audit.load_or_create_key(settings).public_key()
    signer = audit.key_id(key)
    found = [
        c for c in audit.stored_checkpoints(connection) if c.key_id == signer and c.valid_under(key)
    ]
    return sorted(found, key=lambda c: (c.count, c.at))


def _segment_bounds(seqs: Sequence[int], checkpoints: Sequence[Checkpoint]) -> dict[int, Any]:
    """Per entry: (the count of the last checkpoint before it, the earliest one covering it).
    Both are fixed once the entry exists (a later checkpoint covers the head at its signing),
    so making the pack again picks the same segments."""
    out: dict[int, Any] = {}
    for seq in seqs:
        before = max((c.count for c in checkpoints if c.count < seq), default=0)
        cover = next((c for c in checkpoints if c.count >= seq), None)
        out[seq] = (before, cover)
    return out


def _audit_members(
    settings: Settings, rows: list[dict[str, Any]]
) -> tuple[dict[str, bytes], Checkpoint | None]:
    """The entries and their proof: one segment per stretch between two checkpoints, each up to
    a signed checkpoint (one is signed now, and kept, when none covers the newest entry yet)."""
    if not rows:
        proof = {"segments": [], "note": "no audit entries about these alerts"}
        return {"audit/entries.json": json_member([]), "audit/proof.json": json_member(proof)}, None
    seqs = [int(r["seq"]) for r in rows]
    with _reading(settings) as connection:
        checkpoints = _our_checkpoints(connection, settings)
    if not checkpoints or checkpoints[-1].count < max(seqs):
        with open_database(settings).begin() as connection:
            checkpoints.append(audit.sign_checkpoint(connection, settings, PACK_NOTE))
    bounds = _segment_bounds(seqs, checkpoints)
    segments: list[AuditProof] = []
    with _reading(settings) as connection:
        for before, cover in sorted(set(bounds.values()), key=lambda b: b[0]):
            start = before + 1
            segment = AuditProof(
                cover,
                start,
                audit.chain_before(connection, start),
                tuple(audit.leaves_between(connection, start, cover.count)),
            )
            if segment.head() != cover.head:
                raise StateError(
                    f"the audit log no longer matches its checkpoint of {cover.count} entries "
                    f"signed {cover.at}: run `computekyc audit verify`; no pack was made"
                )
            segments.append(segment)
    public = audit.public_key_pem(audit.load_or_create_key(settings).public_key())
    members = {
        "audit/entries.json": json_member(rows),
        "audit/proof.json": json_member(proof_document(segments)),
        "audit/signing-key.pub.pem": public.encode("ascii"),
    }
    return members, segments[-1].checkpoint


def _summary(ref: PackRef, found: Sequence[Alert], case: casework.Case | None) -> bytes:
    lines = [f"computekyc evidence pack: {ref.kind} {ref.id}", ""]
    if case is not None:
        lines.append(
            f"case {case.id}: {case.subject_kind} {case.subject_id} {case.subject_name or ''}"
            f" ({case.status}, severity {case.severity}, opened {case.opened_at})".rstrip()
        )
    for alert in found:
        lines.append(
            f"alert {alert.id} [{alert.severity}] {alert.type} {alert.status}: {alert.summary}"
        )
        lines.append(
            f"  subject {alert.subject.kind} {alert.subject.id}; snapshot {alert.snapshot}; "
            f"rules {json.dumps(alert.rule_versions, sort_keys=True)}"
        )
    lines += [
        "",
        "Members: alerts.json, decisions.json, case.json, explanations.json, ownership.json,",
        "usage.json, list_entries.json, list_files.json, rules/, audit/entries.json,",
        "audit/proof.json; manifest.json lists the SHA-256 of every member and manifest.sig is",
        "its Ed25519 signature by the audit key. Check with: computekyc report verify PACK.zip",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def evidence_pack(
    settings: Settings, actor: Actor, ref: PackRef, *, now: str | None = None
) -> EvidencePack:
    """The signed evidence pack of one alert, or of a case and all its alerts."""
    _require(actor)
    with _reading(settings) as connection:
        case: casework.Case | None = None
        comments: list[casework.Comment] = []
        if ref.kind == "case":
            detail = casework.case_detail(connection, ref.id)
            case, found, comments = detail.case, list(detail.alerts), list(detail.comments)
        else:
            found = [casework.get_alert(connection, ref.id)]
            if found[0].case_id is not None:
                detail = casework.case_detail(connection, found[0].case_id)
                case, comments = detail.case, list(detail.comments)
        if not found:
            raise NotFoundError(f"case {ref.id} holds no alert")
        decisions = {
            str(a.id): [d.to_dict() for d in casework.decisions_for(connection, a.id)]
            for a in found
        }
        statuses = [
            s.to_dict()
            for kind, subject in sorted({(str(a.subject.kind), a.subject.id) for a in found})
            for s in casework.subject_statuses(connection, kind, subject)
        ]
        rows = audit.rows_about(
            connection, _audit_objects(found, [case.id] if case is not None else [])
        )
    alert_dicts = [a.to_dict() for a in found]
    documents: dict[str, Any] = {
        "pack.json": {
            "about": {"kind": ref.kind, "id": ref.id},
            "alerts": [a.id for a in found],
            "subjects": sorted(
                {(str(a.subject.kind), a.subject.id, a.subject.name or "") for a in found}
            ),
            "snapshots": sorted({a.snapshot for a in found if a.snapshot}),
            "software": f"computekyc {__version__}",
        },
        "alerts.json": alert_dicts,
        "decisions.json": {"decisions": decisions, "subject_status": statuses},
        "case.json": (
            None
            if case is None
            else {"case": _case_dict(case), "comments": [c.to_dict() for c in comments]}
        ),
        "explanations.json": [e for a in alert_dicts for e in explanations_of(a)],
        "ownership.json": [x for a in alert_dicts if (x := extract(a, OWNERSHIP_KEYS))],
        "usage.json": {
            "alert_evidence": [x for a in alert_dicts if (x := extract(a, USAGE_KEYS))],
            "usage_store": _usage_extract(settings, found),
        },
        **_list_members(settings, found),
    }
    members = {name: json_member(value) for name, value in documents.items()}
    members.update(_rule_members(found))
    audit_files, checkpoint = _audit_members(settings, rows)
    members.update(audit_files)
    members["summary.txt"] = _summary(ref, found, case)
    data = sign_pack(
        members,
        audit.load_or_create_key(settings),
        generated_at=now or utc_now(),
        generated_by=actor.user,
    )
    return EvidencePack(ref, data, members, [a.id for a in found], len(rows), checkpoint)


def verify_evidence_pack(
    settings: Settings, data: bytes, public_key_file: Path | None = None
) -> PackReport:
    """Check a pack against a trusted key: the exported public key given, else this
    installation's audit key."""
    if public_key_file is not None:
        key = audit.load_public_key(public_key_file)
    elif audit.key_path(settings).exists():
        key = audit.load_or_create_key(settings).public_key()
    else:
        raise StateError(
            "no audit key to check the pack against on this machine: pass --key with the "
            "public key exported by `computekyc audit key --export`"
        )
    return verify_pack(data, key)


# -- the screening register and report -----------------------------------------------------------
REGISTER_DIR = ("reports", "screening")


def _register_path(settings: Settings, scan_id: int) -> Path:
    return settings.home.joinpath(*REGISTER_DIR, f"scan-{scan_id}.json.gz")


def _role_rows(
    base: dict[str, Any],
    roles: Sequence[Role],
    hits: Mapping[str, list[HitRecord]],
    parties: Mapping[str, Party],
    rules: RuleSet,
    on: date,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for role in roles:
        for hit in hits.get(role.query.key, []):
            listing = parties.get(hit["party_id"])
            score = float(hit["score"])
            if not in_force(listing, on):
                band = f"not in force on {on}"
            else:
                band = "match" if score >= rules.match_threshold else "possible"
            rows.append(
                {
                    **base,
                    "role": role.role,
                    "screened_name": role.query.name,
                    "screened_country": role.query.country,
                    "party_id": hit["party_id"],
                    "listed_name": hit["name"],
                    "matched_name": hit["matched_name"],
                    "list": hit["source"],
                    "programs": "; ".join(hit.get("programs") or []),
                    "score": round(score, 4),
                    "band": band,
                    "listed_on": listing.listed_on if listing else None,
                    "delisted_on": listing.delisted_on if listing else None,
                }
            )
    if not rows:  # screened, nothing found: the subject still has its row
        first = roles[0]
        rows.append(
            {
                **base,
                "role": first.role,
                "screened_name": first.query.name,
                "screened_country": first.query.country,
                "band": "no hit",
            }
        )
    return rows


def _item_label(item: Mapping[str, Any]) -> str:
    """``H100 3A090.a``: the chip (or item name) and its classification."""
    parts = (item.get("chip") or item.get("name"), item.get("eccn"))
    return " ".join(str(part) for part in parts if part)


# One subject's part of a register: its rows, or the key (kind, id) of a subject whose rows
# stand as the register referred to holds them (only the scan's own fields differ).
RegisterEntry = list[dict[str, Any]] | tuple[str, str]


@dataclass(slots=True)
class RegisterEntries:
    """A register's subjects in order (see ``RegisterEntry``) and those with a hit."""

    scan_as_of: str
    snapshot: str
    entries: list[RegisterEntry]
    hit_subjects: set[str]  # "customer\tID", "account\tID"

    def rows(self) -> list[dict[str, Any]]:
        """Every row (made without a register to refer to: no subject by its key only)."""
        rows: list[dict[str, Any]] = []
        for entry in self.entries:
            if not isinstance(entry, list):
                raise ValueError("a register entry refers to another register")
            rows += entry
        return rows


def register_entries(
    scan_id: int,
    book: Book,
    hits: Mapping[str, list[HitRecord]],
    determinations: Mapping[str, CustomerDetermination],
    parties: Mapping[str, Party],
    snapshot: str,
    on: date,
    rules: RuleSet,
    stands: Callable[[str, str, str | None], bool] | None = None,
    quiet_trees: Container[str] = frozenset(),
) -> RegisterEntries:
    """One row per screened subject and hit (a subject without hits: one row, band ``no hit``),
    with its customer's determination for the worst item it rents, by subject (every row:
    :meth:`RegisterEntries.rows`). ``stands(kind, id, customer_id)`` — the
    subject had no hit in the register referred to, and its record and its customer's
    determinations are those it was made of — and the subject has no hit now: its key only.
    ``quiet_trees``: customers no query of whose declared tree has a hit (see ``ScanFacts``)."""
    scan_as_of = on.isoformat()
    common = {"scan_id": scan_id, "scan_as_of": scan_as_of, "snapshot": snapshot}
    verdicts: dict[str, dict[str, Any]] = {}  # a customer's, then its accounts' (read-only)

    def verdict(customer_id: str | None) -> dict[str, Any]:
        key = customer_id or ""
        found = verdicts.get(key)
        if found is not None:
            return found
        result = determinations.get(key)
        if result is None:
            found = {"determination": None}
        else:
            worst = result.worst
            found = {
                "determination": str(worst.status),
                "determination_item": _item_label(worst.item),
                "determination_explanation": worst.explanation,
                "rules_version": worst.rules_version,
            }
        verdicts[key] = found
        return found

    # A subject none of whose names has a hit (nearly all) has one row, of its first name:
    # made without its roles (the keys of its names tell it has no hit).
    def no_hit(kind: str, subject_id: str, name: str, customer_id: str | None, role: str,
               country: str | None) -> RegisterEntry:  # fmt: skip
        if stands is not None and stands(kind, subject_id, customer_id):
            return (kind, subject_id)
        return [
            {
                "scan_id": scan_id,
                "scan_as_of": scan_as_of,
                "snapshot": snapshot,
                "subject_kind": kind,
                "subject_id": subject_id,
                "subject_name": name,
                "customer_id": customer_id,
                **verdict(customer_id),
                "role": role,
                "screened_name": name,
                "screened_country": country,
                "band": "no hit",
            }
        ]

    made = RegisterEntries(scan_as_of, snapshot, [], set())
    entries = made.entries
    for customer in book.customers:
        root = customer.customer.root
        if not customer_matched(customer, hits, customer.id in quiet_trees):
            entries.append(
                no_hit("customer", customer.id, root.name, customer.id, "customer", root.country)
            )
            continue
        made.hit_subjects.add(f"customer\t{customer.id}")
        base = {
            **common,
            "subject_kind": "customer",
            "subject_id": customer.id,
            "subject_name": root.name,
            "customer_id": customer.id,
            **verdict(customer.id),
        }
        entries.append(_role_rows(base, customer_roles(customer), hits, parties, rules, on))
    for account in book.accounts:
        record = account.record
        if not account_matched(record, hits):
            owner = record.customer_id
            entries.append(
                no_hit("account", account.id, record.name, owner, "account holder", record.country)
            )
            continue
        made.hit_subjects.add(f"account\t{account.id}")
        base = {
            **common,
            "subject_kind": "account",
            "subject_id": account.id,
            "subject_name": record.name,
            "customer_id": record.customer_id,
            **verdict(record.customer_id),
        }
        entries.append(_role_rows(base, account_roles(record), hits, parties, rules, on))
    return made


def save_register(
    settings: Settings, scan_id: int, started: str, rows: list[dict[str, Any]]
) -> Path:
    """Keep a scan's screening register (atomically; called once the scan has committed)."""
    staged = stage_register(settings, scan_id, started, rows)
    keep_register(staged, scan_id)
    return staged.path


def stage_register(
    settings: Settings, scan_id: int, started: str, rows: list[dict[str, Any]]
) -> StagedFile:
    """A scan's screening register written under a temporary name, put in place by
    :func:`keep_register` once the scan has committed (rows made before its id was known carry
    ``scan_id`` 0: they are given the id here)."""
    for row in rows:
        row["scan_id"] = scan_id
    document = {"scan_id": scan_id, "started": started, "rows": rows}
    return _stage_document(settings, scan_id, document)


def _stage_document(settings: Settings, scan_id: int, document: dict[str, Any]) -> StagedFile:
    path = _register_path(settings, scan_id)

    def write(raw: BinaryIO) -> None:
        # The fastest compression: the register is mostly names and verdicts that repeat, so
        # it shrinks almost as much as with level 9, in a quarter of the time.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=1) as handle:
            handle.write(json.dumps(document, ensure_ascii=False, default=str).encode("utf-8"))

    try:
        return stage_file(path, write)
    except OSError as exc:
        raise _unwritten(scan_id, path, exc) from exc


def stage_register_delta(
    settings: Settings,
    scan_id: int,
    started: str,
    base: int,
    made: RegisterEntries,
) -> StagedFile:
    """A scan's register that refers to the register of scan ``base``: the
    rows of each subject whose rows stand there (``made``'s keys) are read from it, given this
    scan's id, date and snapshot (see :func:`_read_register`); the other subjects' rows are
    kept here. Staged as :func:`stage_register` does."""
    subjects: list[Any] = []
    for entry in made.entries:
        if isinstance(entry, tuple):
            subjects.append(list(entry))
            continue
        for row in entry:
            row["scan_id"] = scan_id
        subjects.append(entry)
    document = {
        "scan_id": scan_id,
        "started": started,
        "base": base,
        "own": {"scan_as_of": made.scan_as_of, "snapshot": made.snapshot},
        "subjects": subjects,
    }
    return _stage_document(settings, scan_id, document)


def keep_register(staged: StagedFile, scan_id: int) -> None:
    """Put a staged register in place (see :func:`stage_register`)."""
    try:
        staged.keep()
    except OSError as exc:
        raise _unwritten(scan_id, staged.path, exc) from exc


def register_kept(settings: Settings, scan_id: int) -> bool:
    """Whether scan ``scan_id``'s register file is in place."""
    return _register_path(settings, scan_id).is_file()


def _unwritten(scan_id: int, path: Path, exc: OSError) -> StateError:
    return StateError(
        f"scan {scan_id} is stored, but its screening register could not be written to "
        f"{path}: {exc.strerror}"
    )


def _replay_path(settings: Settings, scan_id: int) -> Path:
    return settings.home.joinpath(*REGISTER_DIR, f"scan-{scan_id}.replay.json")


def _replayed(settings: Settings, scan_id: int) -> dict[str, Any] | None:
    """The note an unchanged re-scan keeps in place of a register: the scan whose register it
    replays (``replay_of``) and its own start time; None for a scan that kept its own."""
    try:
        note = json.loads(_replay_path(settings, scan_id).read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConflictError(f"{_replay_path(settings, scan_id)} is damaged ({exc})") from exc
    return note if isinstance(note, dict) else None


def carry_register(settings: Settings, from_scan: int, to_scan: int, started: str) -> None:
    """An unchanged re-scan replays scan ``from_scan``: its register becomes ``to_scan``'s. What
    is kept is a note naming the scan that wrote the register (never copied: it is the same
    register, and copying hundreds of thousands of rows is most of a replay's time). No register
    to carry, no note: the report then asks for a new scan."""
    note = _replayed(settings, from_scan)
    origin = int(note["replay_of"]) if note is not None else from_scan
    if not _register_path(settings, origin).exists():
        return
    path = _replay_path(settings, to_scan)
    try:
        with atomic_file(path) as raw:
            raw.write(
                json.dumps({"scan_id": to_scan, "started": started, "replay_of": origin}).encode()
            )
    except OSError as exc:
        raise StateError(
            f"scan {to_scan} is stored, but the note of the register it replays could not be "
            f"written to {path}: {exc.strerror}"
        ) from exc


def _register_rows(
    settings: Settings, scan_id: int, started: str, started_of: Callable[[int], str | None]
) -> list[dict[str, Any]]:
    """The rows of scan ``scan_id``'s register (a replayed scan reads the register it replays,
    its own results carrying its id); ``started_of`` tells when a scan started (the scans
    table), for the registers it refers to."""
    note = _replayed(settings, scan_id)
    origin = int(note["replay_of"]) if note is not None else scan_id
    if note is not None and note.get("started") != started:
        raise ConflictError(f"{_replay_path(settings, scan_id)} belongs to another scan {scan_id}")
    rows = _read_register(settings, scan_id, origin, started if note is None else None, started_of)
    if origin != scan_id:
        for row in rows:
            if row.get("scan_id") == origin:
                row["scan_id"] = scan_id
    return rows


def _read_register(
    settings: Settings,
    scan_id: int,
    origin: int,
    started: str | None,
    started_of: Callable[[int], str | None],
) -> list[dict[str, Any]]:
    """The rows of the register file of scan ``origin`` (``started``: the start it must name),
    read for scan ``scan_id``. A register that refers to another (see
    :func:`stage_register_delta`) is read with it."""
    path = _register_path(settings, origin)
    try:
        with gzip.open(path, "rb") as handle:
            document = json.loads(handle.read())
    except FileNotFoundError:
        raise ConflictError(
            f"scan {scan_id} kept no screening register ({path} is missing: the scan ran "
            "before registers were kept, or on another machine): run the scan again"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConflictError(f"{path} is damaged ({exc}): run the scan again") from exc
    if started is not None and document.get("started") != started:
        raise ConflictError(f"{path} belongs to another scan {scan_id}: run the scan again")
    if "base" not in document:
        rows: list[dict[str, Any]] = document["rows"]
        return rows
    base_id = int(document["base"])
    base = _read_register(settings, scan_id, base_id, started_of(base_id) or "?", started_of)
    standing: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in base:
        standing[row["subject_kind"], row["subject_id"]].append(row)
    own = {"scan_id": document["scan_id"], **document["own"]}  # fields every row has
    rows = []
    for entry in document["subjects"]:
        if not isinstance(entry[0], str):
            rows += entry
            continue
        found = standing.get((entry[0], entry[1]))
        if not found:
            raise ConflictError(f"{path} is damaged (no rows of {entry}): run the scan again")
        rows += [{**row, **own} for row in found]
    return rows


@dataclass(slots=True)
class ScreeningReport:
    scan_id: int
    format: ReportFormat
    data: bytes
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return f"screening-scan-{self.scan_id}.{self.format}"


def _alert_ids(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Each hit's restricted-party alerts (id and status), from the alert queue."""
    subjects = {r["subject_id"] for r in rows if r.get("party_id")}
    if not subjects:
        return
    found: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    query = (
        select(alerts_table)
        .where(
            alerts_table.c.type == str(AlertType.RESTRICTED_PARTY_MATCH),
            alerts_table.c.subject_id.in_(sorted(subjects)),
        )
        .order_by(alerts_table.c.id)
    )
    for stored in connection.execute(query):
        alert = row_to_alert(stored)
        for party in sorted(party_ids_in(alert.evidence.get("hits", []))):
            key = (str(alert.subject.kind), alert.subject.id, party)
            found[key].append(f"{alert.id} ({alert.status})")
    for row in rows:
        key = (row["subject_kind"], row["subject_id"], row.get("party_id") or "")
        if key in found:
            row["alert_ids"] = ", ".join(found[key])


def screening_report(
    settings: Settings, actor: Actor, fmt: ReportFormat | str, *, scan_id: int | None = None
) -> ScreeningReport:
    """The screening report of a scan (the latest by default) in the given format."""
    _require(actor)
    chosen = fmt if isinstance(fmt, ReportFormat) else ReportFormat.parse(fmt)
    with _reading(settings) as connection:
        if scan_id is None:
            scan_id = connection.execute(select(func.max(scans.c.id))).scalar()
            if scan_id is None:
                raise ConflictError("no scan yet: run `computekyc scan PROVIDER_DIR` first")
        scan = connection.execute(select(scans).where(scans.c.id == scan_id)).first()
        if scan is None:
            raise NotFoundError(f"no scan {scan_id}")
        rows = _register_rows(
            settings,
            int(scan_id),
            scan._mapping["started"],
            lambda other: connection.execute(
                select(scans.c.started).where(scans.c.id == other)
            ).scalar(),
        )
        _alert_ids(connection, rows)
    return ScreeningReport(int(scan_id), chosen, render_screening(rows, chosen), rows)
