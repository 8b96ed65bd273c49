"""HTTP API load benchmark: real uvicorn on loopback, a bounded async client.

Starts ``computekyc serve`` on a free loopback port over a home holding the list mirror, makes a
viewer token with ``computekyc users add``, then sends single-name ``POST /match/default``
requests at 1, 8 and 32 concurrent clients for a fixed number of requests each, and one
100-query batch. Prints throughput and p50/p95/p99 latency beside yente's published figures
(about 4 requests/s per vCPU, p95 near 1 s at 8 concurrent clients, as its users report).
Targets on a 2-core box: at least 300 requests/s and p99 at most 50 ms at 8 concurrent.

Usage: .venv/bin/python benchmarks/bench_api.py [--requests 2000] [--workers 2] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
YENTE = "yente (users' reports): ~4 req/s per vCPU, p95 ~1 s at 8 concurrent"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "computekyc", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def names(shared: Path, count: int) -> list[str]:
    """Realistic query names: the labelled name pairs' left-hand names, shuffled."""
    import csv

    path = shared / "data" / "eval" / "names" / "nomenklatura_name_bench.csv"
    with path.open(encoding="utf-8") as handle:
        pool = [row["name1"] for row in csv.DictReader(handle) if row.get("name1")]
    rng = random.Random(7)
    return [rng.choice(pool) for _ in range(count)]


async def run_load(
    url: str, token: str, queries: list[str], concurrency: int
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures = 0
    pending = iter(queries)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # TCP_NODELAY as curl, requests and browsers set it: without it httpx's separate header and
    # body writes wait on the server's delayed ACK (~40 ms a request, a client-side artefact).
    transport = httpx.AsyncHTTPTransport(
        limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )
    async with httpx.AsyncClient(
        base_url=url, headers=headers, transport=transport, timeout=30
    ) as c:

        async def worker() -> None:
            nonlocal failures
            for name in pending:
                body = {"queries": {"q": {"schema": "LegalEntity", "properties": {"name": [name]}}}}
                started = time.perf_counter()
                response = await c.post("/match/default", json=body)
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, failures


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ck-bench-api-"))
    env = {**os.environ, "COMPUTEKYC_HOME": str(home)}
    env.pop("COMPUTEKYC_DATABASE_URL", None)
    print(f"loading the list mirror into {home} …", flush=True)
    cli(env, "lists", "update", "--from", str(args.shared / "data" / "lists"))
    token = json.loads(cli(env, "users", "add", "bench", "--role", "viewer", "--json"))["token"]
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "computekyc",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the server did not become ready in 300 s")
        pool = names(args.shared, args.requests)
        asyncio.run(run_load(url, token, pool[:200], 8))  # warm up every worker
        print(f"\nPOST /match/default, one name a request, {args.workers} uvicorn worker(s)")
        print(
            f"{'clients':>8} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'failed':>7}"
        )
        for concurrency in (1, 8, 32):
            count = args.requests if concurrency > 1 else max(200, args.requests // 5)
            elapsed, lat, failed = asyncio.run(run_load(url, token, pool[:count], concurrency))
            print(
                f"{concurrency:>8} {len(lat) / elapsed:>9.1f} {pct(lat, 50):>8.1f} "
                f"{pct(lat, 95):>8.1f} {pct(lat, 99):>8.1f} {failed:>7}"
            )
        batch = {
            "queries": {
                f"q{i}": {"schema": "LegalEntity", "properties": {"name": [n]}}
                for i, n in enumerate(pool[:100])
            }
        }
        started = time.perf_counter()
        response = httpx.post(
            url + "/match/default",
            json=batch,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        print(
            f"\n100-query batch: {time.perf_counter() - started:.2f} s "
            f"(HTTP {response.status_code}, {len(response.json().get('responses', {}))} answers)"
        )
        print(f"baseline: {YENTE}; targets here: ≥ 300 req/s and p99 ≤ 50 ms at 8 clients")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
