"""Deleting courses, runs, variables and chatbots (refused while values exist, unless forced), and erasing a
learner so that nothing about them is left in any table."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import SQLModel

from app.services import Services
from db.idempotency import keys as idempotency_keys
from tests import factories as f
from tests.conftest import GQL, Tenant

DELETE = """mutation($id: UUID!, $force: Boolean!) { result: %s(id: $id, force: $force) {
  __typename ... on Deleted { id } ... on UserError { code message field } } }"""


async def delete(gql: GQL, mutation: str, id: str, force: bool = False) -> dict[str, Any]:
    return (await gql(DELETE % mutation, {"id": id, "force": force}))["result"]


async def dump(services: Services) -> str:
    """Every row of every table, as text."""
    rows = []
    async with services.db.read() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows += [repr(tuple(row)) for row in (await conn.execute(select(table))).all()]
    return "\n".join(rows)


async def test_a_course_with_values_is_refused_unless_forced(gql: GQL, client: httpx.AsyncClient, tenant: Tenant):
    course = await f.course(gql, "Doomed")
    score = await f.variable(gql, course["id"], "NUMBER", "score", direction="OUTPUT")
    bot = await f.chatbot(gql, "Listener")
    heard = await f.variable(gql, None, "NUMBER", "heard", chatbotId=bot["id"], direction="INPUT")
    pipeline = await f.pipeline(gql, "Flow")
    await f.node(gql, pipeline["id"], "COURSE", course["id"])
    await f.node(gql, pipeline["id"], "CHATBOT", bot["id"])
    await f.connect(gql, pipeline["id"], score["id"], heard["id"])
    learner = await f.learner(gql)
    await f.set_value(gql, score["id"], learner["id"], 5)

    refused = await delete(gql, "deleteCourse", course["id"])
    assert refused["__typename"] == "ConflictError" and refused["field"] == "force"
    assert (await client.get(f"/api/courses/{course['id']}", headers=tenant.key_headers)).status_code == 200

    assert (await delete(gql, "deleteCourse", course["id"], force=True)) == {
        "__typename": "Deleted",
        "id": course["id"],
    }
    assert (await client.get(f"/api/courses/{course['id']}", headers=tenant.key_headers)).status_code == 404
    assert (await client.get(f"/api/variables/{score['id']}", headers=tenant.key_headers)).status_code == 404
    detail = (await client.get(f"/api/pipelines/{pipeline['id']}", headers=tenant.key_headers)).json()
    assert [n["name"] for n in detail["nodes"]] == ["Listener"] and detail["connections"] == []
    # The value carried to the chatbot is the chatbot's own: it stays.
    carried = await client.get(f"/api/variables/{heard['id']}/values", headers=tenant.key_headers)
    assert [v["value"] for v in carried.json()["data"]] == [5]


async def test_runs_variables_and_chatbots_without_values_go_at_once(gql: GQL, client, tenant):  # type: ignore[no-untyped-def]
    course = await f.course(gql)
    create_run = (
        'mutation($c: UUID!) { r: createCourseRun(input: {courseId: $c, name: "R"}) { ... on CourseRun { id } } }'
    )
    run = (await gql(create_run, {"c": course["id"]}))["r"]
    empty = await f.variable(gql, course["id"], "TEXT", "empty")
    full = await f.variable(gql, course["id"], "NUMBER", "full")
    learner = await f.learner(gql)
    await f.set_value(gql, full["id"], learner["id"], 1, course_run_id=run["id"])
    bot = await f.chatbot(gql)

    assert (await delete(gql, "deleteVariable", empty["id"]))["__typename"] == "Deleted"
    assert (await delete(gql, "deleteChatbot", bot["id"]))["__typename"] == "Deleted"
    assert (await delete(gql, "deleteVariable", full["id"]))["__typename"] == "ConflictError"
    assert (await delete(gql, "deleteCourseRun", run["id"]))["__typename"] == "ConflictError"
    assert (await delete(gql, "deleteCourseRun", run["id"], force=True))["__typename"] == "Deleted"
    values = await client.get(f"/api/variables/{full['id']}/values", headers=tenant.key_headers)
    assert values.json()["data"] == []  # the run's values went with it
    assert (await delete(gql, "deleteVariable", full["id"]))["__typename"] == "Deleted"
    for mutation in ("deleteVariable", "deleteChatbot", "deleteCourseRun", "deleteCourse"):
        assert (await delete(gql, mutation, str(uuid.uuid4())))["__typename"] == "NotFoundError"


async def test_another_organizations_objects_are_not_found(gql: GQL, other_tenant: Tenant, client):  # type: ignore[no-untyped-def]
    theirs = GQL(client, other_tenant.key_headers)
    course = await f.course(theirs)
    var = await f.variable(theirs, course["id"])
    learner = await f.learner(theirs)
    assert (await delete(gql, "deleteCourse", course["id"], force=True))["__typename"] == "NotFoundError"
    assert (await delete(gql, "deleteVariable", var["id"], force=True))["__typename"] == "NotFoundError"
    erase = await client.delete(f"/api/learners/{learner['id']}", headers=gql.headers)
    assert erase.status_code == 404 and erase.json()["error"] == "not_found"
    assert (await client.get(f"/api/learners/{learner['id']}", headers=other_tenant.key_headers)).status_code == 200


async def test_erasing_a_learner_leaves_nothing_about_them(gql, client, tenant, services):  # type: ignore[no-untyped-def]
    course = await f.course(gql, "Course")
    score = await f.variable(gql, course["id"], "NUMBER", "score", direction="OUTPUT")
    note = await f.variable(gql, course["id"], "TEXT", "note")
    bot = await f.chatbot(gql, "Tutor")
    heard = await f.variable(gql, None, "NUMBER", "heard", chatbotId=bot["id"], direction="INPUT")
    pipeline = await f.pipeline(gql)
    await f.node(gql, pipeline["id"], "COURSE", course["id"])
    await f.node(gql, pipeline["id"], "CHATBOT", bot["id"])
    await f.connect(gql, pipeline["id"], score["id"], heard["id"])
    gone = await f.learner(gql, "gone.person@example.com", "Gone Person", externalId="ext-gone-42")
    kept = await f.learner(gql, "kept@example.com", "Kept")
    for learner, points in ((gone, 90), (kept, 40)):
        await f.set_value(gql, score["id"], learner["id"], points)
        await f.set_value(gql, note["id"], learner["id"], f"private note about {learner['email']}")
    answer = await client.post(
        "/api/variables/set",
        json={"variable_id": score["id"], "learner_id": gone["id"], "value": 95},
        headers={**tenant.key_headers, "Idempotency-Key": "erase-me"},
    )
    assert answer.status_code == 201
    for _ in range(100):  # the answer is stored just after the response
        async with services.db.read() as conn:
            stored = (await conn.execute(select(idempotency_keys.c.response))).scalars().all()
        if stored and all(stored):
            break
        await asyncio.sleep(0.05)
    traces = [gone["id"], gone["email"], "Gone Person", "ext-gone-42"]
    before = await dump(services)
    assert all(trace in before for trace in traces)

    erased = await client.delete(f"/api/learners/{gone['id']}", headers=tenant.key_headers)
    assert erased.status_code == 204 and erased.content == b""

    after = await dump(services)
    assert [trace for trace in traces if trace in after] == []
    assert kept["id"] in after and "private note about kept@example.com" in after
    aggregate = (await client.get(f"/api/variables/{score['id']}/aggregate", headers=tenant.key_headers)).json()
    assert aggregate["learners_with_value"] == 1 and aggregate["numeric"]["mean"] == 40
    stats = (await client.get(f"/api/courses/{course['id']}/stats", headers=tenant.key_headers)).json()
    assert stats["enrolled_learners"] == 1
    assert (await client.delete(f"/api/learners/{gone['id']}", headers=tenant.key_headers)).status_code == 404
