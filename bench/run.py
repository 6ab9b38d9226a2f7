"""`make bench`: the app against a hand-written reference, same data, same machine, same run.

Load comes from wrk at a fixed concurrency: a warm-up, then three runs per scenario, app and reference alternated
second by second within each run (see `_run_pair`), medians reported. Results go to stdout and bench/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.dataset import Dataset, Size, generate, reuse

HERE = Path(__file__).parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/coursepipeline_bench"
LEARNER_VARIABLES_QUERY = (
    "query($id: UUID!) { learner(id: $id) { variables { variableId name courseId type courseRunId value "
    "recordedAt valueId } } }"
)
# Courses 2-6: the first course holds the million-value variable, which the `aggregate` scenario measures alone.
NESTED_QUERY = (
    "{ courses(limit: 5, offset: 1) { data { id name variables { id name aggregate { valuesRecorded "
    "learnersWithValue numeric { mean } } } } } }"
)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def steadiness(seconds: int) -> dict[str, float]:
    """How steady this machine's CPU is, measured before the load: one fixed loop run back to back for `seconds`,
    and its average time in each second. On a quiet machine every second is within a few percent of the fastest;
    on a shared host, neighbours' bursts slow whole seconds at a time (seen here: 26 ms a loop, then 45-49 ms for
    two to five seconds), and a server's throughput moves with them. That is why `compare` alternates the two
    sides second by second. Back to back, not spaced out: a loop started after a sleep also measures the CPU
    waking up, which no server under load does."""

    def loop() -> None:
        total = 0
        for i in range(1_000_000):
            total += i

    per_second = []
    for _ in range(seconds):
        started, ends, count = time.process_time(), time.monotonic() + 1, 0
        while time.monotonic() < ends:
            loop()
            count += 1
        per_second.append((time.process_time() - started) / count * 1000)
    return {"fastest_ms": round(min(per_second), 1), "median_ms": round(statistics.median(per_second), 1),
            "slowest_ms": round(max(per_second), 1),
            "slowest_over_fastest": round(max(per_second) / min(per_second), 2)}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _serve(target: str, port: int, env: dict[str, str], factory: bool = False) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
               "--loop", "uvloop", "--http", "httptools", "--workers", "1", "--log-level", "warning",
               "--no-access-log"]  # fmt: skip
    if factory:
        command.append("--factory")
    return subprocess.Popen(command, env={**os.environ, **env}, cwd=HERE.parent)


def _wait(url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _lua(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.lua"
    path.write_text(body)
    return path


SET_MANY_ITEMS = 100  # values a `rest_set_many` request records


def _scripts(folder: Path, data: Dataset) -> dict[str, Path]:
    learners = ",".join(f'"{lid}"' for lid in data.learner_ids[:1000])
    # Propagating sets write three chatbot inputs per learner: learners of their own, so that the learner-values
    # scenarios read the same rows in every run.
    propagated = ",".join(f'"{lid}"' for lid in data.learner_ids[-1000:])
    variables = ",".join(f'"{vid}"' for vid in data.variable_ids[:50])
    common = f"""
