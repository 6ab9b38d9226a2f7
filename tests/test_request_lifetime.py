"""A finished request is freed by reference counting alone, and nothing keeps it afterwards.

What only CPython's cyclic collector can free survives into the older generations under load, and every full
collection then walks it all: the benchmark measured a fifth of the CPU there before graphql-core's executor
cycle was broken (see `execution.leaves`).
"""

from __future__ import annotations

import gc

import httpx

from schema.context import Context
from tests import factories as f
from tests.conftest import GQL, Tenant


def _contexts() -> set[int]:
    return {id(o) for o in gc.get_objects() if isinstance(o, Context)}


async def test_no_request_context_outlives_its_request(fast_client: httpx.AsyncClient, tenant: Tenant):
    """With the engine on: graphql-core's own executor leaves the cycle, which the cyclic collector frees."""
    client, gql = fast_client, GQL(fast_client, tenant.key_headers)
    course = await f.course(gql)
    variable = await f.variable(gql, course["id"])
    learner = await f.learner(gql)
    headers = tenant.key_headers
    set_body = {"variable_id": variable["id"], "learner_id": learner["id"], "value": 3}
    gc.collect()
    before = _contexts()
    gc.disable()  # from here on, only reference counting frees anything
    try:
        assert (await client.post("/api/variables/set", json=set_body, headers=headers)).status_code == 201
        assert (await client.get(f"/api/learners/{learner['id']}/variables", headers=headers)).status_code == 200
        assert (await client.get(f"/api/variables/{variable['id']}/values", headers=headers)).status_code == 200
        assert (await client.get(f"/api/courses/{course['id']}/variables", headers=headers)).status_code == 200
        data = await gql("query($id: UUID!) { learner(id: $id) { variables { name value } } }", {"id": learner["id"]})
        assert data["learner"]["variables"][0]["value"] == 3
        # Refused documents too: Strawberry caches their errors, which must not hold on to the request.
        refused = await gql.raw('{ course(id: "not-a-uuid") { id } }')
        assert "UUID" in refused["errors"][0]["message"]
        assert _contexts() - before == set()
    finally:
        gc.enable()
