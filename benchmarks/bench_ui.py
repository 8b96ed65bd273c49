"""Web UI benchmark: the alert queue's first page with 10,000 alerts in the queue.

Makes a fresh home, writes 10,000 alerts through the alert store (the scan's own ``sync``: mixed
types and severities, subjects named in Latin, Chinese, Cyrillic and Arabic), adds an analyst
with a password, starts ``computekyc serve`` on a free loopback port, signs in through the form,
and times ``GET /alerts`` (first page; sorted by subject; filtered by a subject's name; page 100)
and one alert page. Server time is read from the server's access log (``ms`` per request);
client time over loopback is printed beside it. Target: first page ≤ 300 ms server time.

Usage: .venv/bin/python benchmarks/bench_ui.py [--alerts 10000] [--repeat 20]
"""

from __future__ import annotations

import argparse
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

from computekyc.alerts import AlertDraft, AlertStore, AlertType, Severity, Subject, SubjectKind
from computekyc.audit import Actor
from computekyc.services import casework
from computekyc.settings import Settings
from computekyc.users import local_operator
from computekyc.workflow import open_database

TARGET_MS = 300.0
NAMES = [
    "Northwind Robotics Inc.",
    "杭州海康威视数字技术股份有限公司",
    "Акционерное общество «Вымпел»",
    "شركة الحاسوب المتقدم للتقنية",
    "Harbourfront Compute Pte Ltd",
    "浪潮云服务（新加坡）有限公司",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_alerts(settings: Settings, count: int) -> float:
    rng = random.Random(7)
    types = list(AlertType)
    drafts = []
    for i in range(count):
        kind = types[i % len(types)]
        name = f"{rng.choice(NAMES)} {i}"
        drafts.append(
            AlertDraft(
                kind,
                rng.choice(list(Severity)),
                Subject(SubjectKind.CUSTOMER, f"c-{i:05d}", name),
                f"{name}: {kind.value.replace('_', ' ')} (benchmark)",
                {"score": round(rng.random(), 3), "hits": []},
                discriminator=str(i),
            )
        )
    engine = open_database(settings)
    started = time.perf_counter()
    with engine.begin() as conn:
        AlertStore(engine).sync(
            conn, drafts, in_scope=lambda k, i: True, snapshot="bench", rule_versions={"b": "1"}
        )
    return time.perf_counter() - started


def server_ms(log: Path, request_id: str) -> float:
    for line in log.read_text(errors="replace").splitlines():
        if request_id in line and '"ms"' in line:
            return float(json.loads(line.split(" computekyc.api.access ", 1)[1])["ms"])
    raise SystemExit(f"request {request_id} not in the access log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    settings = Settings(home=home)
    seconds = make_alerts(settings, args.alerts)
    print(f"{args.alerts:,} alerts written through AlertStore.sync in {seconds:.1f} s")
    casework.add_user(settings, local_operator(), "bench", "analyst", password="bench-pass")
    env = {**os.environ, "COMPUTEKYC_HOME": str(home)}
    env.pop("COMPUTEKYC_DATABASE_URL", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "computekyc", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(log.read_text(errors="replace")[-2000:])
            time.sleep(0.3)
        client = httpx.Client(base_url=url, headers={"Accept": "text/html"}, timeout=60)
        page = client.get("/login").text
        csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/login", data={"csrf": csrf, "username": "bench", "password": "bench-pass"}
        )
        assert signed.status_code == 303, signed.text[:300]
        first_id = casework.alert_queue(settings, Actor("bench", "analyst"), limit=1).alerts[0].id
        cases = {
            "first page (severity, then age)": "/alerts",
            "sorted by subject, descending": "/alerts?sort=subject&order=desc",
            "filtered by subject name": "/alerts?subject=%D0%92%D1%8B%D0%BC%D0%BF%D0%B5%D0%BB",
            "page 100": "/alerts?page=100",
            "all statuses, by age": "/alerts?status=all&sort=age",
            "one alert page": f"/alerts/{first_id}",
        }
        print(f"{'request':<34} {'server ms p50':>14} {'p95':>8} {'client ms p50':>14}")
        for label, path in cases.items():
            client.get(path)  # warm
            server_times, client_times = [], []
            for n in range(args.repeat):
                rid = f"bench-{n}-{abs(hash(label)) % 10**8}"
                started = time.perf_counter()
                answer = client.get(path, headers={"X-Request-ID": rid})
                client_times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
                server_times.append(server_ms(log, rid))
            server_times.sort()
            p95 = server_times[int(0.95 * (len(server_times) - 1))]
            print(
                f"{label:<34} {statistics.median(server_times):>14.1f} {p95:>8.1f} "
                f"{statistics.median(client_times):>14.1f}"
            )
            if label.startswith("first page"):
                verdict = "meets" if statistics.median(server_times) <= TARGET_MS else "MISSES"
                print(f"{'':<34} target ≤ {TARGET_MS:.0f} ms: {verdict}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
