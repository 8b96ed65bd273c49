"""Accounting and runs on the hand-written files, against figures computed by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from computekyc.usage import (
    DuckDBEngine,
    Filters,
    Settings,
    Thresholds,
    UsageStore,
    cumulative_thresholds,
    entity_thresholds,
    runs,
    summary,
)

H100 = 989.4e12  # dense BF16 ops/s of one H100 SXM (chip catalogue): the training precision
H100_FP8 = 1978.9e12  # dense FP8 ops/s of one H100 SXM: its theoretical maximum


@pytest.fixture(scope="module")
def slurm_store(
    tmp_path_factory: pytest.TempPathFactory, usage_data: Path, ingest_many: Any
) -> UsageStore:
    return ingest_many(
        tmp_path_factory.mktemp("slurm") / "usage",
        usage_data / "sacct.txt",
        usage_data / "dcgm.csv",
    )


def test_summary_joins_telemetry_to_jobs(slurm_store: UsageStore) -> None:
    result = {a["account"]: a for a in summary(DuckDBEngine(slurm_store))}
    lab_a = result["lab-a"]
    # 16 H100 x 48 h; the DCGM samples of job 1001 (hpc_job label) give tensor-active
    # (0.6 x 120 s + 0.5 x 120 s) / 240 s = 0.55, so ops = 768 h x 3600 x H100 x 0.55.
    assert lab_a["gpu_hours"] == 768.0
    assert lab_a["controlled_gpu_hours"] == 768.0
    assert lab_a["h100_equivalent_hours"] == 768.0
    assert lab_a["estimated_operations"] == pytest.approx(768 * 3600 * H100 * 0.55, rel=1e-9)
    assert lab_a["peak_gpus"] == 16.0
    # Peak ops/s is the theoretical maximum (FP8 on an H100); the BF16 figure is reported beside.
    assert lab_a["peak_ops_per_second"] == pytest.approx(16 * H100_FP8)
    assert lab_a["peak_training_ops_per_second"] == pytest.approx(16 * H100)
    assert lab_a["precisions"] == {"H100-SXM": {"training": "bf16", "peak": "fp8"}}
    assert [d["date"] for d in lab_a["days"]] == ["2024-06-01", "2024-06-02"]
    assert [d["gpu_hours"] for d in lab_a["days"]] == [384.0, 384.0]
    # Step rows (.batch, .extern, .0) never add GPU time to their job.
    assert set(result) == {"lab-a", "lab-b", "lab-c", "miners"}
    # Untyped gres/gpu: the hardware is unknown, so its hours are unclassified (not
    # uncontrolled), counted as H100s (no vendor to go by: the assumed minimum) and flagged.
    lab_c = result["lab-c"]
    assert lab_c["by_chip"] == {
        "(unclassified) (no hardware name)": {
            "gpu_hours": 12.0,
            "controlled_gpu_hours": 0.0,
            "review_gpu_hours": 0.0,
            "unclassified_gpu_hours": 12.0,
            "h100_equivalent_hours": 12.0,
            "estimated_operations": pytest.approx(12 * 3600 * H100 * 0.4),
        }
    }
    (flag,) = lab_c["flags"]
    assert flag["flag"] == "unclassified-hardware" and flag["gpu_hours"] == 12.0
    assert "counted as H100-SXM" in flag["reason"]
    # A100: 1.5 GPU-h x 0.3153 H100-eq; no telemetry -> default utilisation 0.4.
    lab_b = result["lab-b"]["by_chip"]["A100-SXM"]
    assert lab_b["estimated_operations"] == pytest.approx(5400 * 312e12 * 0.4)
    assert lab_b["h100_equivalent_hours"] == pytest.approx(1.5 * 312 / 989.4)


def test_summary_filters(slurm_store: UsageStore) -> None:
    engine = DuckDBEngine(slurm_store)
    only = summary(engine, filters=Filters("lab-a", date(2024, 6, 2), date(2024, 6, 2)))
    assert [(a["account"], a["gpu_hours"]) for a in only] == [("lab-a", 384.0)]
    # A configurable default utilisation changes only rows without tensor telemetry.
    half = {a["account"]: a for a in summary(engine, Settings(default_utilisation=0.5))}
    assert half["lab-b"]["estimated_operations"] == pytest.approx(5400 * 312e12 * 0.5)
    assert half["lab-a"]["estimated_operations"] == pytest.approx(768 * 3600 * H100 * 0.55)


def test_runs_classified_with_reasons(slurm_store: UsageStore) -> None:
    found = {r.account: r for r in runs(DuckDBEngine(slurm_store))}
    lab_a = found["lab-a"]
    assert (lab_a.cls, lab_a.gpus, lab_a.chip) == ("training", 16.0, "H100-SXM")
    assert lab_a.features["tensor_active"] == pytest.approx(0.55)
    # GPU utilisation weighted by GPU-seconds: steps .batch (8 GPUs, gres/gpuutil 90) and .0
    # (16 GPUs, 95) over 48 h, plus DCGM GPU-a0 (GPU_UTIL 98% over 120 s).
    step_s = 172800
    expected = (0.9 * 8 * step_s + 0.95 * 16 * step_s + 0.98 * 120) / (24 * step_s + 120)
    assert lab_a.features["gpu_util"] == pytest.approx(expected, rel=1e-9)
    assert any("tensor pipe busy" in why for why in lab_a.reasons)
    miners = found["miners"]
    assert miners.cls == "other"
    assert any("tensor pipe idle" in why for why in miners.reasons)
    # The RUNNING job is in progress; the finished 48 h job is not.
    assert found["lab-c"].in_progress and not lab_a.in_progress
    assert found["lab-c"].cls == "unknown"


def test_thresholds_crossed_and_projected(slurm_store: UsageStore) -> None:
    # Thresholds scaled down so that the hand-written jobs reach them.
    per_day = 384 * 3600 * H100 * 0.55  # lab-a operations per day
    settings = Settings(
        thresholds=Thresholds(operations=(1.5 * per_day, 0.5 * per_day), ops_per_second=10 * H100)
    )
    lab_a = next(r for r in runs(DuckDBEngine(slurm_store), settings) if r.account == "lab-a")
    marks = [(t["kind"], t["status"], t["date"]) for t in lab_a.thresholds]
    assert marks == [
        ("operations", "crossed", "2024-06-02"),
        ("operations", "crossed", "2024-06-01"),
        ("ops_per_second", "crossed", "2024-06-01"),
    ]
    # Just above what the finished run reached: not reached, and no projection (not running).
    running = Settings(thresholds=Thresholds(operations=(2.01 * per_day,), ops_per_second=1e30))
    lab_a_running = next(
        r for r in runs(DuckDBEngine(slurm_store), running) if r.account == "lab-a"
    )
    assert lab_a_running.thresholds[0]["status"] == "not reached"


def test_projection_for_run_in_progress(tmp_path: Path, ingest_many: Any) -> None:
    # A RUNNING 8 x H100 job of exactly one day: rate = 8 x H100 x 0.4 ops/s.
    sacct = tmp_path / "running.txt"
    sacct.write_text(
        "JobID|Account|AllocTRES|NNodes|Start|End|ElapsedRaw|State\n"
        "77|lab-x|cpu=8,gres/gpu:h100=8|1|2024-06-01T00:00:00|Unknown|86400|RUNNING\n"
    )
    store = ingest_many(tmp_path / "usage", sacct)
    rate = 8 * H100 * 0.4
    limit = 3 * 86400 * rate  # reached after three days at this rate: two more days
    found = runs(DuckDBEngine(store), Settings(thresholds=Thresholds((limit,), 1e30)))
    entry = found[0].thresholds[0]
    assert found[0].in_progress
    assert entry["status"] == "projected" and entry["date"] == "2024-06-04"
    assert entry["days_from_end"] == pytest.approx(2.0)
    assert entry["rate_ops_per_second"] == pytest.approx(rate)


SACCT_HEAD = "JobID|Account|AllocTRES|NNodes|Start|End|ElapsedRaw|State\n"


def _sacct(tmp_path: Path, ingest_many: Any, *jobs: str) -> UsageStore:
    """A store holding one sacct file with ``jobs`` (JobID|Account|AllocTRES|...|State)."""
    path = tmp_path / "jobs.txt"
    path.write_text(SACCT_HEAD + "".join(f"{job}\n" for job in jobs))
    return ingest_many(tmp_path / "usage", path)


def test_unknown_hardware_is_unclassified_at_its_vendor_class(
    tmp_path: Path, ingest_many: Any
) -> None:
    """Before: unknown names were stored with no operations and controlled = false, so training
    on them crossed nothing. Now: unclassified hours, counted at the vendor class's most capable
    catalogued chip (never below an H100), flagged with the reason."""
    store = _sacct(
        tmp_path,
        ingest_many,
        "1|amd-lab|gres/gpu:mi455x=8|1|2024-06-01T00:00:00|2024-06-01T10:00:00|36000|COMPLETED",
        "2|aws-lab|gres/gpu:trainium9=8|1|2024-06-01T00:00:00|2024-06-01T10:00:00|36000|COMPLETED",
    )
    result = {a["account"]: a for a in summary(DuckDBEngine(store))}
    amd = result["amd-lab"]
    assert amd["unclassified_gpu_hours"] == 80.0 and amd["controlled_gpu_hours"] == 0.0
    # MI455X is not catalogued; the most capable catalogued AMD chip is the MI355X (BF16 2,516.6
    # dense TF, FP8 5,033.2): that is what the 80 GPU-hours count as.
    assert amd["estimated_operations"] == pytest.approx(80 * 3600 * 2516.6e12 * 0.4)
    assert amd["peak_ops_per_second"] == pytest.approx(8 * 5033.2e12)
    (flag,) = amd["flags"]
    assert flag["chip"] == "(unclassified) mi455x" and "amd-instinct" in flag["reason"]
    assert "MI355X" in flag["reason"]
    # No catalogued AWS chip is more capable than an H100: the H100 is the floor.
    aws = result["aws-lab"]
    assert aws["unclassified_gpu_hours"] == 80.0
    assert aws["estimated_operations"] == pytest.approx(80 * 3600 * H100 * 0.4)
    (run,) = [r for r in runs(DuckDBEngine(store)) if r.account == "aws-lab"]
    assert run.unclassified_gpu_hours == 80.0 and run.flags[0]["flag"] == "unclassified-hardware"
    assert run.to_dict()["flags"][0]["reason"].endswith("is more capable)")


def test_catalogued_names_now_known_are_costed(tmp_path: Path, ingest_many: Any) -> None:
    """Trainium2 instance types and TPU labels resolve: controlled and costed at their figures."""
    store = _sacct(
        tmp_path,
        ingest_many,
        "1|t|gres/gpu:trainium2=16|1|2024-06-01T00:00:00|2024-06-01T01:00:00|3600|COMPLETED",
        "2|v|gres/gpu:tpu-v5-lite-podslice=4|1|2024-06-01T00:00:00|2024-06-01T01:00:00|3600|"
        "COMPLETED",
    )
    result = {a["account"]: a for a in summary(DuckDBEngine(store))}
    trn = result["t"]
    assert trn["controlled_gpu_hours"] == 16.0 and trn["unclassified_gpu_hours"] == 0.0
    assert trn["estimated_operations"] == pytest.approx(16 * 3600 * 667e12 * 0.4)
    assert trn["peak_ops_per_second"] == pytest.approx(16 * 1299e12)  # FP8 dense
    # TPU v5e: TPP 3,152 sits in the density band and Google does not publish the die area:
    # review, not a clear.
    tpu = result["v"]
    assert tpu["review_gpu_hours"] == 4.0 and tpu["controlled_gpu_hours"] == 0.0
    assert tpu["flags"][0]["flag"] == "review-hardware"
    assert "die area" in tpu["flags"][0]["reason"]


def test_controlled_by_the_rules_of_the_usage_day(tmp_path: Path, ingest_many: Any) -> None:
    """The H800 escaped the Oct 2022 text (400 GB/s NVLink) and is 3A090.a from 17 Nov 2023:
    a report on past usage counts it by the rules of that day, whenever it is run."""
    store = _sacct(
        tmp_path,
        ingest_many,
        "1|cn|gres/gpu:h800=8|1|2023-11-16T00:00:00|2023-11-16T10:00:00|36000|COMPLETED",
        "2|cn|gres/gpu:h800=8|1|2023-11-17T00:00:00|2023-11-17T10:00:00|36000|COMPLETED",
    )
    (acct,) = summary(DuckDBEngine(store))
    assert [(d["date"], d["controlled_gpu_hours"]) for d in acct["days"]] == [
        ("2023-11-16", 0.0),
        ("2023-11-17", 80.0),
    ]
    assert acct["gpu_hours"] == 160.0 and acct["review_gpu_hours"] == 0.0


def test_split_jobs_cross_cumulative_thresholds(tmp_path: Path, ingest_many: Any) -> None:
    """Two 36-hour jobs of 1,024 H100 two hours apart: two runs of 5.25e22 operations each, so
    no run crosses 1e23; the account crosses it over the rolling window and the quarter on
    2024-06-03 (job 1 whole, plus 34 of job 2's 36 hours: 1.02e23)."""
    store = _sacct(
        tmp_path,
        ingest_many,
        "1|split|gres/gpu:h100=1024|128|2024-06-01T00:00:00|2024-06-02T12:00:00|129600|COMPLETED",
        "2|split|gres/gpu:h100=1024|128|2024-06-02T14:00:00|2024-06-04T02:00:00|129600|COMPLETED",
    )
    engine = DuckDBEngine(store)
    per_job = 1024 * 36 * 3600 * H100 * 0.4
    found = runs(engine)
    assert [r.estimated_operations for r in found] == pytest.approx([per_job, per_job])
    for run in found:
        operations = [t for t in run.thresholds if t["kind"] == "operations"]
        assert all(t["status"] == "not reached" for t in operations)
        assert {t["basis"] for t in run.thresholds} == {
            "run",
            "run: peak concurrent theoretical maximum",
        }
    (acct,) = summary(engine)
    marks = {(t["threshold"], t["basis"]): (t["status"], t["date"]) for t in acct["thresholds"]}
    assert marks[(1e23, "rolling 90 days")] == ("crossed", "2024-06-03")
    assert marks[(1e23, "calendar quarter")] == ("crossed", "2024-06-03")
    assert marks[(1e25, "rolling 90 days")] == ("not reached", None)
    # 1,024 H100 at FP8 = 2.03e18 ops/s: the cluster threshold is far off.
    assert marks[(1e20, "day: peak theoretical maximum")] == ("not reached", None)
    bio = next(t for t in acct["thresholds"] if t["threshold"] == 1e23)
    assert "biological sequence data" in bio["label"]
    assert set(bio) >= {"threshold", "basis", "status", "date", "label"}
    # A report starting on the third day still sees the first job inside the window.
    later = summary(engine, filters=Filters(first_day=date(2024, 6, 3)))
    assert [d["date"] for d in later[0]["days"]] == ["2024-06-03", "2024-06-04"]
    marks = {(t["threshold"], t["basis"]): t["date"] for t in later[0]["thresholds"]}
    assert marks[(1e23, "rolling 90 days")] == "2024-06-03"


def test_window_and_quarter_boundaries() -> None:
    """Usage 91 days apart never shares a 90-day window; a quarter resets on its first day."""
    settings = Thresholds(operations=(10.0,), ops_per_second=1e30, window_days=90)
    start = 19875  # 2024-06-01
    apart = cumulative_thresholds([(start, 6.0, 0.0), (start + 90, 6.0, 0.0)], settings)
    assert [(t["basis"], t["status"]) for t in apart[:2]] == [
        ("rolling 90 days", "not reached"),
        ("calendar quarter", "not reached"),
    ]
    inside = cumulative_thresholds([(start, 6.0, 0.0), (start + 89, 6.0, 0.0)], settings)
    assert inside[0]["status"] == "crossed" and inside[0]["date"] == "2024-08-29"
    # 2024-06-30 and 2024-07-01: same window, different quarters.
    edge = cumulative_thresholds([(start + 29, 6.0, 0.0), (start + 30, 6.0, 0.0)], settings)
    assert edge[0]["status"] == "crossed" and edge[1]["status"] == "not reached"
    assert edge[0]["label"] == "10 operations (custom threshold)"


def test_entity_thresholds_add_linked_accounts(tmp_path: Path, ingest_many: Any) -> None:
    """One real entity behind two accounts: each account stays under 1e23, the entity does not."""
    store = _sacct(
        tmp_path,
        ingest_many,
        "1|front-a|gres/gpu:h100=1024|128|2024-06-01T00:00:00|2024-06-02T12:00:00|129600|COMPLETED",
        "2|front-b|gres/gpu:h100=1024|128|2024-06-10T00:00:00|2024-06-11T12:00:00|129600|COMPLETED",
    )
    accounts = summary(DuckDBEngine(store))
    for acct in accounts:
        assert all(t["status"] == "not reached" for t in acct["thresholds"])
    by_entity = entity_thresholds(accounts, {"front-a": "E1", "front-b": "E1"})
    marks = {(t["threshold"], t["basis"]): (t["status"], t["date"]) for t in by_entity["E1"]}
    assert marks[(1e23, "rolling 90 days")] == ("crossed", "2024-06-11")
    # Without the link each account is its own entity and nothing is crossed.
    alone = entity_thresholds(accounts, {})
    assert set(alone) == {"front-a", "front-b"}
    assert all(t["status"] == "not reached" for t in alone["front-a"])
