"""Writes that race each other or an erasure, and the write path's own contract: carried copies order exactly as
their sources, an erasure leaves nothing whatever races it, a refusal is replayed as itself, and a batch names
every bad item in one answer. On PostgreSQL the writers really run at once; on SQLite they queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.main import create_app
from app.services import Services
from db.models import CurrentValue, VariableValue
from db.queries.common import table
from tests import factories as f
from tests.conftest import GQL, Tenant
from tests.test_deletion import dump

history = table(VariableValue)
current = table(CurrentValue)


@pytest.fixture
async def racing_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose app stores idempotent answers as a server does (after the response), and waits for them."""
    app = create_app(services.settings, services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client


async def _settled(services: Services) -> None:
    """Waits until every claimed idempotency key has its answer stored (they are stored just after the response)."""
    from db.idempotency import keys

    for _ in range(200):
        async with services.db.read() as conn:
            pending = (await conn.execute(select(keys.c.key).where(keys.c.status.is_(None)))).all()
        if not pending:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"answers never stored: {pending}")


async def test_carried_copies_order_as_their_sources_under_concurrent_writers(
    gql: GQL, racing_client: httpx.AsyncClient, tenant: Tenant, services: Services
):
    course = await f.course(gql)
    output = await f.variable(gql, course["id"], "NUMBER", "score", direction="OUTPUT")
    bot = await f.chatbot(gql)
    heard = await f.variable(gql, None, "NUMBER", "heard", chatbotId=bot["id"], direction="INPUT")
    pipeline = await f.pipeline(gql)
    await f.node(gql, pipeline["id"], "COURSE", course["id"])
    await f.node(gql, pipeline["id"], "CHATBOT", bot["id"])
    assert (await f.connect(gql, pipeline["id"], output["id"], heard["id"]))["__typename"] == "ConnectionCreated"
    learners = [(await f.learner(gql))["id"] for _ in range(25)]

    async def set_(learner: str, value: int) -> None:
        body = {"variable_id": output["id"], "learner_id": learner, "value": value}
        answer = await racing_client.post("/api/variables/set", json=body, headers=tenant.key_headers)
        assert answer.status_code == 201, answer.text

    await asyncio.gather(*[set_(learner, value) for value in range(8) for learner in learners])

    async with services.db.read() as conn:
        rows = (await conn.execute(select(current))).mappings().all()
        copies = (
            await conn.execute(
                select(history.c.recorded_at, history.c.source_value_id).where(history.c.source_value_id.is_not(None))
            )
        ).all()
        times = dict((await conn.execute(select(history.c.id, history.c.recorded_at))).all())
    now = {(row["variable_id"], row["learner_id"]): row for row in rows}
    stale = []
    for learner in learners:
        source = now[(uuid.UUID(output["id"]), uuid.UUID(learner))]
        copy = now[(uuid.UUID(heard["id"]), uuid.UUID(learner))]
        if copy["value"] != source["value"]:
            stale.append((learner, source["value"], copy["value"]))
    assert stale == [], f"{len(stale)} of {len(learners)} inputs hold a copy of an older value"
    assert len(copies) == 8 * len(learners)
    assert all(at == times[source_id] for at, source_id in copies)  # each copy is recorded at its source's time


async def test_an_erasure_racing_idempotent_sets_leaves_nothing_and_the_racers_get_404(
    gql: GQL, racing_client: httpx.AsyncClient, tenant: Tenant, services: Services
):
    course = await f.course(gql)
    score = await f.variable(gql, course["id"], "NUMBER", "score")
    gone = [await f.learner(gql, f"gone-{i}@example.com", f"Gone {i}") for i in range(10)]

    async def set_(learner: dict[str, Any], attempt: int) -> httpx.Response:
        body = {"variable_id": score["id"], "learner_id": learner["id"], "value": attempt}
        headers = {**tenant.key_headers, "Idempotency-Key": f"race-{gone.index(learner)}-{attempt}"}
        return await racing_client.post("/api/variables/set", json=body, headers=headers)

    async def erase(learner: dict[str, Any]) -> httpx.Response:
        return await racing_client.delete(f"/api/learners/{learner['id']}", headers=tenant.key_headers)

    work = [set_(learner, attempt) for learner in gone for attempt in range(4)] + [erase(g) for g in gone]
    answers = await asyncio.gather(*work)
    sets, erasures = answers[: 4 * len(gone)], answers[4 * len(gone) :]
    assert {a.status_code for a in erasures} == {204}
    assert {a.status_code for a in sets} <= {201, 404}, [a.text for a in sets if a.status_code not in (201, 404)]
    await _settled(services)
    # Retried, a set that was answered before the erasure is not replayed with the learner's data.
    retries = await asyncio.gather(*[set_(learner, attempt) for learner in gone for attempt in range(4)])
    assert {a.status_code for a in retries} == {404}, [a.text for a in retries if a.status_code != 404][:2]
    await _settled(services)
    left = await dump(services)
    traces = [trace for learner in gone for trace in (learner["id"], learner["email"], learner["name"])]
    leaks = [line for line in left.splitlines() if any(t in line for t in traces)]
    assert leaks == [], "\n".join(leaks[:3])


