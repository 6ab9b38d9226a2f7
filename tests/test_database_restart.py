"""A PostgreSQL restart drops every pooled connection. Afterwards no caller sees it: reads retry once on a fresh
connection, and a write whose first statement meets a dead connection (it has done nothing yet) begins again on a
fresh one. (Simulated by terminating the app's server processes, which is what a restart does to them.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import create_engine, text

from db.engine import normalize_url
from tests import factories as f
from tests.conftest import DATABASE_URL, GQL, IS_POSTGRES, Tenant

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="a server restart is PostgreSQL's; SQLite has no server")


@pytest.fixture(autouse=True)
async def fresh_pools_afterwards(services, fast_services) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """The session's shared pools held connections this module killed: a write on one fails by design (503), so
    the dead ones are dropped before later tests borrow them."""
    yield
    for shared in (services, fast_services):
        await shared.db.drop_dead_connections()


def _terminate_other_backends() -> int:
    engine = create_engine(normalize_url(DATABASE_URL, asynchronous=False))
    with engine.begin() as conn:
        killed = conn.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                 " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalar_one()  # fmt: skip
    engine.dispose()
    return int(killed)


async def test_after_a_restart_reads_and_writes_recover_at_once(fast_client: httpx.AsyncClient, tenant: Tenant):
    client, gql, h = fast_client, GQL(fast_client, tenant.key_headers), tenant.key_headers
    course = await f.course(gql)
    variable = await f.variable(gql, course["id"], "NUMBER", "score")
    learner = await f.learner(gql)
    await f.set_value(gql, variable["id"], learner["id"], 1)
    reads = [f"/api/learners/{learner['id']}/variables", f"/api/variables/{variable['id']}/values", "/api/courses",
             f"/api/variables/{variable['id']}/aggregate"]  # fmt: skip
    for path in reads:  # every pool now holds connections
        assert (await client.get(path, headers=h)).status_code == 200
    assert _terminate_other_backends() > 0
    for _ in range(3):
        for path in reads:
            response = await client.get(path, headers=h)
            assert response.status_code == 200, (path, response.text)
    body = {"variable_id": variable["id"], "learner_id": learner["id"], "value": 2}
    assert _terminate_other_backends() > 0
    response = await client.post("/api/variables/set", json=body, headers=h)
    assert response.status_code == 201, response.text
    assert _terminate_other_backends() > 0  # a write through SQLAlchemy's pool (checked at checkout) too
    assert (await f.course(gql, "After the restart"))["name"] == "After the restart"
    graph = await gql("query($id: UUID!) { learner(id: $id) { variables { value } } }", {"id": learner["id"]})
    assert graph["learner"]["variables"] == [{"value": 2}]
