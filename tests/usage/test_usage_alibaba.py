"""The real Alibaba GPU traces: figures recomputed independently from the CSVs."""

from __future__ import annotations

import csv
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from computekyc.usage import DuckDBEngine, UsageStore, ingest_file, runs, summary


@pytest.fixture(scope="module")
def alibaba(shared: Path) -> Path:
    return shared / "data" / "usage" / "alibaba"


@pytest.fixture(scope="module")
def trace_store(tmp_path_factory: pytest.TempPathFactory, alibaba: Path) -> UsageStore:
    store = UsageStore(tmp_path_factory.mktemp("alibaba") / "usage")
    for name in ("v2023_pods_default.csv", "v2026_genai_requests.csv"):
        ingest_file(alibaba / name, "alibaba", store)
    return store


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_v2023_pods_gpu_hours(alibaba: Path, tmp_path: Path) -> None:
    pods = _read(alibaba / "v2023_pods_default.csv")
    report = ingest_file(alibaba / "v2023_pods_default.csv", "auto", UsageStore(tmp_path / "u"))
    gpu_pods = [p for p in pods if int(p["num_gpu"]) > 0]
    # A GPU-sharing pod (num_gpu 1) holds gpu_milli/1000 of a GPU; others whole GPUs.
    expected = 0.0
    for p in gpu_pods:
        share = int(p["gpu_milli"]) / 1000 if p["num_gpu"] == "1" else int(p["num_gpu"])
        start = p["scheduled_time"] or p["creation_time"]
        expected += share * (int(p["deletion_time"]) - int(start)) / 3600
    assert report.rows_read == len(pods) == 8152
    assert report.rows_skipped == {"pod uses no GPU": len(pods) - len(gpu_pods)}
    assert report.rows_accepted == len(gpu_pods)
    assert report.gpu_hours == pytest.approx(expected, rel=1e-9)
    # The default pod list has no GPU types: every row is reported as unknown hardware.
    assert [(u.rows, u.kept_rows) for u in report.unknown_hardware] == [
        (len(gpu_pods), len(gpu_pods))
    ]


def test_dlrm_instances_skips_are_counted(alibaba: Path, tmp_path: Path) -> None:
    rows = _read(alibaba / "v2025_dlrm_instances.csv")
    report = ingest_file(alibaba / "v2025_dlrm_instances.csv", "auto", UsageStore(tmp_path / "u"))
    no_gpu = sum(1 for r in rows if float(r["gpu_request"] or 0) == 0)
    assert report.rows_skipped["pod uses no GPU"] == no_gpu
    assert sum(report.rows_skipped.values()) + report.rows_accepted == len(rows)
    # Accounts are the app ids.
    apps = {
        r["app_name"]
        for r in rows
        if float(r["gpu_request"] or 0) > 0
        and r["deletion_time"]
        and (r["scheduled_time"] or r["creation_time"])
    }
    engine = DuckDBEngine(UsageStore(tmp_path / "u"))
    assert {a["account"] for a in summary(engine)} == apps


def test_genai_requests_are_serving_not_training(alibaba: Path, trace_store: UsageStore) -> None:
    requests = _read(alibaba / "v2026_genai_requests.csv")
    engine = DuckDBEngine(trace_store)
    accounts = {a["account"]: a for a in summary(engine)}
    groups = Counter(r["groupId"] for r in requests)
    assert set(groups) <= set(accounts)
    busiest, _ = groups.most_common(1)[0]
    busy_seconds = sum(float(r["exec_time_seconds"]) for r in requests if r["groupId"] == busiest)
    assert accounts[busiest]["gpu_hours"] == pytest.approx(busy_seconds / 3600, rel=1e-9)
    # Real serving traffic and a shared research cluster: no run looks like large training.
    found = runs(engine)
    assert found and not [r for r in found if r.cls == "training"]
    serving = [r for r in found if r.account in groups]
    assert all(r.cls in ("unknown", "inference", "other") for r in serving)


def test_genai_pod_duty_cycle_is_serving_telemetry(alibaba: Path, tmp_path: Path) -> None:
    # The per-pod GPU duty-cycle series ships as a tarball; extract it to a temp dir.
    with tarfile.open(alibaba / "v2026_genai_pod_gpu_duty_cycle.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    series = tmp_path / "pod_gpu_duty_cycle_anon.csv"
    samples: dict[str, list[tuple[float, float]]] = {}
    for row in _read(series):
        samples.setdefault(row["container_ip"], []).append(
            (float(row["timestamp_anon"]), float(row["value"]))
        )
    # Each container is one GPU seen from its first sample to one sampling step past its last.
    seconds: dict[str, float] = {}
    for container, points in samples.items():
        times = sorted({t for t, _ in points})
        span = times[-1] - times[0]
        step = round(span / (len(times) - 1)) if len(times) > 1 else 0
        seconds[container] = span + step
    busy = sum(sum(v for _, v in pts) / len(pts) / 100 * seconds[c] for c, pts in samples.items())
    store = UsageStore(tmp_path / "usage")
    report = ingest_file(series, "auto", store)
    assert report.format == "alibaba" and report.rows_read == sum(map(len, samples.values()))
    assert report.telemetry_gpu_hours == pytest.approx(sum(seconds.values()) / 3600, rel=1e-6)
    (run,) = runs(DuckDBEngine(store))
    assert run.features["jobs"] == len(samples)
    assert run.features["gpu_util"] == pytest.approx(busy / sum(seconds.values()), rel=1e-9)
    # Real diffusion-model serving: many replicas, GPUs mostly idle -> inference, not training.
    assert run.cls == "inference"
