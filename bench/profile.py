"""Per-request cost of one scenario, in process, without HTTP or wrk: app against reference, and where the time goes.

    python -m bench.profile learner_variables --requests 2000 [--profile]
    python -m bench.profile learner_variables --instructions
    python -m bench.profile learner_variables:loaders --instructions
    python -m bench.profile learner_variables --cache
    python -m bench.profile learner_variables --cache --in-flight 32 --requests 320 --last-level 2097152

Drives both ASGI apps directly, one request after another (or `--in-flight` at a time), on a data set `make bench`
(or `--reuse`) left behind, on uvloop and with the collector set as `serve` sets it. It reports CPU microseconds per
request (what decides throughput on a busy single worker) and, with `--profile`, a pyinstrument profile of the app.
Quicker and steadier than a wrk run for trying a change.

`--instructions` counts instructions instead (valgrind's callgrind, at two request counts; the difference divided
by the difference in requests): the same number on every run, however busy the machine, so a change of 1% shows.
`--cache` does the same under cachegrind's cache simulation and adds data references and first-level cache
misses: why a request can cost more time than its instructions say.

`--in-flight N` keeps N requests going at once (N loops of requests, run together), as wrk's connections do
in `make bench`. With `--cache`, `--last-level BYTES` sets the simulated last-level cache's size, for instance to
one core's second-level cache (cachegrind models only the first and the last level): whether the requests in
flight still fit in it.

`learner_variables:<variant>` runs the learner-values request with one layer taken away (`bench/ablation.py`):
`resolvers` (no graphql-core executor), `loaders` (no Strawberry resolver wrappers either), `direct` (no
DataLoaders either). The reference side is always the plain scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import uvloop

from bench import ablation
from bench.dataset import Dataset, reuse
from bench.run import DEFAULT_URL, LEARNER_VARIABLES_QUERY

ASGI = Callable[[dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
SCENARIOS = ["set", "set_propagating", "learner_variables", "values_page", "graphql_learner_variables",
             *(f"learner_variables:{variant}" for variant in ablation.VARIANTS)]  # fmt: skip


def _requests(name: str, data: Dataset, rng: random.Random) -> tuple[str, str, bytes]:
    learner = str(rng.choice(data.learner_ids))
    if name == "set":
        body = {"variable_id": str(rng.choice(data.variable_ids[:50])), "learner_id": learner,
                "value": rng.randint(0, 100)}  # fmt: skip
        return "POST", "/api/variables/set", orjson.dumps(body)
    if name == "set_propagating":
        body = {"variable_id": str(data.feed_variable_id), "learner_id": learner, "value": rng.randint(0, 100)}
        return "POST", "/api/variables/set", orjson.dumps(body)
    if name == "learner_variables":
        return "GET", f"/api/learners/{learner}/variables", b""
    if name.startswith("learner_variables:"):
        return "GET", ablation.path(name.partition(":")[2], learner), b""
    if name == "values_page":
        return "GET", f"/api/variables/{data.big_variable_id}/values?limit=100", b""
    if name == "graphql_learner_variables":
        return "POST", "/graphql", orjson.dumps({"query": LEARNER_VARIABLES_QUERY, "variables": {"id": learner}})
    raise SystemExit(f"unknown scenario {name}")


async def call(app: ASGI, method: str, target: str, body: bytes, key: str) -> tuple[int, bytes]:
    path, _, query = target.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"bench"), (b"x-api-key", key.encode()), (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80), "state": {}}  # fmt: skip
    status = 0
    chunks: list[bytes] = []
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
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def same_answers(app: ASGI, variant: str, data: Dataset) -> None:
    """An ablation measures something only if it answers exactly what the endpoint answers."""
    for learner in map(str, data.learner_ids[:3]):
        real = await call(app, "GET", f"/api/learners/{learner}/variables", b"", data.api_key)
        stripped = await call(app, "GET", ablation.path(variant, learner), b"", data.api_key)
        if real != stripped:
            raise SystemExit(f"{variant} answers differently for learner {learner}:\n{real}\n{stripped}")


async def measure(app: ASGI, name: str, data: Dataset, count: int, profiler: Any = None, in_flight: int = 1) -> float:
    """CPU µs a request over `count` requests, `in_flight` at a time (as many loops of requests, run together)."""
    rng = random.Random(7)
    for _ in range(50):  # warm caches and prepared statements
        method, target, body = _requests(name, data, rng)
        status, _ = await call(app, method, target, body, data.api_key)
        assert status < 300, (target, status)

    async def one_after_another(requests: int) -> None:
        for _ in range(requests):
            await call(app, *_requests(name, data, rng), data.api_key)

    started = time.process_time()
    if profiler:
        profiler.start()
    await asyncio.gather(*(one_after_another(count // in_flight) for _ in range(in_flight)))
    if profiler:
        profiler.stop()
    return (time.process_time() - started) / count * 1e6


async def main_async(args: argparse.Namespace) -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("BENCH_DSN", database_url)
    data = reuse(database_url)
    if data is None:
        raise SystemExit("no data set: run `make bench` (or python -m bench.run --smoke) first")
    from app.collector import tune_for_serving
    from app.main import create_app
    from app.settings import Settings
    from bench import reference

    settings = Settings(database_url=database_url, supabase_jwt_secret="bench-" + "x" * 40,
                        rate_limits="100000000/minute;1000000000/day")  # fmt: skip
    app = create_app(settings)
    app.router.routes[0:0] = ablation.routes(app.state.services)
    tune_for_serving()  # as `serve` does
    await reference.pool.open()
    apps, refs = [], []
    try:
        if ":" in args.scenario:
            await same_answers(app, args.scenario.partition(":")[2], data)
        # The reference has no GraphQL and no ablations: the same data from its REST endpoint, as in `make bench`.
        ref_scenario = args.scenario.removeprefix("graphql_").partition(":")[0]
        for _ in range(args.rounds):  # alternated, medians: the machine's other work moves both alike
            if args.side != "app":
                refs.append(await measure(reference.app, ref_scenario, data, args.requests, in_flight=args.in_flight))
            if args.side != "reference":
                apps.append(await measure(app, args.scenario, data, args.requests, in_flight=args.in_flight))
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            await measure(app, args.scenario, data, args.requests, profiler, args.in_flight)
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


# What `--cache` reads off cachegrind's summary, and how it is printed.
_CACHE_EVENTS = {"I refs": "instructions", "D refs": "data reads and writes", "I1 misses": "I1 misses",
                 "D1 misses": "D1 misses", "LL misses": "last-level misses"}  # fmt: skip


def _valgrind_counts(
    scenario: str, side: str, count: int, cache: bool, in_flight: int = 1, last_level: int | None = None
) -> dict[str, int]:
    tool = (["--tool=cachegrind", "--cache-sim=yes", "--cachegrind-out-file=/dev/null"] if cache
            else ["--tool=callgrind", "--callgrind-out-file=/dev/null"])  # fmt: skip
    if cache and last_level:
        tool.append(f"--LL={last_level},16,64")
    command = ["valgrind", *tool, sys.executable, "-m", "bench.profile", scenario, "--side", side, "--rounds", "1",
               "--requests", str(count), "--in-flight", str(in_flight)]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    if cache:
        summary = re.findall(r"== (I|D|I1|D1|LL)\s+(refs|misses):\s+([\d,]+)", run.stderr)
        found = {f"{kind} {what}": int(n.replace(",", "")) for kind, what, n in summary}
    else:
        total = re.search(r"Collected : (\d+)", run.stderr)
        found = {"I refs": int(total.group(1))} if total else {}
    if not found:
        raise SystemExit(f"valgrind printed no totals:\n{run.stderr[-2000:]}")
    return found


def count_instructions(
    scenario: str, requests: int, cache: bool = False, in_flight: int = 1, last_level: int | None = None
) -> None:
    """Instructions per request for each side (with `cache`, also data references and simulated first-level and
    last-level cache misses): valgrind at `requests` and 3x`requests`, the four runs two at a time. The difference
    cancels start-up and warm-up, so what is left is the requests themselves."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions and --cache need valgrind (Debian package valgrind)")
    per_request: dict[str, dict[str, float]] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for side in ("app", "reference"):
            count = functools.partial(_valgrind_counts, scenario, side, cache=cache, in_flight=in_flight,
                                      last_level=last_level)  # fmt: skip
            low, high = pool.map(count, (requests, 3 * requests))
            per_request[side] = {event: (high[event] - low[event]) / (2 * requests) for event in high}
    app, ref = per_request["app"], per_request["reference"]
    if not cache:
        app_count, ref_count = app["I refs"], ref["I refs"]
        print(f"{scenario}: app {app_count / 1e6:.3f} M instructions/request, reference {ref_count / 1e6:.3f} M, "
              f"ratio {ref_count / app_count:.3f}")  # fmt: skip
        return
    print(f"{scenario}, per request: app / reference (reference / app)")
    for event, label in _CACHE_EVENTS.items():
        print(f"  {label:24} {app[event]:>12,.0f} / {ref[event]:>12,.0f}  ({ref[event] / app[event]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--requests", type=int, help="per round (default 2000; 100 with --instructions)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind instead")
    parser.add_argument("--cache", action="store_true", help="count instructions and cache misses (cachegrind)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--side", choices=["both", "app", "reference"], default="both")
    parser.add_argument("--in-flight", type=int, default=1, help="requests at a time (as wrk's connections)")
    parser.add_argument("--last-level", type=int, metavar="BYTES",
                        help="with --cache: the simulated last-level cache's size (e.g. one core's L2)")  # fmt: skip
    args = parser.parse_args()
    args.requests = args.requests or (100 if args.instructions or args.cache else 2000)
    if args.in_flight < 1 or args.requests % args.in_flight:
        parser.error("--in-flight must be at least 1 and divide --requests")
    if args.last_level is not None and not args.cache:
        parser.error("--last-level sizes cachegrind's simulated cache: it needs --cache")
    if args.instructions or args.cache:
        count_instructions(args.scenario, args.requests, args.cache, args.in_flight, args.last_level)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # what uvicorn serves on in `make bench`
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
