"""The hand-written reference: plain Starlette and a psycopg pool running the same SQL, no GraphQL, no ORM.

It does what a careful hand-written endpoint would: the same key check (SHA-256, cached briefly), the same
statements, orjson. The benchmark reports the app's numbers as ratios against this, measured in the same run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

NIL = uuid.UUID(int=0)


async def _configure(conn: AsyncConnection[Any]) -> None:
    set_json_loads(orjson.loads, conn)  # the app's driver setup: jsonb read with orjson, reads in autocommit


pool = AsyncConnectionPool(os.environ["BENCH_DSN"], min_size=4, max_size=10, open=False, configure=_configure,
                           kwargs={"autocommit": True, "row_factory": dict_row, "prepare_threshold": 2})  # fmt: skip


class Caller(NamedTuple):
    org: uuid.UUID
    key_id: uuid.UUID
    courses: frozenset[uuid.UUID] | None  # a confined key's courses, None for the whole organization

    def sees(self, course_id: uuid.UUID | None) -> bool:
        return self.courses is None or course_id in self.courses


_keys: dict[str, tuple[Caller, float]] = {}  # digest -> (caller, cached until)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _time(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def _caller(request: Request) -> Caller | None:
    """The request's API key, with its organization and the courses it is confined to; None if unknown."""
    secret = request.headers.get("x-api-key", "")
    digest = hashlib.sha256(secret.encode()).hexdigest()
    hit = _keys.get(digest)
    if hit and hit[1] > time.monotonic():
        return hit[0]
    async with pool.connection() as conn:
        row = await (await conn.execute(
            "SELECT id, org_id, course_ids FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL",
            (digest,))).fetchone()  # fmt: skip
    if row is None:
        return None
    courses = None if row["course_ids"] is None else frozenset(uuid.UUID(c) for c in row["course_ids"])
    caller = Caller(row["org_id"], row["id"], courses)
    _keys[digest] = (caller, time.monotonic() + 5)
    return caller


async def set_variable(request: Request) -> Response:
    caller = await _caller(request)
    if caller is None:
        return _json({"error": "unauthorized", "message": "bad key"}, 401)
    org, key_id = caller.org, caller.key_id
    body_bytes = await request.body()
    body = orjson.loads(body_bytes)
    variable_id, learner_id = uuid.UUID(body["variable_id"]), uuid.UUID(body["learner_id"])
    async with pool.connection() as conn, conn.transaction():
        target = await (await conn.execute(
            """SELECT v.type, v.active, v.course_id,
                      (SELECT true FROM learners WHERE id = %s AND org_id = %s) AS learner_ok,
                      NULL::uuid AS run_course_id,
                      EXISTS (SELECT * FROM pipeline_connections c
                              WHERE c.source_variable_id = v.id AND c.active_target IS NOT NULL) AS feeds
               FROM variables v WHERE v.id = %s AND v.org_id = %s""",
            (learner_id, org, variable_id, org))).fetchone()  # fmt: skip
        if target is None or not caller.sees(target["course_id"]) or not target["learner_ok"]:
            return _json({"error": "not_found", "message": "not found"}, 404)
        value = float(body["value"])
        value_id, now, stored = uuid.uuid4(), datetime.now(UTC), orjson.dumps(value).decode()
        await conn.execute(
            """INSERT INTO variable_values (id, org_id, variable_id, learner_id, course_run_id, value, value_number,
                                            recorded_at, recorded_by_key_id, recorded_by_user)
               VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, NULL)""",
            (value_id, org, variable_id, learner_id, stored, value, now, key_id))  # fmt: skip
        await _advance(conn, org, variable_id, learner_id, value_id, stored, value, now)
        if target["course_id"] is not None:
            await _enroll(conn, org, learner_id, target["course_id"])
        propagated = []
        if target["feeds"]:  # the same writes for each connected input, by hand, in the same transaction
            connections = await (await conn.execute(
                """SELECT c.id AS connection_id, v.id AS variable_id, v.type, v.course_id
                   FROM pipeline_connections c JOIN variables v ON v.id = c.target_variable_id
                   WHERE c.org_id = %s AND c.source_variable_id = %s AND c.active_target IS NOT NULL
                   ORDER BY c.created_at, c.id""", (org, variable_id))).fetchall()  # fmt: skip
            at = now  # each copy is recorded at its source's time, as the app records it
            carried = [(uuid.uuid4(), c) for c in connections]
            async with conn.cursor() as cur:  # each statement once per target, sent together, as the app does
                await cur.executemany(
                    """INSERT INTO variable_values (id, org_id, variable_id, learner_id, course_run_id, value,
                         value_number, recorded_at, recorded_by_key_id, recorded_by_user, source_value_id,
                         connection_id) VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, NULL, %s, %s)""",
                    [(carried_id, org, c["variable_id"], learner_id, stored, value, at, key_id, value_id,
                      c["connection_id"]) for carried_id, c in carried])  # fmt: skip
                await cur.executemany(ADVANCE, [(c["variable_id"], learner_id, NIL, org, carried_id, stored, value, at)
                                                for carried_id, c in carried])  # fmt: skip
            courses = [c["course_id"] for c in connections if c["course_id"] is not None]
            for course_id in courses:
                await _enroll(conn, org, learner_id, course_id)
            if caller.courses is None:  # a key confined to courses sees nothing of pipelines, as in the app
                propagated = [{"variable_id": str(c["variable_id"]), "value_id": str(carried_id),
                               "connection_id": str(c["connection_id"])} for carried_id, c in carried]  # fmt: skip
        answer = {"id": str(value_id), "variable_id": str(variable_id), "learner_id": str(learner_id),
                  "course_run_id": None, "value": value, "recorded_at": _time(now),
                  "propagated": propagated}  # fmt: skip
        idempotency_key = request.headers.get("idempotency-key")
        if idempotency_key is not None:  # the claim and its answer, written once with the value
            await conn.execute(
                """INSERT INTO idempotency_keys (org_id, caller, key, fingerprint, status, response, created_at,
                                                 expires_at)
                   VALUES (%s, %s, %s, %s, 201, %s, %s, %s + interval '24 hours')""",
                (org, f"ref:{key_id}", idempotency_key, hashlib.sha256(body_bytes).hexdigest(),
                 orjson.dumps(answer).decode(), now, now))  # fmt: skip
    return _json(answer, 201)


