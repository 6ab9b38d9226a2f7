"""A key confined to courses sees exactly those courses, their variables and values, and learners' values in them;
every other course, variable, chatbot and pipeline is a 404, on every REST path and GraphQL root field."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests import factories as f
from tests.conftest import GQL, Tenant

RUN = 'mutation($c: UUID!) { r: createCourseRun(input: {courseId: $c, name: "Run"}) { ... on CourseRun { id } } }'
ENROL = "mutation($l: UUID!, $c: UUID!) { enrollLearner(input: {learnerId: $l, courseId: $c}) { __typename } }"


@pytest.fixture
async def world(client: httpx.AsyncClient, tenant: Tenant, gql: GQL) -> dict[str, Any]:
    seen = await f.course(gql, "Seen", externalId="SEEN")
    hidden = await f.course(gql, "Hidden", externalId="HIDDEN")
    bot = await f.chatbot(gql, "Bot", externalId="BOT")
    w: dict[str, Any] = {
        "seen": seen,
        "hidden": hidden,
        "bot": bot,
        "seen_var": await f.variable(gql, seen["id"], "NUMBER", "seen_score", direction="OUTPUT"),
        "hidden_var": await f.variable(gql, hidden["id"], "NUMBER", "hidden_score"),
        "bot_var": await f.variable(gql, None, "NUMBER", "heard", chatbotId=bot["id"], direction="INPUT"),
        "org_var": await f.variable(gql, None, "TEXT", "org_wide"),
        "hidden_run": (await gql(RUN, {"c": hidden["id"]}))["r"],
        "pipeline": await f.pipeline(gql, "Flow"),
        "learner": await f.learner(gql, "both@example.com", "Both"),
    }
    await f.node(gql, w["pipeline"]["id"], "COURSE", seen["id"])
    await f.node(gql, w["pipeline"]["id"], "CHATBOT", bot["id"])
    await f.connect(gql, w["pipeline"]["id"], w["seen_var"]["id"], w["bot_var"]["id"])
    for variable, value in (("seen_var", 10), ("hidden_var", 20), ("org_var", "x")):
        await f.set_value(gql, w[variable]["id"], w["learner"]["id"], value)
    made = await client.post(
        "/api/api-keys", json={"name": "confined", "course_ids": [seen["id"]]}, headers=tenant.user_headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["course_ids"] == [seen["id"]]
    w["headers"] = {"X-API-Key": made.json()["key"]}
    w["full_headers"] = tenant.key_headers
    return w


async def test_every_rest_path_shows_only_the_courses_of_the_key(client, world):  # type: ignore[no-untyped-def]
    h, seen, hidden, bot = world["headers"], world["seen"], world["hidden"], world["bot"]
    learner = world["learner"]["id"]

    async def get(path: str) -> httpx.Response:
        return await client.get(path, headers=h)

    assert [c["name"] for c in (await get("/api/courses")).json()["data"]] == ["Seen"]
    assert [v["name"] for v in (await get("/api/variables")).json()["data"]] == ["seen_score"]
    var = f"/api/variables/{world['seen_var']['id']}"
    for path in (f"/api/courses/{seen['id']}", "/api/courses/external/SEEN", f"/api/courses/{seen['id']}/variables",
                 f"/api/courses/{seen['id']}/stats", var, f"{var}/values", f"{var}/aggregate", f"{var}/values.csv",
                 f"/api/learners/{learner}"):  # fmt: skip
        assert (await get(path)).status_code == 200, path
    course = f"/api/courses/{hidden['id']}"
    for path in (course, "/api/courses/external/HIDDEN", f"{course}/variables", f"{course}/stats",
                 f"/api/chatbots/{bot['id']}", "/api/chatbots/external/BOT", f"/api/chatbots/{bot['id']}/variables",
                 f"/api/pipelines/{world['pipeline']['id']}",
                 *(f"/api/variables/{world[v]['id']}{tail}" for v in ("hidden_var", "bot_var", "org_var")
                   for tail in ("", "/values", "/aggregate", "/values.csv"))):  # fmt: skip
        answer = await get(path)
        assert answer.status_code == 404 and answer.json()["error"] == "not_found", path
    assert (await get("/api/chatbots")).json()["data"] == [] and (await get("/api/pipelines")).json()["data"] == []

    # A learner's data: only what lies in the key's courses.
    assert [c["name"] for c in (await get(f"/api/learners/{learner}/courses")).json()["data"]] == ["Seen"]
    assert [v["name"] for v in (await get(f"/api/learners/{learner}/variables")).json()["data"]] == ["seen_score"]
    export = (await get(f"/api/learners/{learner}/export")).json()
    assert {v["variable_id"] for v in export["values"]} == {world["seen_var"]["id"]}
    assert [e["course_id"] for e in export["enrollments"]] == [seen["id"]]
    assert [v["name"] for v in export["current_values"]] == ["seen_score"]
    rows = list(csv.DictReader(io.StringIO((await get(f"/api/variables/{world['seen_var']['id']}/values.csv")).text)))
    assert [r["value"] for r in rows] == ["10"]


async def test_writes_reach_only_the_courses_of_the_key(client, world, tenant):  # type: ignore[no-untyped-def]
    h, learner = world["headers"], world["learner"]["id"]
    seen = await client.post("/api/variables/set", json={"variable_id": world["seen_var"]["id"], "learner_id": learner,
                                                         "value": 11}, headers=h)  # fmt: skip
    assert seen.status_code == 201
    assert seen.json()["propagated"] == []  # the pipeline still runs, out of the key's sight
    carried = await client.get(f"/api/learners/{learner}/variables", headers=tenant.key_headers)
    assert {v["name"]: v["value"] for v in carried.json()["data"]}["heard"] == 11
    for name in ("hidden_var", "bot_var", "org_var"):
        body = {"variable_id": world[name]["id"], "learner_id": learner, "value": 1}
        assert (await client.post("/api/variables/set", json=body, headers=h)).status_code == 404, name
    batch = {"values": [{"variable_id": world["seen_var"]["id"], "learner_id": learner, "value": 12},
                        {"variable_id": world["hidden_var"]["id"], "learner_id": learner, "value": 1}]}  # fmt: skip
    refused = await client.post("/api/variables/set-many", json=batch, headers=h)
    assert refused.status_code == 400 and [i["index"] for i in refused.json()["items"]] == [1]
    values = await client.get(f"/api/variables/{world['seen_var']['id']}/values", headers=h)
    assert [v["value"] for v in values.json()["data"]] == [11, 10]  # the refused batch wrote nothing
    query = 'mutation { createCourse(input: {name: "x"}) { __typename } }'
    create = await client.post("/graphql", json={"query": query}, headers=h)
    assert create.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await client.post("/api/pipelines", json={"name": "x"}, headers=h)).status_code == 403


async def test_graphql_root_fields_and_nested_reach(client, world):  # type: ignore[no-untyped-def]
    gql = GQL(client, world["headers"])
    ids = {"seen": world["seen"]["id"], "hidden": world["hidden"]["id"], "bot": world["bot"]["id"],
           "run": world["hidden_run"]["id"], "hv": world["hidden_var"]["id"], "sv": world["seen_var"]["id"],
           "p": world["pipeline"]["id"], "l": world["learner"]["id"]}  # fmt: skip
    data = await gql(
        """query($seen: UUID!, $hidden: UUID!, $bot: UUID!, $run: UUID!, $hv: UUID!, $sv: UUID!, $p: UUID!, $l: UUID!) {
          seen: course(id: $seen) { name } hidden: course(id: $hidden) { name }
          hiddenByExternal: courseByExternalId(externalId: "HIDDEN") { name } run: courseRun(id: $run) { name }
          chatbot(id: $bot) { name } botByExternal: chatbotByExternalId(externalId: "BOT") { name }
          chatbots { data { name } } pipelines { data { name } } pipeline(id: $p) { name }
          hiddenVar: variable(id: $hv) { name } hiddenValues: variableValues(variableId: $hv) { data { value } }
          seenVar: variable(id: $sv) { name incoming { id } outgoing { id } values { value source { value } } }
          learnerValues(learnerId: $l) { data { variableId } }
          learner(id: $l) { courses { name } enrollments { courseId } variables { name }
                            hidden: variables(courseId: $hidden) { name } }
          variables { data { name } } courses { data { name } }
        }""",
        ids,
    )
    assert data["seen"] == {"name": "Seen"}
    for field in (
        "hidden",
        "hiddenByExternal",
        "run",
        "chatbot",
        "botByExternal",
        "pipeline",
        "hiddenVar",
        "hiddenValues",
    ):
        assert data[field] is None, field
    assert data["chatbots"]["data"] == [] and data["pipelines"]["data"] == []
    assert data["seenVar"]["incoming"] == [] and data["seenVar"]["outgoing"] == []
    assert {v["variableId"] for v in data["learnerValues"]["data"]} == {world["seen_var"]["id"]}
    assert data["learner"]["courses"] == [{"name": "Seen"}] and data["learner"]["hidden"] is None
    assert [e["courseId"] for e in data["learner"]["enrollments"]] == [world["seen"]["id"]]
    assert [v["name"] for v in data["learner"]["variables"]] == ["seen_score"]
    assert [v["name"] for v in data["variables"]["data"]] == ["seen_score"]
    assert [c["name"] for c in data["courses"]["data"]] == ["Seen"]


async def test_course_ids_must_exist_in_the_organization(client, tenant, other_tenant):  # type: ignore[no-untyped-def]
    theirs = await f.course(GQL(client, other_tenant.key_headers))
    for ids in ([theirs["id"]], ["00000000-0000-0000-0000-000000000000"], [], "x", ["not-a-uuid"]):
        answer = await client.post("/api/api-keys", json={"name": "x", "course_ids": ids}, headers=tenant.user_headers)
        assert answer.status_code == 400, ids
    keys = (await client.get("/api/api-keys", headers=tenant.user_headers)).json()["data"]
    assert [k["name"] for k in keys] == ["test"]


async def test_a_rolled_key_keeps_its_confinement(client, world, tenant):  # type: ignore[no-untyped-def]
    keys = (await client.get("/api/api-keys", headers=tenant.user_headers)).json()["data"]
    confined = next(k for k in keys if k["name"] == "confined")
    rolled = await client.post(f"/api/api-keys/{confined['id']}/roll", json={}, headers=tenant.user_headers)
    assert rolled.json()["course_ids"] == [world["seen"]["id"]]
    new = {"X-API-Key": rolled.json()["key"]}
    assert [c["name"] for c in (await client.get("/api/courses", headers=new)).json()["data"]] == ["Seen"]


async def test_a_confined_key_sees_no_trace_of_where_its_values_were_carried(client, world):  # type: ignore[no-untyped-def]
    h, learner = world["headers"], world["learner"]["id"]
    hidden_ids = {world["bot_var"]["id"], world["hidden_var"]["id"]}
    body = {"variable_id": world["seen_var"]["id"], "learner_id": learner, "value": 11}
    answers = [
        await client.post("/api/variables/set", json=body, headers=h),
        await client.post("/api/variables/set-many", json={"values": [body]}, headers=h),
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["propagated"] == [] and answers[1].json()["data"][0]["propagated"] == []
    query = """query($id: UUID!) { variable(id: $id) { incoming { id } outgoing { id }
      values { id connectionId source { id } propagated { variableId valueId connectionId } } } }"""
    graph = await client.post(
        "/graphql", json={"query": query, "variables": {"id": world["seen_var"]["id"]}}, headers=h
    )
    text = graph.text
    assert "errors" not in graph.json(), text
    leaked = [i for i in hidden_ids if i in text]
    assert leaked == [] and '"connectionId":null' in text and '"propagated":[]' in text
    # The organization's own key sees them.
    full = await client.post("/api/variables/set", json=body, headers=world["full_headers"])
    assert [p["variable_id"] for p in full.json()["propagated"]] == [world["bot_var"]["id"]]
