"""Accounting and runs on the hand-written files, against figures computed by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from computekyc.usage import DuckDBEngine, Filters, Settings, Thresholds, UsageStore, runs, summary

H100 = 989.4e12  # dense BF16 ops/s of one H100 SXM (chip catalogue)


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
    assert lab_a["peak_ops_per_second"] == pytest.approx(16 * H100)
    assert [d["date"] for d in lab_a["days"]] == ["2024-06-01", "2024-06-02"]
    assert [d["gpu_hours"] for d in lab_a["days"]] == [384.0, 384.0]
    # Step rows (.batch, .extern, .0) never add GPU time to their job.
    assert set(result) == {"lab-a", "lab-b", "lab-c", "miners"}
    # Untyped gres/gpu: GPU-hours counted under an unknown chip, no operations claimed.
    lab_c = result["lab-c"]
    assert lab_c["by_chip"] == {
        "(unknown)": {
            "gpu_hours": 12.0,
            "controlled_gpu_hours": 0.0,
            "h100_equivalent_hours": 0.0,
            "estimated_operations": 0.0,
        }
    }
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
