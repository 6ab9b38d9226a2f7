"""Cursor pagination on every list: keyset pages that see every row once while rows are written between pages,
and cursors that cannot be forged or carried to another list."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests import factories as f
from tests.conftest import GQL, Tenant


async def walk(client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int = 3, **query: Any) -> list:
    """Every item of a list, page by page through `next_cursor`."""
    seen: list[Any] = []
    cursor = None
    for _ in range(100):
        params = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["data"]
        cursor = body["pagination"]["next_cursor"]
        assert (cursor is not None) == body["pagination"]["has_more"]
        if cursor is None:
            return seen
    raise AssertionError("the walk did not end")


@pytest.fixture
async def world(gql: GQL) -> dict[str, Any]:
    courses = [await f.course(gql) for _ in range(4)]
    learners = [await f.learner(gql) for _ in range(7)]
    variables = [await f.variable(gql, courses[0]["id"], "NUMBER") for _ in range(5)]
    bots = [await f.chatbot(gql) for _ in range(4)]
    pipelines = [await f.pipeline(gql) for _ in range(4)]
    return {"courses": courses, "learners": learners, "variables": variables, "bots": bots, "pipelines": pipelines}


async def test_every_list_walks_to_the_end_seeing_each_row_once(client, tenant: Tenant, world):
    h = tenant.key_headers
    course = world["courses"][0]["id"]
    expected = {
        "/api/courses": world["courses"],
        "/api/learners": world["learners"],
        "/api/variables": world["variables"],
        f"/api/courses/{course}/variables": world["variables"],
        "/api/chatbots": world["bots"],
        "/api/pipelines": world["pipelines"],
    }
    for path, rows in expected.items():
        assert [r["id"] for r in await walk(client, path, h)] == [r["id"] for r in rows], path


async def test_a_values_walk_while_values_are_written_sees_every_value_once(client, tenant, world):
    h = tenant.key_headers
    variable = world["variables"][0]["id"]
    learner = world["learners"][0]["id"]

    async def record(value: int) -> str:
        response = await client.post(
            "/api/variables/set", json={"variable_id": variable, "learner_id": learner, "value": value}, headers=h
        )
        assert response.status_code == 201
        return response.json()["id"]

    before = [await record(i) for i in range(10)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(f"/api/variables/{variable}/values", params=params, headers=h)).json()
        seen += [v["id"] for v in body["data"]]
        await record(100 + len(seen))  # newer values land before the walk's position: an offset walk would repeat
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(before))


async def test_a_learners_variables_and_courses_walk_by_cursor(client, tenant, gql, world):
    h = tenant.key_headers
    learner = world["learners"][0]["id"]
    for variable in world["variables"]:
        await f.set_value(gql, variable["id"], learner, 1)
    for course in world["courses"][1:]:
        await f.set_value(gql, (await f.variable(gql, course["id"], "NUMBER"))["id"], learner, 2)
    walked = await walk(client, f"/api/learners/{learner}/variables", h, limit=2)
    everything = (await client.get(f"/api/learners/{learner}/variables", headers=h)).json()["data"]
    assert walked == everything and len(walked) == 8
    courses = await walk(client, f"/api/learners/{learner}/courses", h, limit=2)
    assert sorted(c["id"] for c in courses) == sorted(c["id"] for c in world["courses"])


async def test_api_keys_walk_by_cursor(client, tenant):
    for i in range(4):
        assert (await client.post("/api/api-keys", json={"name": f"k{i}"}, headers=tenant.user_headers)).is_success
    walked = await walk(client, "/api/api-keys", tenant.user_headers, limit=2)
    everything = (await client.get("/api/api-keys", headers=tenant.user_headers)).json()["data"]
    assert [k["id"] for k in walked] == [k["id"] for k in everything] and len(walked) == 5


def tampered(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[3] ^= 1  # one bit of the position
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


async def test_forged_malformed_and_foreign_cursors_are_refused(client, tenant, world):
    h = tenant.key_headers
    cursor = (await client.get("/api/learners", params={"limit": 2}, headers=h)).json()["pagination"]["next_cursor"]
    assert cursor
    for bad in [tampered(cursor), "not-a-cursor", "%%%", cursor[:-4], "x" * 600, ""]:
        response = await client.get("/api/learners", params={"limit": 2, "cursor": bad}, headers=h)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "invalid_parameter"
    # A cursor of one list is not one of another.
    response = await client.get("/api/courses", params={"cursor": cursor}, headers=h)
    assert response.status_code == 400
    response = await client.get(
        f"/api/learners/{world['learners'][0]['id']}/variables", params={"cursor": cursor}, headers=h
    )
    assert response.status_code == 400


async def test_another_servers_cursor_is_refused(tenant, world):
    from tests.conftest import app_client

    async with app_client(secret_key="another-server-secret-0123456789abcdef") as (other, _):
        cursor = (await other.get("/api/learners", params={"limit": 2}, headers=tenant.key_headers)).json()
        cursor = cursor["pagination"]["next_cursor"]
    async with app_client() as (client, _):
        response = await client.get("/api/learners", params={"cursor": cursor}, headers=tenant.key_headers)
    assert response.status_code == 400


async def test_graphql_lists_answer_next_cursors(gql: GQL, world):
    query = """query($cursor: String) { learners(limit: 4, cursor: $cursor) {
      data { id } pagination { hasMore nextCursor } } }"""
    first = (await gql(query))["learners"]
    second = (await gql(query, {"cursor": first["pagination"]["nextCursor"]}))["learners"]
    assert second["pagination"] == {"hasMore": False, "nextCursor": None}
    ids = [r["id"] for r in first["data"] + second["data"]]
    assert ids == [r["id"] for r in world["learners"]]
    refused = await gql.raw(query, {"cursor": "forged"})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
