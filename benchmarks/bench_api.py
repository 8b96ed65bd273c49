"""HTTP API load benchmark: real uvicorn on loopback, a bounded async client.

Starts ``computekyc serve`` on a free loopback port over a home holding the list mirror, makes a
viewer token with ``computekyc users add``, then sends single-name ``POST /match/default``
requests at 1, 8 and 32 concurrent clients (keep-alive connections) and one 100-query batch.
Prints throughput and p50/p95/p99 latency beside the targets and yente's published figures, and
the CPU the server and the client spent per request (read from /proc: on a shared machine
wall-clock figures move with the neighbours' load, CPU per request much less).

The client is a few lines of asyncio speaking HTTP/1.1 over keep-alive connections (one request
per connection at a time, TCP_NODELAY as curl and browsers set it): it costs a fraction of a
millisecond per request, where a full HTTP client library costs as much CPU as the server and,
on a two-core machine, takes that CPU from it.

``--baseline-src DIR`` serves a second, older source tree (``git archive main src | tar -x -C
DIR``) over its own home and runs every step against both, one after the other, so the two are
compared under the same load.

Usage: .venv/bin/python benchmarks/bench_api.py [--requests 3000] [--workers 2]
       [--shared ../shared] [--baseline-src DIR] [--homes DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# yente, as its users report it (no official load figures are published): about 4 requests/s per
# vCPU for /match, and p95 near 1 s at 8 concurrent clients.
YENTE_RPS_PER_VCPU = 4.0
YENTE_P95_MS_AT_8 = 1000.0
TARGET_RPS_AT_8 = 300.0
TARGET_P99_MS_AT_8 = 50.0
CORES = os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "computekyc", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def names(shared: Path, count: int) -> list[str]:
    """Realistic query names: the labelled name pairs' left-hand names, shuffled."""
    path = shared / "data" / "eval" / "names" / "nomenklatura_name_bench.csv"
    with path.open(encoding="utf-8") as handle:
        pool = [row["name1"] for row in csv.DictReader(handle) if row.get("name1")]
    rng = random.Random(7)
    return [rng.choice(pool) for _ in range(count)]


def match_body(names_: list[str]) -> bytes:
    queries = {
        f"q{i}": {"schema": "LegalEntity", "properties": {"name": [name]}}
        for i, name in enumerate(names_)
    }
    return json.dumps({"queries": queries}).encode()


def request_bytes(port: int, token: str, body: bytes) -> bytes:
    head = (
        f"POST /match/default HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
) -> int:
    """Send one request, read its whole answer; the HTTP status."""
    writer.write(payload)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError("an answer without Content-Length")
    await reader.readexactly(length)
    return status


