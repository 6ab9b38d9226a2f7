"""`Prepared` statements as the driver gets them: positional placeholders, and each parameter bound in its place.
And which statements the server keeps prepared: not the reads whose cost follows their parameters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from sqlalchemy import text

from app.services import Services
from db.prepared import Compiled
from db.queries import values
from tests import factories as f
from tests.conftest import GQL, IS_POSTGRES, Tenant


def test_named_placeholders_become_positional_and_percent_signs_stay_escaped():
    compiled = Compiled.positional(
        "SELECT %(a)s, '%%(x)s', 100%%%(b)s FROM t WHERE b = %(b)s AND c = %(a)s",
        defaults={"a": None, "b": 7},
        processors={"a": lambda value: value * 2},
    )
    assert compiled.sql == "SELECT %s, '%%(x)s', 100%%%s FROM t WHERE b = %s AND c = %s"
    assert compiled.order == ("a", "b", "b", "a")
    assert compiled.bind({"a": 5}) == (10, 7, 7, 10)  # given, processed, and a default where none was given


@pytest.mark.skipif(not IS_POSTGRES, reason="server-side prepared statements are PostgreSQL's")
async def test_reads_whose_cost_follows_their_parameters_get_a_plan_of_their_own(services: Services):
    async def prepared_after_four_runs(connect: Callable[[], AbstractAsyncContextManager[Any]]) -> int:
        async with connect() as conn:
            for _ in range(4):
                await conn.execute(text("SELECT count(*) FROM learners WHERE org_id = :org"), {"org": uuid.uuid4()})
            return (await conn.execute(text("SELECT count(*) FROM pg_prepared_statements"))).scalar_one()

    assert await prepared_after_four_runs(services.db.read) == 0  # lists, search, aggregates: planned each time
    assert await prepared_after_four_runs(services.db.write) > 0  # the same statement where it is prepared


@pytest.mark.skipif(not IS_POSTGRES, reason="the driver pool exists on PostgreSQL only")
async def test_reads_started_together_in_a_request_share_its_one_connection(fast_services: Services):
    services = fast_services  # the driver path is the engine's
    """Three loaders asking at once: one takes the connection from the pool, the others wait for it, not for three;
    the request gives it back when it ends."""
    db = services.db
    pool = await db._driver_pool()
    await pool.wait()  # its first connection is ready: what the request takes is that one
    before = pool.get_stats().get("requests_num", 0)
    available = pool.get_stats()["pool_available"]

    async def backend_pid() -> int:
        async with db.runner() as runner:
            cursor = await runner.conn.execute("SELECT pg_backend_pid() AS pid")  # type: ignore[attr-defined]
            return (await cursor.fetchone())["pid"]  # type: ignore[no-any-return]

    async with db.request():
        pids = await asyncio.gather(backend_pid(), backend_pid(), backend_pid())
    assert len(set(pids)) == 1
    assert pool.get_stats().get("requests_num", 0) - before == 1
    assert pool.get_stats()["pool_available"] >= available  # given back


async def test_a_runner_transaction_commits_together_or_not_at_all(fast_services: Services, tenant: Tenant, gql: GQL):
    services = fast_services  # the driver path is the engine's
    """What `runner(transaction=True)` runs is kept only if its block ends well, and its connection goes back."""
    course = await f.course(gql)
    variable = uuid.UUID((await f.variable(gql, course["id"], "NUMBER"))["id"])
    learner = uuid.UUID((await f.learner(gql))["id"])
    db = services.db

    def value(n: int) -> values.NewValue:
        return values.NewValue(variable_id=variable, learner_id=learner, course_run_id=None, value=n, value_number=n)

    async def recorded() -> list[int]:
        async with db.read() as conn:
            page = await values.list_values(conn, tenant.org_id, variable, limit=10, offset=0)
        return sorted(row["value"] for row in page.rows)

    with pytest.raises(RuntimeError):
        async with db.runner(transaction=True) as runner:
            await values.record_value(runner, tenant.org_id, value(1))
            raise RuntimeError("the block fails after a write")
    async with db.runner(transaction=True) as runner:
        await values.record_value(runner, tenant.org_id, value(2))
    assert await recorded() == [2]
    if IS_POSTGRES:
        pool = await db._driver_pool()
        assert pool.get_stats()["pool_size"] - pool.get_stats()["pool_available"] == 0  # both given back
