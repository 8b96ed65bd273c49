"""Generated provider data: reproducible, realistic, and its planted runs must be found."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from computekyc.usage import DuckDBEngine, Generated, UsageStore, generate, runs


def _overlaps(a_start: str, a_end: str, b_start: str, b_end: str) -> bool:
    def t(x: str) -> datetime:
        return datetime.fromisoformat(x.replace("Z", "+00:00"))

    return t(a_start) < t(b_end) and t(b_start) < t(a_end)


def test_same_seed_same_bytes(tmp_path: Path, shared: Path, generated: Generated) -> None:
    again = generate(tmp_path / "again", seed=7, scale=0.5, shared=shared)
    for fmt, path in generated.files.items():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert hashlib.sha256(again.files[fmt].read_bytes()).hexdigest() == digest
    other = generate(tmp_path / "other", seed=8, scale=0.5, shared=shared)
    assert other.files["sacct"].read_bytes() != generated.files["sacct"].read_bytes()


def test_planted_training_runs_found(generated: Generated, generated_store: UsageStore) -> None:
    found = runs(DuckDBEngine(generated_store))
    planted = [t for t in generated.truth if t.cls == "training"]
    detected = [r for r in found if r.cls == "training"]

    def match(run_account: str, start: str, end: str) -> bool:
        return any(
            t.account == run_account and _overlaps(start, end, t.start, t.end) for t in planted
        )

    true_pos = [r for r in detected if match(r.account, r.start, r.end)]
    recalled = [
        t
        for t in planted
        if any(
            r.account == t.account and _overlaps(r.start, r.end, t.start, t.end) for r in detected
        )
    ]
    precision = len(true_pos) / len(detected)
    recall = len(recalled) / len(planted)
    print(
        f"planted training runs: {len(planted)}, detected: {len(detected)}, "
        f"precision {precision:.2f}, recall {recall:.2f}"
    )
    assert len(planted) == 4
    assert precision == 1.0 and recall == 1.0
    # Each detected run has the planted size and chip, and explains itself.
    for t in planted:
        run = next(r for r in detected if r.account == t.account)
        assert (run.gpus, run.chip, run.in_progress) == (t.gpus, t.chip, t.in_progress)
        assert run.start == t.start and run.end == t.end
        assert run.reasons
        # A run still going has, for every operations threshold, a crossing or projected date.
        statuses = {e["status"] for e in run.thresholds if e["kind"] == "operations"}
        if t.in_progress:
            assert statuses <= {"crossed", "projected"} and "projected" in statuses
        else:
            assert "projected" not in statuses
    # The planted non-training workloads get the planted class.
    for t in generated.truth:
        if t.cls == "training":
            continue
        classes = {r.cls for r in found if r.account == t.account}
        if t.cls == "other":
            assert classes == {"other"}
        else:
            assert "training" not in classes
