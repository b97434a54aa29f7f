"""Portal latency under load: p50/p95 of the fleet overview and the compressor detail.

A throwaway PostgreSQL holds one organisation with 1,000 compressors (100 stations)
and 30 days of hourly aggregates per compressor; the portal runs as its own processes
(uvicorn, connected as a non-superuser role, so RLS is in force); 50 concurrent clients
(asyncio + httpx, in this process) sign in with their own sessions and load pages as an
operations center would.

    .venv/bin/python bench/portal_latency.py                 # the recorded configuration
    .venv/bin/python bench/portal_latency.py --duration 20 --compressors 200   # quicker

Client model: each client requests a page, waits `--think` seconds, repeats
(`--think 0` = closed loop, i.e. saturation). Printed: requests, throughput and
p50/p95/p99 per request kind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.portal_seed import seed_bench_org  # noqa: E402
from tests.support.db import app_role_url, fresh_postgres_database  # noqa: E402
from tests.support.services import Postgres, free_port, postgres_bin_dir, wait_for_port  # noqa: E402


@dataclass
class Samples:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, ms: float, ok: bool) -> None:
        self.latencies_ms.setdefault(kind, []).append(ms)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _client(
    base_url: str, cookie: str, org_id: str, compressors: list[str], args: argparse.Namespace,
    deadline: float, warmup_until: float, samples: Samples, seed: int,
) -> None:  # fmt: skip
    rng = random.Random(seed)
    async with httpx.AsyncClient(
        base_url=base_url, cookies={"altaviz_session": cookie}, timeout=30
    ) as client:
        await asyncio.sleep(rng.random() * max(args.think, 0.05))
        while time.monotonic() < deadline:
            unit = rng.choice(compressors)
            kinds = [
                ("fleet overview page", f"/o/{org_id}/fleet"),
                ("fleet overview api", f"/api/v1/orgs/{org_id}/fleet"),
                ("compressor detail page", f"/o/{org_id}/compressors/{unit}"),
                ("compressor series 30d api",
                 f"/api/v1/orgs/{org_id}/compressors/{unit}/series?range=30d"),
            ]  # fmt: skip
            kind, path = kinds[rng.randrange(len(kinds))]
            started = time.perf_counter()
            response = await client.get(path)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if time.monotonic() >= warmup_until:
                samples.add(f"{kind} (client)", elapsed_ms, response.status_code == 200)
                timing = response.headers.get("server-timing", "")
                if "dur=" in timing:
                    samples.add(f"{kind} (server)", float(timing.split("dur=")[1]), True)
            if args.think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * args.think)


async def _load(base_url: str, cookies: list[str], org_id: str, compressors: list[str],
                args: argparse.Namespace) -> tuple[Samples, float]:  # fmt: skip
    samples = Samples()
    start = time.monotonic()
    warmup_until = start + args.warmup
    deadline = warmup_until + args.duration
    await asyncio.gather(*(
        _client(base_url, cookies[i % len(cookies)], org_id, compressors, args, deadline,
                warmup_until, samples, seed=i)
        for i in range(args.clients)
    ))  # fmt: skip
    return samples, args.duration


def _report(samples: Samples, seconds: float, args: argparse.Namespace, rows: int) -> None:
    total = sum(len(v) for k, v in samples.latencies_ms.items() if not k.endswith("(server)"))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(
        f"\nportal latency: {args.clients} clients, think {args.think:g}s, "
        f"{args.compressors} compressors, {rows} hourly aggregate rows ({args.days} days), "
        f"{args.workers} worker process(es), {seconds:g}s measured, "
        f"load average {' '.join(load)} on {os.cpu_count()} cores"
    )
    print("  (client) = seen by the load generator; (server) = Server-Timing, inside the app")
    print(f"  {total} requests, {total / seconds:.1f} req/s, errors: {samples.errors or 'none'}")
    print(f"  {'request':<38} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for kind in sorted(samples.latencies_ms):
        values = samples.latencies_ms[kind]
        print(
            f"  {kind:<38} {len(values):>6} {_pct(values, 0.50):>8.1f} {_pct(values, 0.95):>8.1f} "
            f"{_pct(values, 0.99):>8.1f} {statistics.fmean(values):>8.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--think", type=float, default=1.0, help="seconds between a client's requests"
    )
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--compressors", type=int, default=1000)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if postgres_bin_dir() is None:
        print("PostgreSQL server binaries (initdb, pg_ctl) are required", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="altaviz-bench-pg-"))
    cluster = Postgres(workdir).start()
    server: subprocess.Popen[bytes] | None = None
    try:
        owner_url = fresh_postgres_database(cluster)
        started = time.monotonic()
        seeded = seed_bench_org(
            owner_url, compressors=args.compressors, stations=args.stations, days=args.days,
            sessions=args.clients,
        )  # fmt: skip
        print(
            f"seeded {args.compressors} compressors, {seeded.aggregate_rows} hourly aggregate "
            f"rows in {time.monotonic() - started:.0f}s"
        )
        app_url = app_role_url(cluster, owner_url)
        port = free_port()
        env = {
            **os.environ,
            "ALTAVIZ_HUB_DATABASE_URL": app_url,
            "ALTAVIZ_HUB_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "hub.portal.asgi:create",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
             "--log-level", "warning", "--no-access-log"],
            cwd=REPO, env=env,
        )  # fmt: skip
        wait_for_port(port, timeout=30)
        base_url = f"http://127.0.0.1:{port}"
        load = _load(base_url, seeded.session_cookies, seeded.org_id, seeded.compressor_ids, args)
        try:  # the load generator's own overhead stays small with uvloop
            import uvloop

            samples, seconds = uvloop.run(load)
        except ImportError:
            samples, seconds = asyncio.run(load)
        _report(samples, seconds, args, seeded.aggregate_rows)
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
