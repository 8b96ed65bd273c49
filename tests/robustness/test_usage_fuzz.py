"""Property tests: every usage reader, fed random bytes, truncations and mutations of real
usage files, either refuses the file with a clean :class:`ComputekycError` (and the store is
unchanged) or stores a plausible, finite result. Never another exception.

Sources: the hand-written samples in tests/usage/data (FOCUS 1.0 and 1.3, CUR 2.0, sacct, DCGM
CSV and Prometheus) and small slices of the public Alibaba traces in ../shared (pods, DLRM
instances, GenAI requests, GPU duty cycle). Examples are few by default so the suite stays fast;
``HYPOTHESIS_PROFILE=usage-thorough`` runs many more.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from computekyc.cli._io import strict_json
from computekyc.exc import ComputekycError
from computekyc.usage import Limits, UsageStore, ingest_file, load_limits

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "usage" / "data"
SHARED = Path(os.environ.get("COMPUTEKYC_SHARED", REPO.parent / "shared"))
ALIBABA = SHARED / "data" / "usage" / "alibaba"

settings.register_profile(
    "usage-fast",
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "usage-thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "usage-fast"))


def _head(data: bytes, lines: int, skip: int = 0) -> bytes:
    """The header and ``lines`` records after skipping ``skip`` (a small slice of a big file)."""
    rows = data.split(b"\n")
    return b"\n".join([rows[0], *rows[1 + skip : 1 + skip + lines]]) + b"\n"


def _duty_cycle_slice() -> bytes:
    with tarfile.open(ALIBABA / "v2026_genai_pod_gpu_duty_cycle.tar.gz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(".csv"))
        handle = tar.extractfile(member)
        assert handle is not None
        return b"".join(itertools.islice(handle, 41))


def _sources() -> dict[str, bytes]:
    found = {p.name: p.read_bytes() for p in sorted(DATA.iterdir()) if p.is_file()}
    if ALIBABA.is_dir():
        found["v2023_pods_default.csv"] = _head(
            (ALIBABA / "v2023_pods_default.csv").read_bytes(), 30
        )
        dlrm = (ALIBABA / "v2025_dlrm_instances.csv").read_bytes()
        # Rows with creation and deletion times start further down the file.
        start = next(i for i, line in enumerate(dlrm.split(b"\n")[1:]) if line.endswith(b"0"))
        found["v2025_dlrm_instances.csv"] = _head(dlrm, 30, start)
        found["v2026_genai_requests.csv"] = _head(
            (ALIBABA / "v2026_genai_requests.csv").read_bytes(), 30
        )
        found["pod_gpu_duty_cycle_anon.csv"] = _duty_cycle_slice()
    return found


SOURCES = _sources()
NAMES = sorted(SOURCES)
# Values that broke or could break a reader: non-finite and huge numbers, impossible dates,
# markup, quotes and separators, non-UTF-8 bytes, NUL.
NASTY = [
    b"NaN",
    b"inf",
    b"-Infinity",
    b"1e308",
    b"-1",
    b"99999999",
    b"0",
    b"",
    b"1969-12-31T23:59:59Z",
    b"1900-01-01",
    b"2999-12-31T00:00:00Z",
    b"9999999999999999999999",
    b"[/bold]",
    b'"',
    b'""',
    b"|",
    b",",
    b"\r",
    b"\xe9",
    b"\xff\xfe",
    b"\x00",
    b'{"GpuCount": 1e400}',
    b"{",
    b"gres/gpu=1e308",
]


def _mutate(data: bytes, draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["truncate", "cell", "bytes", "splice", "duplicate"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "cell":
        # Replace one field of one record with a nasty value.
        lines = data.split(b"\n")
        i = draw(st.integers(0, max(0, len(lines) - 2)))
        sep = b"|" if lines[0].count(b"|") > lines[0].count(b",") else b","
        cells = lines[i].split(sep)
        j = draw(st.integers(0, max(0, len(cells) - 1)))
        cells[j] = draw(st.sampled_from(NASTY))
        lines[i] = sep.join(cells)
        return b"\n".join(lines)
    if kind == "bytes":
        pos = draw(st.integers(0, len(data)))
        junk = draw(st.binary(min_size=1, max_size=16))
        cut = draw(st.integers(0, 16))
        return data[:pos] + junk + data[pos + cut :]
    if kind == "splice":
        other = SOURCES[draw(st.sampled_from(NAMES))]
        return data[: draw(st.integers(0, len(data)))] + other[draw(st.integers(0, len(other))) :]
    lines = data.split(b"\n")
    i = draw(st.integers(0, max(0, len(lines) - 2)))
    return b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(NAMES))
    data = SOURCES[name]
    for _ in range(draw(st.integers(1, 3))):
        data = _mutate(data, draw)
    return name, data


class Workspace:
    """One store shared by the examples of a test (examples may add to it) and a limits object
    fixed once, so that every example is judged against the same cut-offs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = UsageStore(root / "usage")
        self.limits: Limits = load_limits()
        self.counter = itertools.count()

    def snapshot(self) -> dict[str, str]:
        return {
            str(p.relative_to(self.store.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(self.store.root.rglob("*"))
            if p.is_file() and p.name != "usage.duckdb"
        }

    def write(self, name: str, data: bytes) -> Path:
        folder = self.root / f"in{next(self.counter)}"
        folder.mkdir()
        path = folder / name
        path.write_bytes(data)
        return path

    def check(self, name: str, data: bytes, fmt: str = "auto") -> None:
        """Ingest ``data``: a clean refusal that changed nothing, or a plausible result."""
        path = self.write(name, data)
        before = self.snapshot()
        try:
            report = ingest_file(path, fmt, self.store, self.limits)
        except ComputekycError as exc:
            message = str(exc)
            assert "\n" not in message and str(path) in message
            assert self.snapshot() == before
            assert list(self.store.tmp_dir.iterdir()) == []
            return
        strict_json(report.to_dict())  # no NaN or Infinity anywhere in the report
        if report.status == "already ingested":
            return
        rows_file = self.store.rows_dir / f"{report.content_hash}.parquet"
        assert rows_file.exists() and (self.store.root / "manifest").is_dir()
        _check_rows(self.store, rows_file, self.limits, data.count(b"\n") + 1)
        if report.format not in ("dcgm",) and not name.startswith("pod_gpu_duty"):
            # Every record read is accounted for: stored, rejected or skipped.
            assert report.rows_read == (
                report.rows_accepted + report.rows_rejected + sum(report.rows_skipped.values())
            )


def _check_rows(store: UsageStore, rows_file: Path, limits: Limits, lines: int) -> None:
    max_gpus = limits.max_gpus_per_row
    con = store.connect()
    try:
        bad = con.execute(
            f"""SELECT count(*) FILTER (WHERE NOT isfinite(gpu_seconds) OR gpu_seconds < 0),
                  count(*) FILTER (WHERE start_s < {limits.earliest_s} OR end_s > {limits.latest_s}
                                   OR end_s < start_s OR end_s - start_s > 86400),
                  count(*) FILTER (WHERE NOT (gpu_count > 0 AND gpu_count <= {max_gpus})),
                  count(*) FILTER (WHERE source_line < 1 OR source_line > {lines}),
                  count(*)
                FROM read_parquet('{rows_file}')"""
        ).fetchall()[0]
    finally:
        con.close()
    assert bad[:4] == (0, 0, 0, 0), bad


@pytest.fixture(scope="module")
def workspace() -> Iterator[Workspace]:
    with tempfile.TemporaryDirectory(prefix="ck-usage-fuzz-") as tmp:
        yield Workspace(Path(tmp))


@settings(PROFILE)
@given(case=mutated())
def test_mutated_real_files_never_crash(workspace: Workspace, case: tuple[str, bytes]) -> None:
    name, data = case
    workspace.check(name, data)


@settings(PROFILE)
@given(
    name=st.sampled_from(NAMES),
    junk=st.binary(max_size=2048),
    fmt=st.sampled_from(["auto", "focus", "cur", "sacct", "dcgm", "alibaba"]),
)
def test_random_bytes_after_a_real_header(
    workspace: Workspace, name: str, junk: bytes, fmt: str
) -> None:
    header = SOURCES[name].split(b"\n")[0] + b"\n"
    workspace.check(name, header + junk, fmt)


@settings(PROFILE)
@given(junk=st.binary(max_size=4096))
def test_random_bytes(workspace: Workspace, junk: bytes) -> None:
    workspace.check("random.csv", junk)


# DCGM rows aggregate every sample of a GPU in the file, so a slice changes them.
PER_LINE = [n for n in NAMES if not n.startswith(("dcgm", "pod_gpu_duty"))]


@pytest.mark.parametrize("name", PER_LINE)
def test_a_slice_at_a_line_boundary_stores_exactly_those_lines(tmp_path: Path, name: str) -> None:
    """Correctness, not just survival: the first half of a file stores exactly the rows the
    whole file stored for those lines, and rejects exactly its rejects."""
    data = SOURCES[name]
    lines = data.split(b"\n")
    keep = max(2, len(lines) // 2)
    half = b"\n".join(lines[:keep]) + b"\n"
    whole_store, half_store = UsageStore(tmp_path / "a"), UsageStore(tmp_path / "b")
    whole_path, half_path = tmp_path / "whole" / name, tmp_path / "half" / name
    for path, content in ((whole_path, data), (half_path, half)):
        path.parent.mkdir()
        path.write_bytes(content)
    whole = ingest_file(whole_path, "auto", whole_store)
    part = ingest_file(half_path, "auto", half_store)
    got = _stored(half_store, "TRUE")
    expected = _stored(whole_store, f"source_line <= {keep}")
    assert got == expected and part.rows_rejected == sum(
        1 for r in whole.rejects if r["line"] <= keep
    )


def _stored(store: UsageStore, where: str) -> list[tuple[Any, ...]]:
    con = store.connect()
    try:
        store.create_usage_view(con)
        rows = con.execute(
            "SELECT source_line, account, chip, gpu_count, start_s, end_s, gpu_seconds, "
            f"resource_name, tags FROM usage WHERE {where} ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    assert all(math.isfinite(r[6]) for r in rows)
    return rows
