"""The audit log: written with the change it records, append-only, hash-chained, and every kind
of tampering caught by verification — also after the attacker dropped the triggers — on SQLite
and on a real PostgreSQL server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from computekyc import audit
from computekyc.audit import Actor, AuditEntry
from computekyc.audit.model import chain_hash, leaf_hash
from computekyc.settings import Settings
from computekyc.workflow import open_database

pytestmark = pytest.mark.xdist_group("postgres")

ANA = Actor("ana", "analyst", "tok1")


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        action="alert.decide",
        object_kind="alert",
        object_id=str(n),
        actor=ANA,
        reason=f"reason {n}",
        before={"status": "open"},
        after={"status": "closed"},
        subject_kind="customer",
        subject_id=f"c{n % 3}",
        snapshot="7",
        rule_versions={"rules": "2026-11-26.1"},
        request_id=f"r{n}",
    )


def _log(settings: Settings, count: int = 10) -> Engine:
    engine = open_database(settings)
    with engine.begin() as connection:
        audit.append_many(connection, [_entry(n) for n in range(1, count + 1)])
    return engine


def _verify(settings: Settings, *extra: audit.Checkpoint) -> audit.VerifyReport:
    with open_database(settings).connect() as connection:
        return audit.verify(connection, settings, extra)


def _drop_guards(engine: Engine) -> None:
    """What an attacker with database access does first."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))


