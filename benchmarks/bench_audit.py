"""Audit log speed: append (batched, and one entry per transaction as decisions do) and verify.

Each entry is a realistic decision record (before/after, reason, snapshot, rule versions,
evidence in the context). The baseline is the same rows inserted into a plain table with the
same indexes but no hashing and no head row: the gap is what the hash chain costs.
Prints figures; not a test.

    .venv/bin/python benchmarks/bench_audit.py [--entries 100000] [--single 10000]
        [--database-url postgresql+psycopg://…]   (default: SQLite in a temporary folder)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, Engine, Index, Integer, MetaData, Table, Text, insert

from computekyc import audit
from computekyc.audit.model import stored_fields
from computekyc.settings import Settings
from computekyc.workflow import open_database

BATCH = 1000


def _entry(n: int) -> audit.AuditEntry:
    return audit.AuditEntry(
        action="alert.decide",
        object_kind="alert",
        object_id=str(n),
        actor=audit.Actor(f"analyst{n % 7}", "analyst", f"tok{n % 7}"),
        reason="namesake: different registry number and country",
        before={"status": "open", "resolution": None, "case_id": None},
        after={"status": "closed", "resolution": "false_positive", "case_id": n // 10},
        subject_kind="customer",
        subject_id=f"cust-{n % 5000}",
        snapshot="41",
        rule_versions={"rules": "2026-11-26.1", "screening": "3"},
        request_id=f"{n:032x}",
        context={"alert": {"fingerprint": f"{n:064x}", "evidence": {"party": "csl-1", "s": 0.91}}},
    )


def _rate(count: int, seconds: float) -> str:
    return f"{count:>7,} in {seconds:7.2f} s = {count / seconds:>9,.0f}/s"


def _baseline(engine: Engine, entries: list[audit.AuditEntry], single: int) -> tuple[float, float]:
    """Plain inserts of the same rows: no hashes, no head row."""
    table = Table(
        "bench_plain_log",
        MetaData(),
        Column("seq", Integer, primary_key=True),
        *(Column(name, Text) for name in stored_fields(entries[0], 0, "") if name != "seq"),
    )
    # the same indexes as the audit log (by object, by subject)
    Index("ix_bench_plain_object", table.c.object_kind, table.c.object_id)
    Index("ix_bench_plain_subject", table.c.subject_id)
    table.create(engine)
    started = time.perf_counter()
    for start in range(0, len(entries), BATCH):
        with engine.begin() as connection:
            rows = [
                stored_fields(e, start + i + 1, "2026-11-30T00:00:00Z")
                for i, e in enumerate(entries[start : start + BATCH])
            ]
            connection.execute(insert(table), rows)
    batch_s = time.perf_counter() - started
    offset = len(entries)
    started = time.perf_counter()
    for i, entry in enumerate(entries[:single]):
        with engine.begin() as connection:
            row = stored_fields(entry, offset + i + 1, "2026-11-30T00:00:00Z")
            connection.execute(insert(table), [row])
    single_s = time.perf_counter() - started
    table.drop(engine)
    return batch_s, single_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000, help="appended in batches")
    parser.add_argument("--single", type=int, default=10_000, help="one per transaction")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    settings = Settings(home=home, database_url=args.database_url)
    engine = open_database(settings)
    print(f"database: {engine.dialect.name}; batch {BATCH} entries per transaction")
    entries = [_entry(n) for n in range(args.entries)]
    singles = [_entry(n) for n in range(args.single)]

    started = time.perf_counter()
    for start in range(0, len(entries), BATCH):
        with engine.begin() as connection:
            audit.append_many(connection, entries[start : start + BATCH])
    batch_s = time.perf_counter() - started

    started = time.perf_counter()
    for entry in singles:
        with engine.begin() as connection:
            audit.append(connection, entry)
    single_s = time.perf_counter() - started

    with engine.begin() as connection:
        audit.sign_checkpoint(connection, settings, "benchmark")
    started = time.perf_counter()
    with engine.connect() as connection:
        report = audit.verify(connection, settings)
    verify_s = time.perf_counter() - started
    assert report.intact, report.findings[:3]

    plain_batch_s, plain_single_s = _baseline(engine, entries, args.single)
    print(
        f"append, batched          {_rate(len(entries), batch_s)}"
        f"   (plain inserts: {_rate(len(entries), plain_batch_s)})"
    )
    print(
        f"append, 1 per txn        {_rate(len(singles), single_s)}"
        f"   (plain inserts: {_rate(len(singles), plain_single_s)})"
    )
    print(f"verify (leaf+chain+ckpt) {_rate(report.entries, verify_s)}")
    print(f"head {report.head}, {report.checkpoints} checkpoint, intact: {report.intact}")


if __name__ == "__main__":
    main()