ADVANCE = """INSERT INTO current_values (variable_id, learner_id, run_key, org_id, course_run_id, value_id, value,
                                        value_number, recorded_at)
             VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s)
             ON CONFLICT (variable_id, learner_id, run_key) DO UPDATE SET value_id = excluded.value_id,
               value = excluded.value, value_number = excluded.value_number, recorded_at = excluded.recorded_at
             WHERE current_values.recorded_at <= excluded.recorded_at"""


async def _advance(conn: AsyncConnection[Any], org: uuid.UUID, variable_id: uuid.UUID, learner_id: uuid.UUID,
                   value_id: uuid.UUID, stored: str, value: float, at: datetime) -> None:  # fmt: skip
    await conn.execute(ADVANCE, (variable_id, learner_id, NIL, org, value_id, stored, value, at))


async def _enroll(conn: AsyncConnection[Any], org: uuid.UUID, learner_id: uuid.UUID, course_id: uuid.UUID) -> None:
    await conn.execute(
        """INSERT INTO enrollments (id, org_id, learner_id, course_id, course_run_id, run_key, enrolled_at)
           VALUES (%s, %s, %s, %s, NULL, %s, %s) ON CONFLICT (learner_id, course_id, run_key) DO NOTHING""",
        (uuid.uuid4(), org, learner_id, course_id, NIL, datetime.now(UTC)),
    )


async def learner_variables(request: Request) -> Response:
    caller = await _caller(request)
    if caller is None:
        return _json({"error": "unauthorized", "message": "bad key"}, 401)
    org = caller.org
    learner_id = uuid.UUID(request.path_params["learner_id"])
    async with pool.connection() as conn:
        exists = await (await conn.execute(
            """SELECT email, name, external_id, id, org_id, email_normalized, created_at FROM learners
               WHERE org_id = %s AND id = %s""", (org, learner_id))).fetchone()  # fmt: skip
        if exists is None:
            return _json({"error": "not_found", "message": "not found"}, 404)
        rows = await (await conn.execute(
            """SELECT c.value_id AS id, c.variable_id, c.learner_id, c.course_run_id, c.value, c.recorded_at,
                      v.name AS variable_name, v.course_id, v.type
               FROM current_values c JOIN variables v ON v.id = c.variable_id
               WHERE c.org_id = %s AND c.learner_id = %s ORDER BY v.name, c.run_key, c.variable_id""",
            (org, learner_id))).fetchall()  # fmt: skip
    rows = [r for r in rows if caller.sees(r["course_id"])]
    data = [{"variable_id": str(r["variable_id"]), "name": r["variable_name"], "course_id": _id(r["course_id"]),
             "type": r["type"], "course_run_id": None, "value": r["value"], "recorded_at": _time(r["recorded_at"]),
             "value_id": str(r["id"])} for r in rows]  # fmt: skip
    return _json({"data": data, "pagination": {"limit": 100, "offset": 0, "has_more": False, "next_cursor": None}})


