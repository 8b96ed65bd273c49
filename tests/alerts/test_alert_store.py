"""The alert queue's deduplication, update, resolution and re-opening rules."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from computekyc.alerts import (
    AlertDraft,
    AlertStatus,
    AlertStore,
    AlertType,
    Severity,
    Subject,
    SubjectKind,
)
from computekyc.alerts.schema import alerts
from computekyc.settings import Settings
from computekyc.workflow import open_database


def _store(tmp_path: Path) -> AlertStore:
    return AlertStore(open_database(Settings(home=tmp_path)))


def _draft(score: float = 0.93, customer: str = "c1") -> AlertDraft:
    return AlertDraft(
        AlertType.RESTRICTED_PARTY_MATCH,
        Severity.CRITICAL,
        Subject(SubjectKind.CUSTOMER, customer, "Acme Ltd"),
        "Acme Ltd matches ACME TRADING (Entity List)",
        {"party": "csl-1", "score": score},
        discriminator="csl-1",
        material={"party": "csl-1", "band": round(score, 1)},
    )


def _sync(store: AlertStore, drafts: list[AlertDraft], scope: set[str] | None = None):  # type: ignore[no-untyped-def]
    with store.engine.begin() as conn:
        return store.sync(
            conn,
            drafts,
            in_scope=lambda kind, sid: scope is None or sid in scope,
            snapshot="7",
            rule_versions={"rules": "2026-09"},
        )


def test_unchanged_scan_writes_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    first = _sync(store, [_draft()])
    assert (first.new, first.unchanged) == (1, 0)
    before = [a.to_dict() for a in store.list(status=None)]
    again = _sync(store, [_draft(), _draft()])
    assert (again.new, again.updated, again.unchanged, again.resolved) == (0, 0, 1, 0)
    assert [a.to_dict() for a in store.list(status=None)] == before


def test_new_evidence_updates_and_says_what_changed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _sync(store, [_draft(0.91)])
    result = _sync(store, [_draft(0.97)])
    assert result.updated == 1
    alert = store.list()[0]
    assert alert.evidence["score"] == 0.97
    assert "evidence" in alert.changes[-1]["change"]


def test_gone_condition_resolves_only_subjects_in_scope(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _sync(store, [_draft(customer="c1"), _draft(customer="c2")])
    result = _sync(store, [], scope={"c1"})
    assert result.resolved == 1
    open_ids = {a.subject.id for a in store.list()}
    assert open_ids == {"c2"}
    back = _sync(store, [_draft(customer="c1")], scope={"c1"})
    assert back.reopened == 1


def test_suppression_reopens_on_material_change_only(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _sync(store, [_draft(0.91)])
    alert = store.list()[0]
    with store.engine.begin() as conn:
        conn.execute(
            update(alerts)
            .where(alerts.c.id == alert.id)
            .values(
                status=str(AlertStatus.SUPPRESSED),
                suppressed_until="2999-01-01",
                suppression_fingerprint=alert.fingerprint,
            )
        )
    assert _sync(store, [_draft(0.91)]).unchanged == 1
    assert store.get(alert.id).status is AlertStatus.SUPPRESSED
    reopened = _sync(store, [_draft(0.99)])  # a higher score band: new evidence
    assert reopened.reopened == 1
    assert store.get(alert.id).status is AlertStatus.OPEN


def test_queue_is_most_severe_first(tmp_path: Path) -> None:
    store = _store(tmp_path)
    low = AlertDraft(
        AlertType.RESELLER, Severity.LOW, Subject(SubjectKind.ACCOUNT, "a1"), "reseller", {}
    )
    _sync(store, [low, _draft()])
    assert [a.severity for a in store.list()] == [Severity.CRITICAL, Severity.LOW]
