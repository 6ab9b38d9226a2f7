"""Compare-and-set on `POST /api/variables/set` and batches on `POST /api/variables/set-many`: a refusal writes
nothing, an acknowledgement stores everything."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from app.services import Services
from db.models import CurrentValue, VariableValue
from db.queries.common import table
from tests import factories as f
from tests.conftest import GQL, Tenant

history = table(VariableValue)
current = table(CurrentValue)


async def count(services: Services, tbl: Any = history) -> int:
    async with services.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(tbl))).scalar_one()


@pytest.fixture
async def world(gql: GQL) -> dict[str, Any]:
    course = await f.course(gql)
    run = await f.run(gql, course["id"])
    other_course = await f.course(gql)
    other_run = await f.run(gql, other_course["id"])
    score = await f.variable(gql, course["id"], "NUMBER", "score")
    level = await f.variable(gql, course["id"], "TEXT", "level")
    learners = [await f.learner(gql) for _ in range(3)]
    return {"course": course, "run": run, "other_run": other_run, "score": score, "level": level, "learners": learners}


def set_body(world: dict[str, Any], value: Any, **extra: Any) -> dict[str, Any]:
    return {"variable_id": world["score"]["id"], "learner_id": world["learners"][0]["id"], "value": value, **extra}


# --- compare-and-set ---


async def test_compare_and_set_with_null_records_only_the_first_value(client, tenant: Tenant, services, world):
    first = await client.post(
        "/api/variables/set", json=set_body(world, 1, expected_value_id=None), headers=tenant.key_headers
    )
    assert first.status_code == 201
    second = await client.post(
        "/api/variables/set", json=set_body(world, 2, expected_value_id=None), headers=tenant.key_headers
    )
    assert second.status_code == 409
    body = second.json()
    assert body["error"] == "conflict"
    assert body["current"]["id"] == first.json()["id"] and body["current"]["value"] == 1
    assert await count(services) == 1


async def test_compare_and_set_with_the_current_id_wins_and_a_stale_id_loses(client, tenant, services, world):
    first = (await client.post("/api/variables/set", json=set_body(world, 1), headers=tenant.key_headers)).json()
    second = await client.post(
        "/api/variables/set", json=set_body(world, 2, expected_value_id=first["id"]), headers=tenant.key_headers
    )
    assert second.status_code == 201
    stale = await client.post(
        "/api/variables/set", json=set_body(world, 3, expected_value_id=first["id"]), headers=tenant.key_headers
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["id"] == second.json()["id"]
    values = await client.get(f"/api/variables/{world['score']['id']}/values", headers=tenant.key_headers)
    assert [v["value"] for v in values.json()["data"]] == [2, 1]


async def test_compare_and_set_with_a_value_of_another_variable_is_refused(client, tenant, services, world):
    level = (
        await client.post(
            "/api/variables/set",
            json={"variable_id": world["level"]["id"], "learner_id": world["learners"][0]["id"], "value": "x"},
            headers=tenant.key_headers,
        )
    ).json()
    refused = await client.post(
        "/api/variables/set", json=set_body(world, 1, expected_value_id=level["id"]), headers=tenant.key_headers
    )
    assert refused.status_code == 409 and refused.json()["current"] is None
    assert await count(services) == 1


async def test_racing_compare_and_sets_have_one_winner(client, tenant, services, world):
    first = (await client.post("/api/variables/set", json=set_body(world, 0), headers=tenant.key_headers)).json()
    answers = await asyncio.gather(
        *[
            client.post(
                "/api/variables/set", json=set_body(world, i, expected_value_id=first["id"]), headers=tenant.key_headers
            )
            for i in range(1, 9)
        ]
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert await count(services) == 2


async def test_graphql_compare_and_set(gql: GQL, world):
    mutation = """mutation($input: SetVariableInput!) { setVariable(input: $input) {
      __typename ... on VariableValue { id } ... on ValueConflictError { code current { id value } } } }"""
    base = {"variableId": world["score"]["id"], "learnerId": world["learners"][0]["id"]}
    made = (await gql(mutation, {"input": {**base, "value": 1, "expectedValueId": None}}))["setVariable"]
    assert made["__typename"] == "VariableValue"
    lost = (await gql(mutation, {"input": {**base, "value": 2, "expectedValueId": None}}))["setVariable"]
    assert lost == {"__typename": "ValueConflictError", "code": "conflict", "current": {"id": made["id"], "value": 1}}


@pytest.mark.parametrize("bad", ["not-a-uuid", 5, ""])
async def test_a_malformed_expected_value_id_is_a_400(client, tenant, services, world, bad):
    response = await client.post(
        "/api/variables/set", json=set_body(world, 1, expected_value_id=bad), headers=tenant.key_headers
    )
    assert response.status_code == 400
    assert await count(services) == 0


# --- batches ---


def items(world: dict[str, Any], n: int) -> list[dict[str, Any]]:
    learners = world["learners"]
    return [
        {"variable_id": world["score"]["id"], "learner_id": learners[i % len(learners)]["id"], "value": i}
        for i in range(n)
    ]


async def test_a_batch_records_every_value_in_order(client, tenant, services, world):
    batch = [
        *items(world, 3),
        {
            "variable_id": world["level"]["id"],
            "learner_id": world["learners"][0]["id"],
            "value": "advanced",
            "course_run_id": world["run"]["id"],
        },
    ]
    response = await client.post("/api/variables/set-many", json={"values": batch}, headers=tenant.key_headers)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [(v["variable_id"], v["learner_id"], v["value"]) for v in data] == [
        (i["variable_id"], i["learner_id"], i["value"]) for i in batch
    ]
    assert all(v["propagated"] == [] for v in data)
    assert await count(services) == 4
    learner_values = await client.get(
        f"/api/learners/{world['learners'][0]['id']}/variables", headers=tenant.key_headers
    )
    assert {(v["name"], v["value"]) for v in learner_values.json()["data"]} == {("score", 0), ("level", "advanced")}
    courses = await client.get(f"/api/learners/{world['learners'][1]['id']}/courses", headers=tenant.key_headers)
    assert [c["id"] for c in courses.json()["data"]] == [world["course"]["id"]]  # enrolled by the batch


async def test_the_last_of_several_values_for_one_learner_is_current(client, tenant, services, world):
    learner = world["learners"][0]["id"]
    batch = [{"variable_id": world["score"]["id"], "learner_id": learner, "value": v} for v in (1, 2, 3)]
    assert (
        await client.post("/api/variables/set-many", json={"values": batch}, headers=tenant.key_headers)
    ).status_code == 201
    assert await count(services) == 3 and await count(services, current) == 1
    mine = await client.get(f"/api/learners/{learner}/variables", headers=tenant.key_headers)
    assert [v["value"] for v in mine.json()["data"]] == [3]


async def test_1000_items_are_accepted_and_1001_refused(client, tenant, services, world):
    accepted = await client.post(
        "/api/variables/set-many", json={"values": items(world, 1000)}, headers=tenant.key_headers
    )
    assert accepted.status_code == 201 and len(accepted.json()["data"]) == 1000
    assert await count(services) == 1000
    refused = await client.post(
        "/api/variables/set-many", json={"values": items(world, 1001)}, headers=tenant.key_headers
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_parameter"
    assert await count(services) == 1000


@pytest.mark.parametrize("body", [{}, {"values": []}, {"values": "x"}, {"values": [1], "more": 1}, []])
async def test_malformed_batches_are_refused(client, tenant, services, world, body):
    response = await client.post("/api/variables/set-many", json=body, headers=tenant.key_headers)
    assert response.status_code == 400
    assert set(response.json()) >= {"error", "message"}
    assert await count(services) == 0


async def test_every_bad_item_is_named_and_nothing_is_written(client, tenant, services, world):
    batch = items(world, 6)
    batch[1]["value"] = "not a number"
    batch[2]["learner_id"] = str(uuid.uuid4())
    batch[4]["course_run_id"] = world["other_run"]["id"]
    response = await client.post("/api/variables/set-many", json={"values": batch}, headers=tenant.key_headers)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_input"
    assert [(i["index"], i["error"]) for i in body["items"]] == [
        (1, "invalid_input"),
        (2, "not_found"),
        (4, "invalid_input"),
    ]
    assert all(i["message"] for i in body["items"])
    assert await count(services) == 0


async def test_malformed_items_are_named_before_anything_runs(client, tenant, services, world):
    batch = items(world, 3)
    batch[0]["variable_id"] = "nope"
    batch[2] = "not an object"  # type: ignore[call-overload]
    response = await client.post("/api/variables/set-many", json={"values": batch}, headers=tenant.key_headers)
    assert response.status_code == 400
    assert [i["index"] for i in response.json()["items"]] == [0, 2]
    assert await count(services) == 0


async def test_another_organizations_ids_are_not_found(client, tenant, other_tenant, services, world):
    response = await client.post(
        "/api/variables/set-many", json={"values": items(world, 2)}, headers=other_tenant.key_headers
    )
    assert response.status_code == 400
    assert [i["error"] for i in response.json()["items"]] == ["not_found", "not_found"]
    assert await count(services) == 0


async def test_a_batch_is_carried_along_connections(client, tenant, gql, services):
    course = await f.course(gql)
    bot = await f.chatbot(gql)
    out = await f.variable(gql, course["id"], "NUMBER", "quiz", direction="OUTPUT")
    into = await f.variable(gql, None, "NUMBER", "quiz_in", chatbotId=bot["id"], direction="INPUT")
    pipeline = await f.pipeline(gql)
    await f.node(gql, pipeline["id"], "COURSE", course["id"])
    await f.node(gql, pipeline["id"], "CHATBOT", bot["id"])
    assert (await f.connect(gql, pipeline["id"], out["id"], into["id"]))["__typename"] == "ConnectionCreated"
    learners = [await f.learner(gql) for _ in range(2)]
    batch = [{"variable_id": out["id"], "learner_id": le["id"], "value": 70 + i} for i, le in enumerate(learners)]
    response = await client.post("/api/variables/set-many", json={"values": batch}, headers=tenant.key_headers)
    assert response.status_code == 201
    assert [len(v["propagated"]) for v in response.json()["data"]] == [1, 1]
    carried = await client.get(f"/api/variables/{into['id']}/values", headers=tenant.key_headers)
    assert sorted(v["value"] for v in carried.json()["data"]) == [70, 71]


async def test_graphql_set_variables_and_its_idempotency_key(gql: GQL, services, world):
    mutation = """mutation($input: SetVariablesInput!, $key: String) {
      setVariables(input: $input, idempotencyKey: $key) {
        __typename
        ... on RecordedValues { data { id value } }
        ... on BatchError { code items { index code field } }
      }
    }"""
    values = [
        {"variableId": i["variable_id"], "learnerId": i["learner_id"], "value": i["value"]} for i in items(world, 3)
    ]
    first = (await gql(mutation, {"input": {"values": values}, "key": "night-1"}))["setVariables"]
    again = (await gql(mutation, {"input": {"values": values}, "key": "night-1"}))["setVariables"]
    assert first["__typename"] == "RecordedValues" and again == first
    assert await count(services) == 3
    values[1]["value"] = "x"
    refused = (await gql(mutation, {"input": {"values": values}}))["setVariables"]
    assert refused == {
        "__typename": "BatchError",
        "code": "invalid_input",
        "items": [{"index": 1, "code": "invalid_input", "field": "value"}],
    }
    assert await count(services) == 3


async def test_a_batch_costs_one_request_of_the_budget(services, tenant, world):
    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(rate_limits="2/minute;100/day")
    app = create_app(settings, Services.build(settings))
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post(
            "/api/variables/set-many", json={"values": items(world, 50)}, headers=tenant.key_headers
        )
        assert response.status_code == 201
        assert response.headers["x-ratelimit-remaining"] == "1"
    await app.state.services.db.dispose()