def _sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def test_entries_commit_and_roll_back_with_the_change(settings: Settings) -> None:
    engine = _log(settings, 3)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        audit.append(connection, _entry(99))
        raise RuntimeError("the change failed")
    report = _verify(settings)
    assert (report.intact, report.entries) == (True, 3)
    with engine.begin() as connection:
        assert audit.append(connection, _entry(4)) == 4  # no gap left by the rollback
    with engine.connect() as connection:
        entries = audit.read_entries(connection, subject="c1")
    assert [e.seq for e in entries] == [1, 4]
    assert entries[0].actor == ANA and entries[0].context["snapshot"] == "7"


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"]
)
def test_triggers_refuse_update_and_delete(settings: Settings, statement: str) -> None:
    engine = _log(settings, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _verify(settings).intact


def _edit(engine: Engine) -> None:
    _sql(engine, "UPDATE audit_log SET reason = 'approved by the board' WHERE seq = 4")


def _edit_and_rehash(engine: Engine) -> None:
    """Edit one entry and recompute its leaf (but not the later chain values)."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor_user = 'rev' WHERE seq = 4"))
        row = connection.execute(text("SELECT * FROM audit_log WHERE seq = 4")).mappings().one()
        connection.execute(
            text("UPDATE audit_log SET leaf = :leaf WHERE seq = 4"), {"leaf": leaf_hash(row)}
        )


def _delete(engine: Engine) -> None:
    _sql(engine, "DELETE FROM audit_log WHERE seq = 4")


def _delete_and_renumber(engine: Engine) -> None:
    _sql(
        engine,
        "DELETE FROM audit_log WHERE seq = 4",
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq > 4",
        "UPDATE audit_log SET seq = seq - 1001 WHERE seq > 1000",
    )


def _insert(engine: Engine) -> None:
    """Insert a well-formed entry after #3 (its leaf and chain computed), renumbering the rest."""
    _sql(
        engine,
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq > 3",
        "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000",
    )
    with engine.begin() as connection:
        row = dict(
            connection.execute(text("SELECT * FROM audit_log WHERE seq = 3")).mappings().one()
        )
        row.update(seq=4, reason="backdated approval", object_id="77")
        row["leaf"] = leaf_hash(row)
        row["chain"] = chain_hash(row["chain"], row["leaf"])
        columns = ", ".join(row)
        connection.execute(
            text(f"INSERT INTO audit_log ({columns}) VALUES ({', '.join(':' + c for c in row)})"),
            row,
        )


def _reorder(engine: Engine) -> None:
    _sql(
        engine,
        "UPDATE audit_log SET seq = -1 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = -1",
    )


def _truncate_tail(engine: Engine) -> None:
    _sql(engine, "DELETE FROM audit_log WHERE seq > 7")


TAMPERING: dict[str, tuple[Callable[[Engine], None], int]] = {
    "edit": (_edit, 4),
    "edit, leaf recomputed": (_edit_and_rehash, 4),
    "delete": (_delete, 5),
    "delete and renumber": (_delete_and_renumber, 4),
    # the forged entry itself is well-formed: the break shows at the first renumbered one
    "insert": (_insert, 5),
    "reorder": (_reorder, 4),
    "cut the tail": (_truncate_tail, 8),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_names_the_first_bad_entry(settings: Settings, kind: str) -> None:
    engine = _log(settings, 10)
    assert _verify(settings).intact
    _drop_guards(engine)
    tamper, first_bad = TAMPERING[kind]
    tamper(engine)
    report = _verify(settings)
    assert not report.intact
    assert report.first_bad == first_bad, report.findings


def test_a_rewritten_log_fails_its_signed_checkpoints(settings: Settings, tmp_path: Path) -> None:
    """Edit an entry and recompute every leaf, chain value and the head row: the chain is
    self-consistent again, but no longer ends where the signed checkpoint says."""
    engine = _log(settings, 6)
    with engine.begin() as connection:
        kept = audit.sign_checkpoint(connection, settings, "after scan 1")
        audit.append_many(connection, [_entry(n) for n in range(7, 10)])
    exported = tmp_path / "checkpoint.json"
    exported.write_text(json.dumps(kept.to_dict()))
    assert _verify(settings).intact
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET reason = 'forged' WHERE seq = 2"))
        previous = audit.GENESIS
        rows = connection.execute(text("SELECT * FROM audit_log ORDER BY seq")).mappings().all()
        for row in rows:
            leaf = leaf_hash(row)
            previous = chain_hash(previous, leaf)
            connection.execute(
                text("UPDATE audit_log SET leaf = :l, chain = :c WHERE seq = :s"),
                {"l": leaf, "c": previous, "s": row["seq"]},
            )
        connection.execute(text("UPDATE audit_head SET chain = :c"), {"c": previous})
    with engine.connect() as connection:
        bare = audit.verify_log(connection, [], None)
    assert bare.intact  # without a checkpoint the rewrite is invisible: why they exist
    report = _verify(settings, audit.read_checkpoint_file(exported))
    assert not report.intact
    assert [f.seq for f in report.findings] == [6, 6]  # the stored and the exported one
    assert "rewritten" in report.findings[0].problem


def test_a_forged_checkpoint_is_refused(settings: Settings) -> None:
    engine = _log(settings, 3)
    with engine.begin() as connection:
        real = audit.sign_checkpoint(connection, settings)
    forged = audit.Checkpoint(real.count, "ab" * 32, real.at, real.key_id, real.signature)
    report = _verify(settings, forged)
    assert [f.problem for f in report.findings] == [
        f"checkpoint of 3 entries signed {real.at}: the signature is not valid"
    ]
    other_home = settings.with_home(settings.home.parent / "other-home")
    foreign_key = audit.load_or_create_key(other_home).public_key()
    with engine.connect() as connection:
        report = audit.verify(connection, settings, (), foreign_key)
    assert "not the known key" in report.findings[0].problem


def test_concurrent_appenders_never_fork_the_chain(settings: Settings) -> None:
    engine = open_database(settings)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for n in range(25):
                with engine.begin() as connection:
                    audit.append(connection, _entry(offset + n))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k * 100,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = _verify(settings)
    assert (report.intact, report.entries) == (True, 100)


def test_signing_key_is_private_and_exportable(settings: Settings) -> None:
    key = audit.load_or_create_key(settings)
    path = audit.key_path(settings)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert audit.public_key_pem(key.public_key()).startswith("-----BEGIN PUBLIC KEY-----")
    assert audit.load_or_create_key(settings).public_key() == key.public_key()


def test_verify_while_others_append_reports_no_false_findings(settings: Settings) -> None:
    engine = _log(settings, 20)
    done = threading.Event()

    def appender() -> None:
        for n in range(60):
            with engine.begin() as connection:
                audit.append(connection, _entry(100 + n))
        done.set()

    thread = threading.Thread(target=appender)
    thread.start()
    reports = []
    while not done.is_set():
        reports.append(_verify(settings))
    thread.join()
    reports.append(_verify(settings))
    assert all(r.intact for r in reports), [r.findings for r in reports if not r.intact]
    assert reports[-1].entries == 80