async def run_load(
    port: int, payloads: list[bytes], concurrency: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures = 0
    pending = iter(payloads)

    async def connection() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for payload in pending:
                started = time.perf_counter()
                status = await _exchange(reader, writer, payload)
                latencies.append(time.perf_counter() - started)
                failures += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the uvicorn workers), from /proc."""
    total = 0
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    for one in set(pids):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


@dataclass
class Served:
    label: str
    port: int
    token: str
    process: subprocess.Popen[bytes]
    log: Path


def prepare(label: str, src: Path, shared: Path, workers: int, homes: Path | None) -> Served:
    """A home with the list mirror and a viewer token (kept under ``homes`` for the next run:
    loading the lists and building the index takes minutes on a busy machine)."""
    if homes is not None:
        home = homes / label
        home.mkdir(parents=True, exist_ok=True)
    else:
        home = Path(tempfile.mkdtemp(prefix=f"ck-bench-api-{label}-"))
    env = {**os.environ, "COMPUTEKYC_HOME": str(home), "PYTHONPATH": str(src)}
    env.pop("COMPUTEKYC_DATABASE_URL", None)
    saved = home / "bench-token"
    if saved.is_file():
        token = saved.read_text().strip()
    else:
        print(f"[{label}] loading the list mirror into {home} …", flush=True)
        cli(env, "lists", "update", "--from", str(shared / "data" / "lists"))
        made = cli(env, "users", "add", "bench", "--role", "viewer", "--json")
        token = json.loads(made)["token"]
        saved.write_text(token)
    port = free_port()
    # The default log level: one JSON access line per request, as in production (to a file).
    log = home / "serve.log"
    command = ["computekyc", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        [sys.executable, "-m", *command], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    return Served(label, port, token, process, log)


def wait_ready(served: Served, workers: int) -> None:
    """Every worker has loaded its index (a worker still loading accepts no connection, and
    the keep-alive connections opened meanwhile would all stay with the first one)."""
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise SystemExit(f"[{served.label}] the server exited; see {served.log}")
        if served.log.read_text(errors="replace").count("Application startup complete") >= workers:
            return
        time.sleep(1)
    raise SystemExit(f"[{served.label}] the server did not become ready in 1800 s")


def measure(served: Served, pool: list[str], concurrency: int, count: int) -> dict[str, float]:
    payloads = [request_bytes(served.port, served.token, match_body([n])) for n in pool[:count]]
    server_before, client_before = cpu_seconds(served.process.pid), time.process_time()
    elapsed, latencies, failed = asyncio.run(run_load(served.port, payloads, concurrency))
    server_cpu = cpu_seconds(served.process.pid) - server_before
    client_cpu = time.process_time() - client_before
    done = len(latencies)
    return {
        "rps": done / elapsed,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        "p99": pct(latencies, 99),
        "failed": failed,
        "server_ms": 1000 * server_cpu / done,
        "client_ms": 1000 * client_cpu / done,
    }


def batch(served: Served, pool: list[str]) -> tuple[float, int]:
    payload = request_bytes(served.port, served.token, match_body(pool[:100]))

    async def once() -> tuple[float, int]:
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        started = time.perf_counter()
        status = await _exchange(reader, writer, payload)
        elapsed = time.perf_counter() - started
        writer.close()
        return elapsed, status

    return asyncio.run(once())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--baseline-src", type=Path, help="an older src/ tree to compare with")
    parser.add_argument("--homes", type=Path, help="keep the homes here and reuse them")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()  # the client's own loop costs less CPU with it
    except ImportError:
        pass
    servers = [prepare("this", REPO / "src", args.shared, args.workers, args.homes)]
    if args.baseline_src:
        baseline = prepare("baseline", args.baseline_src, args.shared, args.workers, args.homes)
        servers.insert(0, baseline)
    try:
        for served in servers:
            wait_ready(served, args.workers)
        pool = names(args.shared, args.requests)
        for served in servers:  # warm every worker
            measure(served, pool, 8, min(400, len(pool)))
        results: dict[tuple[str, int], dict[str, float]] = {}
        for concurrency in (1, 8, 32):
            count = args.requests if concurrency > 1 else max(300, args.requests // 5)
            for served in servers:
                results[served.label, concurrency] = measure(served, pool, concurrency, count)
        batches = {served.label: batch(served, pool) for served in servers}
        report(servers, results, batches, args.workers)
    finally:
        for served in servers:
            served.process.terminate()
            try:
                served.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                served.process.kill()


def report(
    servers: list[Served],
    results: dict[tuple[str, int], dict[str, float]],
    batches: dict[str, tuple[float, int]],
    workers: int,
) -> None:
    print(
        f"\nPOST /match/default, one name a request, {workers} uvicorn worker(s), "
        f"{CORES} cores (load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"{'server':>9} {'clients':>7} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'failed':>6} {'server CPU ms/req':>18} {'client CPU ms/req':>18}"
    )
    for (label, concurrency), r in results.items():
        print(
            f"{label:>9} {concurrency:>7} {r['rps']:>8.1f} {r['p50']:>7.1f} {r['p95']:>7.1f} "
            f"{r['p99']:>7.1f} {r['failed']:>6.0f} {r['server_ms']:>18.2f} {r['client_ms']:>18.2f}"
        )
    for label, (seconds, status) in batches.items():
        print(f"{label:>9} 100-query batch: {seconds * 1000:.0f} ms (HTTP {status})")
    this = results["this", 8]
    yente_rps = YENTE_RPS_PER_VCPU * CORES
    print(f"\nat 8 concurrent clients   {'this run':>10} {'target':>10} {'yente':>12}")
    print(f"  requests/s              {this['rps']:>10.1f} {'≥ 300':>10} {f'~{yente_rps:.0f}':>12}")
    print(f"  p95 ms                  {this['p95']:>10.1f} {'—':>10} {'~1000':>12}")
    print(f"  p99 ms                  {this['p99']:>10.1f} {'≤ 50':>10} {'—':>12}")
    capacity = 1000 / this["server_ms"] * CORES if this["server_ms"] else 0.0
    print(
        f"  server CPU per request  {this['server_ms']:>10.2f} ms: at most ~{capacity:.0f} "
        f"requests/s on {CORES} idle cores with the client elsewhere"
    )
    met = this["rps"] >= TARGET_RPS_AT_8 and this["p99"] <= TARGET_P99_MS_AT_8
    print(
        "  targets "
        + ("met" if met else "NOT met")
        + f" (yente: {YENTE_RPS_PER_VCPU:g} req/s per vCPU, p95 ~{YENTE_P95_MS_AT_8:.0f} ms at 8)"
    )


if __name__ == "__main__":
    main()