async def values_page(request: Request) -> Response:
    caller = await _caller(request)
    if caller is None:
        return _json({"error": "unauthorized", "message": "bad key"}, 401)
    org = caller.org
    variable_id = uuid.UUID(request.path_params["variable_id"])
    limit = int(request.query_params.get("limit", 100))
    async with pool.connection() as conn:
        exists = await (await conn.execute(
            """SELECT name, description, type, active, default_value, id, org_id, course_id, chatbot_id, course_key,
                      direction, created_at, updated_at FROM variables WHERE org_id = %s AND id = %s""",
            (org, variable_id))).fetchone()  # fmt: skip
        if exists is None or not caller.sees(exists["course_id"]):
            return _json({"error": "not_found", "message": "not found"}, 404)
        rows = await (await conn.execute(
            """SELECT id, variable_id, learner_id, course_run_id, value, recorded_at FROM variable_values
               WHERE org_id = %s AND variable_id = %s ORDER BY recorded_at DESC, id DESC LIMIT %s OFFSET %s""",
            (org, variable_id, limit + 1, 0))).fetchall()  # fmt: skip
    data = [{"id": str(r["id"]), "variable_id": str(r["variable_id"]), "learner_id": str(r["learner_id"]),
             "course_run_id": None, "value": r["value"], "recorded_at": _time(r["recorded_at"])}
            for r in rows[:limit]]  # fmt: skip
    has_more = len(rows) > limit
    last = rows[limit - 1] if has_more else None
    cursor = _cursor(["values", last["recorded_at"].isoformat(), str(last["id"])]) if last else None
    return _json({"data": data, "pagination": {"limit": limit, "offset": 0, "has_more": has_more,
                                               "next_cursor": cursor}})  # fmt: skip


_CURSOR_KEY = hmac.new(os.environ["SUPABASE_JWT_SECRET"].encode(), b"coursepipeline page cursor", "sha256").digest()


def _cursor(position: list[str]) -> str:
    """The page cursor the app answers: the position, signed with the server's secret."""
    payload = orjson.dumps(position)
    tag = hmac.new(_CURSOR_KEY, payload, "sha256").digest()[:16]
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode()


async def nested(request: Request) -> Response:
    """courses(limit) -> variables -> aggregate counts, hand-written with one statement per level."""
    caller = await _caller(request)
    if caller is None:
        return _json({"error": "unauthorized", "message": "bad key"}, 401)
    org = caller.org
    limit = int(request.query_params.get("limit", 5))
    offset = int(request.query_params.get("offset", 0))
    async with pool.connection() as conn:
        only = "" if caller.courses is None else " AND id = ANY(%(only)s)"  # a confined key's courses, before paging
        courses = await (await conn.execute(
            f"SELECT id, name FROM courses WHERE org_id = %(org)s{only} ORDER BY created_at, id"
            " LIMIT %(limit)s OFFSET %(offset)s",
            {"org": org, "only": list(caller.courses or ()), "limit": limit, "offset": offset})).fetchall()  # fmt: skip
        ids = [c["id"] for c in courses]
        variables = await (await conn.execute(
            "SELECT id, course_id, name FROM variables WHERE org_id = %s AND course_id = ANY(%s)"
            " ORDER BY created_at, id", (org, ids))).fetchall()  # fmt: skip
        var_ids = [v["id"] for v in variables]
        counts = await (await conn.execute(
            """SELECT variable_id, count(*) AS n, count(DISTINCT learner_id) AS learners, avg(value_number) AS mean
               FROM current_values WHERE org_id = %s AND variable_id = ANY(%s) GROUP BY variable_id""",
            (org, var_ids))).fetchall()  # fmt: skip
        recorded = await (await conn.execute(
            "SELECT variable_id, count(*) AS n FROM variable_values WHERE org_id = %s AND variable_id = ANY(%s)"
            " GROUP BY variable_id", (org, var_ids))).fetchall()  # fmt: skip
    by_var = {r["variable_id"]: r for r in counts}
    rec = {r["variable_id"]: r["n"] for r in recorded}
    out = [{"id": str(c["id"]), "name": c["name"], "variables": [
        {"id": str(v["id"]), "name": v["name"], "aggregate": {
            "valuesRecorded": rec.get(v["id"], 0),
            "learnersWithValue": by_var[v["id"]]["learners"] if v["id"] in by_var else 0,
            "mean": float(by_var[v["id"]]["mean"]) if v["id"] in by_var and by_var[v["id"]]["mean"] else None}}
        for v in variables if v["course_id"] == c["id"]]} for c in courses]  # fmt: skip
    return _json({"data": {"courses": {"data": out}}})