async def test_a_lost_compare_and_set_is_replayed_as_its_409(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant, services: Services
):
    course = await f.course(gql)
    score = await f.variable(gql, course["id"], "NUMBER", "score")
    learner = await f.learner(gql)
    first = await f.set_value(gql, score["id"], learner["id"], 1)
    body = {"variable_id": score["id"], "learner_id": learner["id"], "value": 2, "expected_value_id": None}
    headers = {**tenant.key_headers, "Idempotency-Key": "cas-1"}
    lost = await client.post("/api/variables/set", json=body, headers=headers)
    assert lost.status_code == 409 and lost.json()["current"]["id"] == first["id"]
    await _settled(services)
    # Make the condition hold (no current value): a fresh evaluation would now record, a replay refuses again.
    async with services.db.write() as conn:
        await conn.execute(current.delete())
    again = await client.post("/api/variables/set", json=body, headers=headers)
    assert again.status_code == 409 and again.json() == lost.json()
    assert again.headers["idempotent-replayed"] == "true"

    # The same through GraphQL's idempotencyKey.
    mutation = """mutation($input: SetVariableInput!, $key: String) { setVariable(input: $input, idempotencyKey: $key) {
      __typename ... on ValueConflictError { current { id } } ... on VariableValue { id } } }"""
    second = await f.set_value(gql, score["id"], learner["id"], 3)
    variables = {
        "input": {"variableId": score["id"], "learnerId": learner["id"], "value": 4, "expectedValueId": first["id"]},
        "key": "cas-2",
    }
    refused = (await gql(mutation, variables))["setVariable"]
    assert refused == {"__typename": "ValueConflictError", "current": {"id": second["id"]}}
    async with services.db.write() as conn:  # the condition holds now: only a replay still refuses
        await conn.execute(
            current.update()
            .where(current.c.value_id == uuid.UUID(second["id"]))
            .values(value_id=uuid.UUID(first["id"]))
        )
    assert (await gql(mutation, variables))["setVariable"] == refused


async def test_a_batch_names_its_malformed_and_its_refused_items_in_one_answer(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant, services: Services
):
    course = await f.course(gql)
    score = await f.variable(gql, course["id"], "NUMBER", "score")
    learner = await f.learner(gql)
    values = [
        {"variable_id": score["id"], "learner_id": learner["id"], "value": 1},  # fine
        {"variable_id": "not-a-uuid", "learner_id": learner["id"], "value": 1},  # malformed
        {"variable_id": str(uuid.uuid4()), "learner_id": learner["id"], "value": 1},  # refused: no such variable
        {"variable_id": score["id"], "learner_id": learner["id"]},  # malformed: no value
        {"variable_id": score["id"], "learner_id": learner["id"], "value": "ten"},  # refused: not a number
    ]
    answer = await client.post("/api/variables/set-many", json={"values": values}, headers=tenant.key_headers)
    assert answer.status_code == 400
    items = answer.json()["items"]
    assert [(item["index"], item["error"]) for item in items] == [
        (1, "invalid_parameter"),
        (2, "not_found"),
        (3, "invalid_parameter"),
        (4, "invalid_input"),
    ]
    assert "4 of 5" in answer.json()["message"]
    async with services.db.read() as conn:
        assert (await conn.execute(select(history.c.id))).all() == []
