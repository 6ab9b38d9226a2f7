"""API keys beyond create and revoke: scopes, rolling with a grace period, and usage per day."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from access.usage import UsageCounter
from db.queries import usage
from rest.endpoints import ENDPOINTS
from tests import factories as f
from tests.conftest import GQL, Tenant, app_client, make_tenant


async def new_key(client: httpx.AsyncClient, tenant: Tenant, **body: object) -> str:
    answer = await client.post("/api/api-keys", json={"name": "scoped", **body}, headers=tenant.user_headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["key"]


async def test_scopes_limit_what_a_key_may_do(client, tenant, gql):  # type: ignore[no-untyped-def]
    course = await f.course(gql)
    variable = await f.variable(gql, course["id"], "NUMBER", "score")
    learner = await f.learner(gql)
    value = {"variable_id": variable["id"], "learner_id": learner["id"], "value": 1}
    create = {"query": 'mutation { createCourse(input: {name: "x"}) { __typename } }'}
    read = await new_key(client, tenant, scopes=["read"])
    write = await new_key(client, tenant, scopes=["write"])
    expected = {  # (GET, set a value, another change) per key
        read: (200, 403, "FORBIDDEN"),
        write: (200, 201, "FORBIDDEN"),
        tenant.key: (200, 201, None),
    }
    for key, (get, setting, changing) in expected.items():
        h = {"X-API-Key": key}
        assert (await client.get(f"/api/variables/{variable['id']}/values", headers=h)).status_code == get
        assert (await client.post("/api/variables/set", json=value, headers=h)).status_code == setting
        errors = (await client.post("/graphql", json=create, headers=h)).json().get("errors") or [{}]
        assert errors[0].get("extensions", {}).get("code") == changing
    data = (
        await client.post("/graphql", json={"query": "{ courses { data { id } } }"}, headers={"X-API-Key": read})
    ).json()
    assert len(data["data"]["courses"]["data"]) == 2  # reads everything
    keys = (await client.get("/api/api-keys", headers=tenant.user_headers)).json()["data"]
    assert sorted(str(k["scope"]) for k in keys) == ["None", "read", "write"]


async def test_unknown_scopes_are_refused(client, tenant):  # type: ignore[no-untyped-def]
    for scopes in (["admin"], [], "read", ["read", "delete"]):
        answer = await client.post("/api/api-keys", json={"name": "x", "scopes": scopes}, headers=tenant.user_headers)
        assert answer.status_code == 400, scopes
    keys = (await client.get("/api/api-keys", headers=tenant.user_headers)).json()["data"]
    assert [k["name"] for k in keys] == ["test"]


async def test_a_rolled_key_works_through_its_grace_period_then_expires(client, tenant):  # type: ignore[no-untyped-def]
    rolled = await client.post(
        f"/api/api-keys/{tenant.key_id}/roll", json={"grace_seconds": 1}, headers=tenant.user_headers
    )
    assert rolled.status_code == 201, rolled.text
    new = rolled.json()["key"]
    assert new != tenant.key and rolled.json()["name"] == "test"
    assert (await client.get("/api/courses", headers={"X-API-Key": new})).status_code == 200
    assert (await client.get("/api/courses", headers=tenant.key_headers)).status_code == 200  # in its grace period
    await asyncio.sleep(1.2)
    old = await client.get("/api/courses", headers=tenant.key_headers)
    assert old.status_code == 401 and "expired" in old.json()["message"]
    assert (await client.get("/api/courses", headers={"X-API-Key": new})).status_code == 200
    log = (await client.get("/api/audit-log", headers=tenant.user_headers)).json()["data"]
    assert log[0]["action"] == "api_key.rolled" and new not in str(log) and tenant.key not in str(log)


async def test_rolling_is_refused_for_unknown_and_foreign_keys(client, tenant, other_tenant):  # type: ignore[no-untyped-def]
    for key_id in (other_tenant.key_id, "00000000-0000-0000-0000-000000000000"):
        answer = await client.post(f"/api/api-keys/{key_id}/roll", json={}, headers=tenant.user_headers)
        assert answer.status_code == 404
    bad = await client.post(
        f"/api/api-keys/{tenant.key_id}/roll", json={"grace_seconds": -1}, headers=tenant.user_headers
    )
    assert bad.status_code == 400
    assert (await client.get("/api/courses", headers=other_tenant.key_headers)).status_code == 200


async def test_usage_counts_equal_the_requests_sent(services):  # type: ignore[no-untyped-def]
    async with app_client(rate_limits="5/minute;1000/day") as (client, own):
        tenant = await make_tenant(own, "Counted")
        statuses = [(await client.get("/api/courses", headers=tenant.key_headers)).status_code for _ in range(8)]
        assert statuses.count(429) == 3
        usage = await client.get(f"/api/api-keys/{tenant.key_id}/usage?days=3", headers=tenant.user_headers)
        assert usage.status_code == 200, usage.text
        days = usage.json()["data"]
        assert [d["day"] for d in days][-1] == datetime.now(UTC).date().isoformat() and len(days) == 3
        assert days[-1]["requests"] == 8 and days[-1]["rate_limited"] == 3
        assert sum(d["requests"] for d in days[:-1]) == 0
        graph = GQL(client, tenant.user_headers)
        answer = await graph("query($id: UUID!) { apiKeyUsage(id: $id, days: 1) { requests rateLimited } }",
                             {"id": str(tenant.key_id)})  # fmt: skip
        assert answer["apiKeyUsage"] == [{"requests": 8, "rateLimited": 3}]
        assert (
            await client.get(f"/api/api-keys/{tenant.key_id}/usage?days=91", headers=tenant.user_headers)
        ).status_code == 400


async def test_counts_of_a_deleted_key_do_not_block_the_others(services, tenant):  # type: ignore[no-untyped-def]
    counter = UsageCounter(services.db)
    counter.count(uuid.uuid4(), False)  # a key deleted since (with its organization)
    counter.count(tenant.key_id, True)
    await counter.flush()
    async with services.db.read() as conn:
        days = await usage.daily(conn, tenant.key_id, datetime.now(UTC).date(), 1)
    assert [(requests, limited) for _, requests, limited in days] == [(1, 1)]


async def test_flushes_add_up_per_key_and_day(services, tenant, other_tenant):  # type: ignore[no-untyped-def]
    counter = UsageCounter(services.db)
    for requests, limited in ((3, 1), (2, 0)):  # two flushes: the second adds to the rows the first wrote
        for i in range(requests):
            counter.count(tenant.key_id, i < limited)
            counter.count(other_tenant.key_id, False)
        await counter.flush()
    today = datetime.now(UTC).date()
    async with services.db.read() as conn:
        mine = await usage.daily(conn, tenant.key_id, today, 1)
        theirs = await usage.daily(conn, other_tenant.key_id, today, 1)
    assert [(r, limited) for _, r, limited in mine] == [(5, 1)]
    assert [(r, limited) for _, r, limited in theirs] == [(5, 0)]


# A body each change accepts as well formed: the REST layer checks the form, then the schema checks the credential.
ANY = "00000000-0000-4000-8000-000000000000"
BODIES = {
    "/api/variables/set": {"variable_id": ANY, "learner_id": ANY, "value": 1},
    "/api/variables/set-many": {"values": [{"variable_id": ANY, "learner_id": ANY, "value": 1}]},
    "/api/pipelines": {"name": "p"},
    "/api/pipelines/{pipeline_id}": {"name": "p"},
    "/api/pipelines/{pipeline_id}/nodes": {"component_kind": "course", "component_id": ANY},
    "/api/pipelines/{pipeline_id}/connections": {"source_variable_id": ANY, "target_variable_id": ANY},
}


@pytest.mark.parametrize("scope", ["read", "write"])
async def test_every_rest_change_by_scope(client, tenant, scope):  # type: ignore[no-untyped-def]
    key = await new_key(client, tenant, scopes=[scope])
    changes = [e for e in ENDPOINTS if e.method != "GET" and not e.user_only]
    assert len(changes) == 10
    for endpoint in changes:
        path = re.sub(r"\{(\w+)(:path)?\}", ANY, endpoint.documented_path)
        body = BODIES.get(endpoint.documented_path)
        answer = await client.request(endpoint.method, path, json=body, headers={"X-API-Key": key})
        values = endpoint.documented_path in ("/api/variables/set", "/api/variables/set-many")
        if scope == "write" and values:
            assert answer.status_code in (400, 404), (endpoint.documented_path, answer.text)  # past the scope
        else:
            assert answer.status_code == 403, (endpoint.documented_path, answer.text)
