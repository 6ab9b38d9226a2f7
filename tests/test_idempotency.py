"""Idempotency-Key on every POST under /api, and `idempotencyKey` on setVariable(s): a retry is answered from
the first attempt and writes nothing; another request under the same key is refused; racing retries write once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from app.services import Services
from db.idempotency import keys as idempotency_keys
from db.idempotency import prune
from db.models import VariableValue
from db.queries.common import table
from db.types import utcnow
from tests import factories as f
from tests.conftest import GQL, Tenant

history = table(VariableValue)


@pytest.fixture
async def target(gql: GQL) -> dict[str, Any]:
    course = await f.course(gql)
    var = await f.variable(gql, course["id"], "NUMBER", "score")
    learner = await f.learner(gql)
    return {"variable_id": var["id"], "learner_id": learner["id"]}


async def value_count(services: Services, variable_id: str) -> int:
    async with services.db.read() as conn:
        stmt = select(func.count()).select_from(history).where(history.c.variable_id == uuid.UUID(variable_id))
        return (await conn.execute(stmt)).scalar_one()


def key_headers(tenant: Tenant, key: str) -> dict[str, str]:
    return {**tenant.key_headers, "Idempotency-Key": key}


async def test_a_replay_answers_the_first_answer_and_writes_nothing(client, tenant, services, target):
    body = {**target, "value": 42}
    first = await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "retry-1"))
    assert first.status_code == 201
    again = await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "retry-1"))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await value_count(services, target["variable_id"]) == 1
    # Another key is another request.
    other = await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "retry-2"))
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert await value_count(services, target["variable_id"]) == 2


async def test_an_error_answer_is_replayed_too(client, tenant, services, target):
    body = {**target, "value": "not a number"}
    first = await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "bad-value"))
    assert first.status_code == 400
    again = await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "bad-value"))
    assert (again.status_code, again.json()) == (400, first.json())
    assert await value_count(services, target["variable_id"]) == 0


async def test_the_same_key_with_another_body_is_refused_and_writes_nothing(client, tenant, services, target):
    first = await client.post("/api/variables/set", json={**target, "value": 1}, headers=key_headers(tenant, "k"))
    assert first.status_code == 201
    other = await client.post("/api/variables/set", json={**target, "value": 2}, headers=key_headers(tenant, "k"))
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    assert await value_count(services, target["variable_id"]) == 1
    # ... and on another endpoint
    pipeline = await client.post("/api/pipelines", json={"name": "P"}, headers=key_headers(tenant, "k"))
    assert pipeline.status_code == 422
    assert (await client.get("/api/pipelines", headers=tenant.key_headers)).json()["data"] == []


@pytest.mark.parametrize("key", ["", "a" * 256, "spaced key", "naïve".encode(), "tab\tkey"])
async def test_a_malformed_key_is_refused(client, tenant, services, target, key):
    response = await client.post(
        "/api/variables/set", json={**target, "value": 1}, headers={**tenant.key_headers, "Idempotency-Key": key}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_idempotency_key"
    assert await value_count(services, target["variable_id"]) == 0


async def test_keys_are_per_caller(client, tenant, services, target):
    body = {**target, "value": 5}
    by_key = await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "shared"))
    by_user = await client.post(
        "/api/variables/set", json=body, headers={**tenant.user_headers, "Idempotency-Key": "shared"}
    )
    assert by_key.status_code == by_user.status_code == 201
    assert by_key.json()["id"] != by_user.json()["id"]
    assert await value_count(services, target["variable_id"]) == 2


async def test_every_post_takes_a_key(client, tenant):
    created = await client.post("/api/pipelines", json={"name": "Nightly"}, headers=key_headers(tenant, "p1"))
    replay = await client.post("/api/pipelines", json={"name": "Nightly"}, headers=key_headers(tenant, "p1"))
    assert created.status_code == replay.status_code == 201
    assert replay.json() == created.json()
    # Without the key, the same body is a second request: the name is taken.
    again = await client.post("/api/pipelines", json={"name": "Nightly"}, headers=tenant.key_headers)
    assert again.status_code == 409
    made = await client.post(
        "/api/api-keys", json={"name": "ci"}, headers={**tenant.user_headers, "Idempotency-Key": "key-1"}
    )
    remade = await client.post(
        "/api/api-keys", json={"name": "ci"}, headers={**tenant.user_headers, "Idempotency-Key": "key-1"}
    )
    assert made.status_code == remade.status_code == 201
    assert remade.json()["id"] == made.json()["id"]
    listed = await client.get("/api/api-keys", headers=tenant.user_headers)
    assert [k["name"] for k in listed.json()["data"]].count("ci") == 1


async def test_racing_requests_with_one_key_write_once(services, tenant, target):
    from app.main import create_app

    app = create_app(services.settings, services)
    body = {**target, "value": 7}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answers = await asyncio.gather(
            *[client.post("/api/variables/set", json=body, headers=key_headers(tenant, "race")) for _ in range(20)]
        )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await value_count(services, target["variable_id"]) == 1


async def test_racing_batches_with_one_key_write_once(services, tenant, target):
    from app.main import create_app

    app = create_app(services.settings, services)
    body = {"values": [{**target, "value": 7}, {**target, "value": 8}]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answers = await asyncio.gather(
            *[client.post("/api/variables/set-many", json=body, headers=key_headers(tenant, "race")) for _ in range(12)]
        )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201][:1]
    assert len({tuple(v["id"] for v in a.json()["data"]) for a in answers}) == 1
    assert await value_count(services, target["variable_id"]) == 2


async def test_an_expired_key_is_a_new_request_and_pruning_removes_it(client, tenant, services, target):
    body = {**target, "value": 3}
    await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "old"))
    async with services.db.write() as conn:
        await conn.execute(update(idempotency_keys).values(expires_at=utcnow() - timedelta(seconds=1)))
    again = await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "old"))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert await value_count(services, target["variable_id"]) == 2
    await client.post("/api/variables/set", json=body, headers=key_headers(tenant, "fresh"))
    async with services.db.write() as conn:
        await conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key == "old")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        assert await prune(conn) == 1
        left = (await conn.execute(text("SELECT key FROM idempotency_keys"))).scalars().all()
    assert left == ["fresh"]


async def test_graphql_set_variable_takes_an_idempotency_key(gql: GQL, services, target):
    mutation = """mutation($input: SetVariableInput!, $key: String) {
      setVariable(input: $input, idempotencyKey: $key) {
        __typename ... on VariableValue { id value } ... on UserError { code message }
      }
    }"""
    variables = {
        "input": {"variableId": target["variable_id"], "learnerId": target["learner_id"], "value": 9},
        "key": "gql-1",
    }
    first = (await gql(mutation, variables))["setVariable"]
    again = (await gql(mutation, variables))["setVariable"]
    assert first["__typename"] == "VariableValue" and again == first
    other = (await gql(mutation, {**variables, "input": {**variables["input"], "value": 10}}))["setVariable"]
    assert other["code"] == "idempotency_key_reused"
    assert await value_count(services, target["variable_id"]) == 1