HISTORY = """INSERT INTO variable_values (id, org_id, variable_id, learner_id, course_run_id, value, value_number,
                                         recorded_at, recorded_by_key_id, recorded_by_user)
             VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, NULL)"""
ENROLL = """INSERT INTO enrollments (id, org_id, learner_id, course_id, course_run_id, run_key, enrolled_at)
            VALUES (%s, %s, %s, %s, NULL, %s, %s) ON CONFLICT (learner_id, course_id, run_key) DO NOTHING"""


async def set_many(request: Request) -> Response:
    """A batch of number values (no runs, no connections), checked and written by hand in one transaction."""
    caller = await _caller(request)
    if caller is None:
        return _json({"error": "unauthorized", "message": "bad key"}, 401)
    org, key_id = caller.org, caller.key_id
    items = orjson.loads(await request.body())["values"]
    variable_ids = list({uuid.UUID(i["variable_id"]) for i in items})
    learner_ids = list({uuid.UUID(i["learner_id"]) for i in items})
    async with pool.connection() as conn, conn.transaction():
        found = await (await conn.execute(
            """SELECT v.id, v.type, v.active, v.course_id,
                      EXISTS (SELECT * FROM pipeline_connections c
                              WHERE c.source_variable_id = v.id AND c.active_target IS NOT NULL) AS feeds
               FROM variables v WHERE v.org_id = %s AND v.id = ANY(%s)""", (org, variable_ids))).fetchall()  # fmt: skip
        known = await (await conn.execute(
            "SELECT id FROM learners WHERE org_id = %s AND id = ANY(%s)", (org, learner_ids))).fetchall()  # fmt: skip
        found = [v for v in found if caller.sees(v["course_id"])]
        if len(found) != len(variable_ids) or len(known) != len(learner_ids):
            return _json({"error": "invalid_input", "message": "unknown ids"}, 400)
        courses = {v["id"]: v["course_id"] for v in found}
        now = datetime.now(UTC)
        rows: list[tuple[Any, ...]] = []
        latest: dict[tuple[uuid.UUID, uuid.UUID], tuple[Any, ...]] = {}
        enrolments: dict[tuple[uuid.UUID, uuid.UUID], tuple[Any, ...]] = {}
        for item in items:
            variable_id, learner_id = uuid.UUID(item["variable_id"]), uuid.UUID(item["learner_id"])
            value = float(item["value"])
            row = (uuid.uuid4(), org, variable_id, learner_id, orjson.dumps(value).decode(), value, now, key_id)
            rows.append(row)
            latest[variable_id, learner_id] = (variable_id, learner_id, NIL, org, row[0], row[4], value, now)
            if courses[variable_id] is not None:
                enrolments[learner_id, courses[variable_id]] = (uuid.uuid4(), org, learner_id, courses[variable_id],
                                                                NIL, now)  # fmt: skip
        async with conn.cursor() as cur:
            await cur.executemany(HISTORY, rows)
            await cur.executemany(ADVANCE, [latest[k] for k in sorted(latest)])  # key order: no deadlocks
            await cur.executemany(ENROLL, [enrolments[k] for k in sorted(enrolments)])
    data = [{"id": str(r[0]), "variable_id": str(r[2]), "learner_id": str(r[3]), "course_run_id": None,
             "value": r[5], "recorded_at": _time(now), "propagated": []} for r in rows]  # fmt: skip
    return _json({"data": data}, 201)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await pool.open()
    yield
    await pool.close()


async def _gone(request: Request, exc: Exception) -> Response:
    # wrk drops its connections when a timed run ends; a request cut off mid-body is not an error worth a traceback.
    return Response(status_code=499)


app = Starlette(
    exception_handlers={ClientDisconnect: _gone},
    routes=[
        Route("/api/variables/set", set_variable, methods=["POST"]),
        Route("/api/variables/set-many", set_many, methods=["POST"]),
        Route("/api/learners/{learner_id}/variables", learner_variables),
        Route("/api/variables/{variable_id}/values", values_page),
        Route("/nested", nested),
    ],
    lifespan=lifespan,
)
