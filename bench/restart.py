"""A PostgreSQL restart under load: what callers see while it happens.

    python -m bench.restart [--seconds 12] [--restart-at 4]

Serves the app on the data set `make bench` left, keeps 16 clients sending reads (a learner's values) and writes
(a set) for `--seconds`, restarts the PostgreSQL cluster with `pg_ctlcluster` after `--restart-at` seconds, and
prints the answers by status and when reads answered 200 again. Expected: no 500; 503 (with Retry-After) only for
requests the restart cut off; reads back within a second of the server accepting connections. It restarts the
machine's PostgreSQL, so it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import subprocess
import time
from pathlib import Path

import httpx

from bench.dataset import reuse
from bench.run import DEFAULT_URL, _free_port, _serve, _wait


def _restart_postgres() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)


async def load(base: str, key: str, learners: list[str], variables: list[str], seconds: float, restart_at: float):
    statuses: collections.Counter[tuple[str, int]] = collections.Counter()
    read_failures: list[float] = []  # seconds since start of reads that did not answer 200
    started = time.monotonic()
    restarted: list[float] = []

    async def client(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
            while (now := time.monotonic() - started) < seconds:
                if rng.random() < 0.3:
                    body = {"variable_id": rng.choice(variables), "learner_id": rng.choice(learners), "value": 1}
                    kind, response = "set", await http.post("/api/variables/set", json=body)
                else:
                    kind, response = "read", await http.get(f"/api/learners/{rng.choice(learners)}/variables")
                statuses[(kind, response.status_code)] += 1
                if kind == "read" and response.status_code != 200:
                    read_failures.append(now)

    async def restarter() -> None:
        await asyncio.sleep(restart_at)
        await asyncio.to_thread(_restart_postgres)
        restarted.append(time.monotonic() - started)

    await asyncio.gather(restarter(), *(client(n) for n in range(16)))
    return statuses, read_failures, restarted[0] if restarted else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--restart-at", type=float, default=4)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    data = reuse(database_url)
    if data is None:
        raise SystemExit("no data set: run `make bench` first")
    port = _free_port()
    env = {"DATABASE_URL": database_url, "COURSEPIPELINE_RATE_LIMITS": "100000000/minute;1000000000/day",
           "SUPABASE_JWT_SECRET": "bench-secret-" + "x" * 40, "COURSEPIPELINE_LOG_LEVEL": "warning"}  # fmt: skip
    server = _serve("bench.serve:app_factory", port, env, factory=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/health", {})
        learners = [str(x) for x in data.learner_ids[:500]]
        variables = [str(x) for x in data.variable_ids[:20]]
        statuses, read_failures, restarted = asyncio.run(
            load(base, data.api_key, learners, variables, args.seconds, args.restart_at)
        )
    finally:
        server.terminate()
        server.wait(10)
    print(f"PostgreSQL restarted, back after {restarted:.2f} s of the run" if restarted else "no restart happened")
    for (kind, status), count in sorted(statuses.items()):
        print(f"  {kind:5} {status}: {count}")
    if read_failures:
        print(f"reads failed from {min(read_failures):.2f} s to {max(read_failures):.2f} s of the run")
    else:
        print("no read failed")


if __name__ == "__main__":
    main()