math.randomseed(os.time())
local learners = {{{learners}}}
local variables = {{{variables}}}
wrk.headers["X-API-Key"] = "{data.api_key}"
wrk.headers["Content-Type"] = "application/json"
local function pick(list) return list[math.random(#list)] end
"""
    return {
        "rest_set": _lua(
            folder,
            "rest_set",
            common
            + """
request = function()
  local body = string.format('{"variable_id":"%s","learner_id":"%s","value":%d}', pick(variables), pick(learners),
                             math.random(0, 100))
  return wrk.format("POST", "/api/variables/set", nil, body)
end
""",
        ),
        "rest_set_propagating": _lua(
            folder,
            "rest_set_propagating",
            common
            + f"""
local propagated = {{{propagated}}}
request = function()
  local body = string.format('{{"variable_id":"{data.feed_variable_id}","learner_id":"%s","value":%d}}',
                             pick(propagated), math.random(0, 100))
  return wrk.format("POST", "/api/variables/set", nil, body)
end
""",
        ),
        "rest_set_idempotent": _lua(
            folder,
            "rest_set_idempotent",
            common
            + """
-- A new key for every request: a random prefix per thread and wrk run, then a counter.
local prefix, counter = nil, 0
function init(args)
  local source = io.open("/proc/sys/kernel/random/uuid")
  prefix = source:read("*l")
  source:close()
end
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = prefix .. "-" .. counter
  local body = string.format('{"variable_id":"%s","learner_id":"%s","value":%d}', pick(variables), pick(learners),
                             math.random(0, 100))
  return wrk.format("POST", "/api/variables/set", nil, body)
end
""",
        ),
        "rest_set_many": _lua(
            folder,
            "rest_set_many",
            common
            + f"""
request = function()
  local items = {{}}
  for i = 1, {SET_MANY_ITEMS} do
    items[i] = string.format('{{"variable_id":"%s","learner_id":"%s","value":%d}}', pick(variables), pick(learners),
                             math.random(0, 100))
  end
  return wrk.format("POST", "/api/variables/set-many", nil, '{{"values":[' .. table.concat(items, ",") .. ']}}')
end
""",
        ),
        "learner_variables": _lua(
            folder,
            "learner_variables",
            common
            + """
request = function() return wrk.format("GET", "/api/learners/" .. pick(learners) .. "/variables") end
""",
        ),
        "values_page": _lua(
            folder,
            "values_page",
            common
            + f"""
request = function() return wrk.format("GET", "/api/variables/{data.big_variable_id}/values?limit=100") end
""",
        ),
        "graphql_learner_variables": _lua(
            folder,
            "graphql_learner_variables",
            common
            + f"""
request = function()
  local body = string.format('{{"query":"{LEARNER_VARIABLES_QUERY}","variables":{{"id":"%s"}}}}', pick(learners))
  return wrk.format("POST", "/graphql", nil, body)
end
""",
        ),
        "graphql_nested": _lua(
            folder,
            "graphql_nested",
            common
            + f"""
request = function()
  return wrk.format("POST", "/graphql", nil, '{{"query":"{NESTED_QUERY}"}}')
end
""",
        ),
        "ref_nested": _lua(
            folder,
            "ref_nested",
            common
            + """
request = function() return wrk.format("GET", "/nested?limit=5&offset=1") end
""",
        ),
    }


# A pause after each slice: wrk stops sending, but the server still finishes the requests it holds (tens of
# milliseconds of CPU), which must not run into the other side's slice.
SETTLE_SECONDS = 0.2
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    assert match, text
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(base: str, script: Path, seconds: int, connections: int) -> WrkResult:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{script.name}: {errors.group(1)} failed responses\n{out}")
    done = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    assert done and p50 and p99, out
    return WrkResult(int(done.group(1)), _ms(done.group(2)) / 1000, _ms(p50.group(1)), _ms(p99.group(1)))


def _run_pair(
    app: tuple[str, Path], ref: tuple[str, Path], args: argparse.Namespace, app_first: bool
) -> tuple[WrkResult, WrkResult]:
    """One run of each side, `args.seconds` of load apiece, alternated slice by slice (`args.slice` seconds).

    A run's throughput is its requests over its seconds; its latencies are the median of its slices'. Alternating
    seconds rather than whole runs puts both sides through the same bursts of the host's other tenants, which
    last seconds (see `steadiness`): alternating whole 10-second runs left one run's pairs of the same code as far
    apart as 0.66 and 0.97."""
    slices = max(1, round(args.seconds / args.slice))
    taken: dict[str, list[WrkResult]] = {"app": [], "ref": []}
    for i in range(slices):
        order = [("app", app), ("ref", ref)] if (i % 2 == 0) == app_first else [("ref", ref), ("app", app)]
        for side, (base, script) in order:
            taken[side].append(wrk(base, script, min(args.slice, args.seconds), args.connections))
            if slices > 1:
                time.sleep(SETTLE_SECONDS)

    def total(results: list[WrkResult]) -> WrkResult:
        return WrkResult(sum(r.requests for r in results), sum(r.seconds for r in results),
                         statistics.median(r.p50_ms for r in results),
                         statistics.median(r.p99_ms for r in results))  # fmt: skip

    return total(taken["app"]), total(taken["ref"])


def compare(
    name: str,
    app: tuple[str, Path],
    ref: tuple[str, Path],
    args: argparse.Namespace,
    connections: int | None = None,
    whole_runs: bool = False,
    per_request: int = 1,
) -> dict[str, Any]:
    """`whole_runs` alternates whole runs instead of slices: for requests that take longer than a slice, which a
    slice would cut off mid-flight (wrk drops its connections, the server finishes them into the next slice).
    `per_request`: values a request records, to report values/s."""
    if connections is not None:
        args = argparse.Namespace(**{**vars(args), "connections": connections})
    if whole_runs:
        args = argparse.Namespace(**{**vars(args), "slice": args.seconds})
    wrk(app[0], app[1], 1, args.connections)
    wrk(ref[0], ref[1], 1, args.connections)
    apps, refs = [], []
    for i in range(args.runs):
        a_run, r_run = _run_pair(app, ref, args, app_first=i % 2 == 0)
        apps.append(a_run)
        refs.append(r_run)
    a = statistics.median(r.rps for r in apps) * per_request
    r = statistics.median(x.rps for x in refs) * per_request
    return {"name": name, "app": round(a, 1), "reference": round(r, 1), "ratio": round(a / r, 3) if r else None,
            "unit": "req/s" if per_request == 1 else "val/s",
            "pair_ratios": _pair_ratios([x.rps for x in apps], [x.rps for x in refs]),
            "app_p50_ms": round(statistics.median(x.p50_ms for x in apps), 2),
            "app_p99_ms": round(statistics.median(x.p99_ms for x in apps), 2),
            "reference_p50_ms": round(statistics.median(x.p50_ms for x in refs), 2),
            "reference_p99_ms": round(statistics.median(x.p99_ms for x in refs), 2)}  # fmt: skip


def _pair_ratios(apps: list[float], refs: list[float]) -> list[float]:
    """app/reference of each alternated pair: how far one run's ratio can stray from the medians' on this machine."""
    return [round(a / r, 3) for a, r in zip(apps, refs, strict=True) if r]


def same_answers(app: str, ref: str, data: Dataset, database_url: str) -> None:
    """Before timing anything: both servers give the same answers, so the ratios compare the same work (a key
    confined to courses sees nothing of where a value was carried: both carry it, as the database shows)."""
    headers = {"X-API-Key": data.api_key}
    paths = [f"/api/learners/{learner}/variables" for learner in data.learner_ids[:3]]
    paths.append(f"/api/variables/{data.big_variable_id}/values?limit=100")
    with httpx.Client(timeout=60, headers=headers) as client:
        for path in paths:
            ours, theirs = client.get(app + path), client.get(ref + path)
            if ours.status_code != 200 or ours.json() != theirs.json():
                raise RuntimeError(f"app and reference disagree on GET {path}:\n{ours.text[:300]}\n{theirs.text[:300]}")
        for variable, learner in (
            (data.variable_ids[0], data.learner_ids[0]),
            (data.feed_variable_id, data.learner_ids[-1]),
        ):
            body = {"variable_id": str(variable), "learner_id": str(learner), "value": 7}
            ours, theirs = (client.post(base + "/api/variables/set", json=body).json() for base in (app, ref))
            same = ours.keys() == theirs.keys() and [p["variable_id"] for p in ours.get("propagated", ())] == [
                p["variable_id"] for p in theirs.get("propagated", ())
            ]
            carried = [_copies(database_url, answer["id"]) for answer in (ours, theirs)]
            if not same or carried != [3 if variable == data.feed_variable_id else 0] * 2:
                raise RuntimeError(f"app and reference disagree on POST /api/variables/set:\n{ours}\n{theirs}")


def _copies(database_url: str, value_id: str) -> int:
    """How many copies connections recorded of a value."""
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        row = conn.execute("SELECT count(*) FROM variable_values WHERE source_value_id = %s", (value_id,)).fetchone()
    return int(row[0]) if row else 0


def aggregate_scenario(base: str, data: Dataset, database_url: str, samples: int) -> dict[str, Any]:
    """GET the big variable's aggregate through the app, against the same SQL timed directly through psycopg."""
    statements = _captured_aggregate_sql(database_url, data)
    headers = {"X-API-Key": data.api_key}
    url = f"{base}/api/variables/{data.big_variable_id}/aggregate"
    dsn = database_url.replace("postgresql+psycopg", "postgresql")

    def through_app() -> None:
        client.get(url, headers=headers).raise_for_status()

    def direct() -> None:
        for sql, params in statements:
            conn.execute(sql, params).fetchall()

    app_times: list[float] = []
    ref_times: list[float] = []
    with httpx.Client(timeout=120) as client, psycopg.connect(dsn) as conn:
        through_app()  # warm both
        direct()
        for i in range(samples):  # alternated sample by sample, so a drift in the machine's speed moves both alike
            order = [(through_app, app_times), (direct, ref_times)]
            for run, sink in order if i % 2 == 0 else reversed(order):
                started = time.perf_counter()
                run()
                sink.append((time.perf_counter() - started) * 1000)
    a, r = statistics.median(app_times), statistics.median(ref_times)
    return {"name": "aggregate", "app": round(a, 2), "reference": round(r, 2), "ratio": round(a / r, 3), "unit": "ms",
            "pair_ratios": _pair_ratios(app_times, ref_times),
            "app_p50_ms": round(a, 2), "app_p99_ms": round(max(app_times), 2),
            "reference_p50_ms": round(r, 2), "reference_p99_ms": round(max(ref_times), 2)}  # fmt: skip


def _captured_aggregate_sql(database_url: str, data: Dataset) -> list[tuple[str, Any]]:
    """The exact statements the data layer sends for one aggregate, with their parameters."""
    from sqlalchemy import event

    from db.engine import Database
    from db.queries.stats import aggregates

    captured: list[tuple[str, Any]] = []

    async def run() -> None:
        db = Database.from_url(database_url)

        def grab(conn, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters))

        event.listen(db.read_engine.sync_engine, "before_cursor_execute", grab)
        async with db.read() as conn:
            await aggregates(conn, data.org_id, [data.big_variable_id])
        await db.dispose()

    asyncio.run(run())
    return captured


def nested_statement_count(database_url: str, data: Dataset) -> int:
    from access.principal import ApiKeyPrincipal
    from app.services import Services
    from app.settings import Settings

    async def run() -> int:
        services = Services.build(Settings(database_url=database_url, supabase_jwt_secret="x" * 40))
        context = services.graphql.context(ApiKeyPrincipal(uuid.uuid4(), data.org_id))
        with services.db.recording() as statements:
            result = await services.schema.execute(NESTED_QUERY, context_value=context)
        assert not result.errors, result.errors
        await services.db.dispose()
        return len(statements)

    return asyncio.run(run())


def backfill_figure(database_url: str, data: Dataset) -> dict[str, Any]:
    """Connects the big variable (one current value for each of the data set's learners) to a new chatbot's input
    with `backfill`, times the connect, and rolls it all back, so the data set stays as it was."""
    from sqlalchemy import text

    from db.engine import Database
    from db.models import ComponentKind
    from db.queries import chatbots, pipelines

    async def run() -> dict[str, Any]:
        db = Database.from_url(database_url)
        try:
            async with db.engine.connect() as conn:
                transaction = await conn.begin()
                await conn.execute(
                    text("UPDATE variables SET direction = 'output' WHERE id = :id"), {"id": data.big_variable_id}
                )
                bot = await chatbots.insert_chatbot(conn, data.org_id, {"name": "Backfill", "kind": "general"})
                target = uuid.uuid4()
                await conn.execute(
                    text("INSERT INTO variables (id, org_id, chatbot_id, course_key, name, type, active, direction,"
                         " created_at, updated_at) VALUES (:id, :org, :bot, :bot, 'score_in', 'number', true,"
                         " 'input', now(), now())"),
                    {"id": target, "org": data.org_id, "bot": bot["id"]},
                )  # fmt: skip
                pipeline = await pipelines.insert_pipeline(conn, data.org_id, {"name": f"Backfill {uuid.uuid4()}"})
                owner = text("SELECT course_id FROM variables WHERE id = :id")
                course = (await conn.execute(owner, {"id": data.big_variable_id})).scalar_one()
                await pipelines.add_node(conn, data.org_id, pipeline["id"], ComponentKind.COURSE, course, 0, 0)
                await pipelines.add_node(conn, data.org_id, pipeline["id"], ComponentKind.CHATBOT, bot["id"], 0, 0)
                started = time.perf_counter()
                done = await pipelines.connect(
                    conn, data.org_id, pipeline["id"], data.big_variable_id, target, backfill=True
                )
                seconds = time.perf_counter() - started
                await transaction.rollback()
        finally:
            await db.dispose()
        return {"values": done.backfilled, "seconds": round(seconds, 2)}

    return asyncio.run(run())


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def export_figure(base: str, pid: int, data: Dataset) -> dict[str, Any]:
    """Streams the big variable's values as CSV from the app, counting rows, while a thread samples the server's
    resident memory every 20 ms: flat memory means the export is not built in memory."""
    import threading

    before = _rss_mib(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    rows = -1  # the header
    started = time.perf_counter()
    try:
        url = f"{base}/api/variables/{data.big_variable_id}/values.csv"
        with httpx.stream("GET", url, headers={"X-API-Key": data.api_key}, timeout=600) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                rows += chunk.count(b"\r\n")
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": round(seconds, 1), "rows_per_second": round(rows / seconds),
            "rss_before_mib": round(before, 1), "rss_peak_mib": round(peak[0], 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the harness (< 2 minutes)")
    parser.add_argument("--learners", type=int)
    parser.add_argument("--values", type=int)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--slice", type=int, default=1, help="seconds of load per side before switching sides within a run (default 1)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--reuse", action="store_true", help="keep the data set an earlier run generated")
    parser.add_argument("--only", help="comma-separated scenario names to run (default: all)")
    args = parser.parse_args(argv)
    if args.slice < 1 or args.seconds < 1:
        parser.error("--slice and --seconds are whole seconds, at least 1")
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    size = Size.smoke() if args.smoke else Size()
    if args.learners:
        size = Size(**{**size.__dict__, "learners": args.learners})
    if args.values:
        size = Size(**{**size.__dict__, "values": args.values, "big_values": args.values // 2})
    if args.smoke:
        args.seconds, args.runs = 1, 1

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if "coursepipeline_bench" not in database_url and not args.smoke:
        print("note: the benchmark drops and refills the database it is given")
    if database_url.rsplit("/", 1)[1] == "test":
        database_url = database_url.rsplit("/", 1)[0] + "/coursepipeline_bench"
    _ensure_database(database_url)
    data = (reuse(database_url) if args.reuse else None) or generate(database_url, database_url, size)
    steady = steadiness(2 if args.smoke else 10)
    print(f"CPU steadiness: a fixed loop took {steady['fastest_ms']}-{steady['slowest_ms']} ms of CPU, second by "
          f"second (slowest/fastest {steady['slowest_over_fastest']})")  # fmt: skip

    app_port, ref_port = _free_port(), _free_port()
    env = {"DATABASE_URL": database_url, "COURSEPIPELINE_RATE_LIMITS": "100000000/minute;1000000000/day",
           "SUPABASE_JWT_SECRET": "bench-secret-" + "x" * 40, "COURSEPIPELINE_LOG_LEVEL": "warning",
           "BENCH_DSN": database_url}  # fmt: skip
    env.pop("REDIS_URL", None)
    processes = [_serve("bench.serve:app_factory", app_port, env, factory=True),
                 _serve("bench.reference:app", ref_port, env)]  # fmt: skip
    try:
        app, ref = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{ref_port}"
        headers = {"X-API-Key": data.api_key}
        _wait(f"{app}/health", headers)
        _wait(f"{ref}/api/learners/{data.learner_ids[0]}/variables", headers)
        same_answers(app, ref, data, database_url)
        with tempfile.TemporaryDirectory() as tmp:
            s = _scripts(Path(tmp), data)
            scenarios: dict[str, Callable[[], dict[str, Any]]] = {
                "rest_set": lambda: compare("rest_set", (app, s["rest_set"]), (ref, s["rest_set"]), args),
                "rest_set_propagating": lambda: compare(
                    "rest_set_propagating", (app, s["rest_set_propagating"]), (ref, s["rest_set_propagating"]), args
                ),
                "rest_set_idempotent": lambda: compare(
                    "rest_set_idempotent", (app, s["rest_set_idempotent"]), (ref, s["rest_set_idempotent"]), args
                ),
                "rest_set_many": lambda: compare(
                    "rest_set_many", (app, s["rest_set_many"]), (ref, s["rest_set_many"]), args,
                    per_request=SET_MANY_ITEMS,
                ),
                "rest_learner_variables": lambda: compare(
                    "rest_learner_variables", (app, s["learner_variables"]), (ref, s["learner_variables"]), args
                ),
                "rest_values_page": lambda: compare(
                    "rest_values_page", (app, s["values_page"]), (ref, s["values_page"]), args
                ),
                "graphql_learner_variables": lambda: compare(
                    "graphql_learner_variables", (app, s["graphql_learner_variables"]), (ref, s["learner_variables"]),
                    args,
                ),
                # Heavy requests: fewer connections than the pools hold, so neither side queues for a connection.
                "graphql_nested": lambda: compare(
                    "graphql_nested", (app, s["graphql_nested"]), (ref, s["ref_nested"]), args, connections=8,
                    whole_runs=True,
                ),
                "aggregate": lambda: aggregate_scenario(app, data, database_url, 3 if args.smoke else 15),
            }  # fmt: skip
            chosen = args.only.split(",") if args.only else list(scenarios)
            unknown = set(chosen) - set(scenarios) - {"backfill", "export"}
            if unknown:
                raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
            results = [scenarios[name]() for name in chosen if name in scenarios]
        statements = nested_statement_count(database_url, data) if "graphql_nested" in chosen else None
        backfill = backfill_figure(database_url, data) if "backfill" in chosen or not args.only else None
        export = export_figure(app, processes[0].pid, data) if "export" in chosen or not args.only else None
    finally:
        for p in processes:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    for r in results:
        if r["name"] == "graphql_nested":
            r["sql_statements"] = statements
    print(f"\n{'scenario':28} {'app':>10} {'reference':>10} {'ratio':>7} {'unit':>6} {'app p50/p99 ms':>17}"
          f"  {'pairs: min-max':>15}")  # fmt: skip
    for r in results:
        spread = f"{min(r['pair_ratios'])}-{max(r['pair_ratios'])}" if r["pair_ratios"] else ""
        print(f"{r['name']:28} {r['app']:>10} {r['reference']:>10} {r['ratio']!s:>7} {r['unit']:>6} "
              f"{r['app_p50_ms']:>8}/{r['app_p99_ms']:<8}  {spread:>15}")  # fmt: skip
    if statements is not None:
        print(f"graphql_nested issues {statements} SQL statements per request")
    if backfill is not None:
        print(f"backfill: {backfill['values']} current values copied in {backfill['seconds']} s (rolled back)")
    if export is not None:
        print(
            f"export: {export['rows']} values as CSV in {export['seconds']} s ({export['rows_per_second']} rows/s); "
            f"server memory {export['rss_before_mib']} MiB before, {export['rss_peak_mib']} MiB at most during"
        )
    machine = {"cores": os.cpu_count(), "python": sys.version.split()[0], "size": size.__dict__,
               "smoke": args.smoke, "seconds": args.seconds, "runs": args.runs,
               "connections": args.connections, "slice": args.slice, "cpu_steadiness": steady}  # fmt: skip
    output = {"scenarios": results, "machine": machine, "backfill": backfill, "export": export}
    (HERE / "results.json").write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
