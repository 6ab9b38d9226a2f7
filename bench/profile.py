"""Per-request cost of one scenario, in process, without HTTP or wrk: app against reference, and where the time goes.

    python -m bench.profile learner_variables --requests 2000 [--profile]

Drives both ASGI apps directly, one request after another, on a data set `make bench` (or `--reuse`) left behind.
It reports CPU microseconds per request (what decides throughput on a busy single worker) and, with `--profile`,
a pyinstrument profile of the app. Quicker and steadier than a wrk run for trying a change.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bench.dataset import Dataset, reuse
from bench.run import DEFAULT_URL, LEARNER_VARIABLES_QUERY

ASGI = Callable[[dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def _requests(name: str, data: Dataset, rng: random.Random) -> tuple[str, str, bytes]:
    learner = str(rng.choice(data.learner_ids))
    if name == "set":
        body = {"variable_id": str(rng.choice(data.variable_ids[:50])), "learner_id": learner,
                "value": rng.randint(0, 100)}  # fmt: skip
        return "POST", "/api/variables/set", orjson.dumps(body)
    if name == "learner_variables":
        return "GET", f"/api/learners/{learner}/variables", b""
    if name == "values_page":
        return "GET", f"/api/variables/{data.big_variable_id}/values?limit=100", b""
    if name == "graphql_learner_variables":
        return "POST", "/graphql", orjson.dumps({"query": LEARNER_VARIABLES_QUERY, "variables": {"id": learner}})
    raise SystemExit(f"unknown scenario {name}")


async def call(app: ASGI, method: str, target: str, body: bytes, key: str) -> int:
    path, _, query = target.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"bench"), (b"x-api-key", key.encode()), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80), "state": {}}  # fmt: skip
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(app: ASGI, name: str, data: Dataset, count: int, profiler: Any = None) -> float:
    rng = random.Random(7)
    for _ in range(50):  # warm caches and prepared statements
        method, target, body = _requests(name, data, rng)
        status = await call(app, method, target, body, data.api_key)
        assert status < 300, (target, status)
    started = time.process_time()
    if profiler:
        profiler.start()
    for _ in range(count):
        await call(app, *_requests(name, data, rng), data.api_key)
    if profiler:
        profiler.stop()
    return (time.process_time() - started) / count * 1e6


async def main_async(args: argparse.Namespace) -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("BENCH_DSN", database_url)
    data = reuse(database_url)
    if data is None:
        raise SystemExit("no data set: run `make bench` (or python -m bench.run --smoke) first")
    from app.main import create_app
    from app.settings import Settings
    from bench import reference

    settings = Settings(database_url=database_url, supabase_jwt_secret="bench-" + "x" * 40,
                        rate_limits="100000000/minute;1000000000/day")  # fmt: skip
    app = create_app(settings)
    await reference.pool.open()
    apps, refs = [], []
    try:
        for _ in range(args.rounds):  # alternated, medians: the machine's other work moves both alike
            # The reference has no GraphQL: the same data from its REST endpoint, as in `make bench`.
            ref_scenario = args.scenario.removeprefix("graphql_")
            if args.side != "app":
                refs.append(await measure(reference.app, ref_scenario, data, args.requests))
            if args.side != "reference":
                apps.append(await measure(app, args.scenario, data, args.requests))
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            await measure(app, args.scenario, data, args.requests, profiler)
    finally:
        await reference.pool.close()
        await app.state.services.db.dispose()
    if args.side != "both":
        print(f"{args.side} {statistics.median(apps or refs):.0f} µs CPU/request")
        return
    app_cost, ref_cost = statistics.median(apps), statistics.median(refs)
    print(f"{args.scenario}: app {app_cost:.0f} µs CPU/request, reference {ref_cost:.0f} µs, "
          f"ratio {ref_cost / app_cost:.2f}")  # fmt: skip
    if args.profile:
        print(profiler.output_text(unicode=True, show_all=False, color=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["set", "learner_variables", "values_page", "graphql_learner_variables"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--side",
        choices=["both", "app", "reference"],
        default="both",
        help="one side only, e.g. under `valgrind --tool=callgrind` for instruction counts that do not vary",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
