"""Tenant isolation: another organization's object is answered exactly like a missing one, on every path."""

from __future__ import annotations

import random
from typing import Any

import httpx

from tests import factories as f
from tests.conftest import GQL, Tenant

REST_BY_ID = [
    ("GET", "/api/courses/{course}"),
    ("GET", "/api/courses/{course}/variables"),
    ("GET", "/api/courses/{course}/stats"),
    ("GET", "/api/variables/{variable}"),
    ("GET", "/api/variables/{variable}/values"),
    ("GET", "/api/variables/{variable}/aggregate"),
    ("GET", "/api/variables/{own_variable}/aggregate?course_run_id={run}"),
    ("GET", "/api/learners/{learner}"),
    ("GET", "/api/learners/{learner}/courses"),
    ("GET", "/api/learners/{learner}/variables"),
    ("GET", "/api/learners/{own_learner}/variables?course_id={course}"),
    ("GET", "/api/courses/external/{external_id}"),
    ("GET", "/api/learners/email/{email}"),
    ("POST", "/api/api-keys/{key}/revoke"),
]

GRAPHQL_BY_ID = [
    ("query($id: UUID!) { course(id: $id) { id } }", "course", "course"),
    ("query($id: UUID!) { courseRun(id: $id) { id } }", "run", "courseRun"),
    ("query($id: UUID!) { learner(id: $id) { id } }", "learner", "learner"),
    ("query($id: UUID!) { variable(id: $id) { id } }", "variable", "variable"),
    ("query($id: UUID!) { variableValues(variableId: $id) { data { id } } }", "variable", "variableValues"),
]

MUTATIONS_BY_ID = [
    ('mutation($id: UUID!) { updateCourse(id: $id, input: {name: "x"}) { __typename } }', "course"),
    ('mutation($id: UUID!) { updateLearner(id: $id, input: {name: "x"}) { __typename } }', "learner"),
    ('mutation($id: UUID!) { updateVariable(id: $id, input: {name: "x"}) { __typename } }', "variable"),
    ('mutation($id: UUID!) { createCourseRun(input: {courseId: $id, name: "x"}) { __typename } }', "course"),
    ('mutation($id: UUID!) { createVariable(input: {courseId: $id, name: "x", type: TEXT}) { __typename } }', "course"),
    ("mutation($id: UUID!, $own: UUID!) { enrollLearner(input: {learnerId: $id, courseId: $own}) { __typename } }",
     "learner"),
    ("mutation($id: UUID!, $own: UUID!) { setVariable(input: {variableId: $id, learnerId: $own, value: 1}) "
     "{ __typename } }", "variable"),
    ("mutation($id: UUID!, $own: UUID!) { setVariable(input: {variableId: $own, learnerId: $id, value: 1}) "
     "{ __typename } }", "learner"),
]  # fmt: skip


async def _populate(gql: GQL, tag: str) -> dict[str, Any]:
    course = await f.course(gql, f"{tag} course", externalId=f"EXT-{tag}")
    run = await f.run(gql, course["id"])
    variable = await f.variable(gql, course["id"], "NUMBER", "score")
    learner = await f.learner(gql, f"{tag}@example.com", f"{tag} learner")
    assert (await f.set_value(gql, variable["id"], learner["id"], 5, run["id"]))["__typename"] == "VariableValue"
    return {"course": course["id"], "run": run["id"], "variable": variable["id"], "learner": learner["id"],
            "external_id": f"EXT-{tag}", "email": f"{tag}@example.com"}  # fmt: skip


async def test_other_organizations_objects_are_not_found_everywhere(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    tenants = [tenant, other_tenant]
    data = [
        await _populate(GQL(client, t.key_headers), tag) for t, tag in zip(tenants, ("acme", "globex"), strict=True)
    ]
    for i, t in enumerate(tenants):
        data[i]["key"] = str(t.key_id)

    rng = random.Random(20261126)
    pairs = [(rng.randrange(2), path) for path in REST_BY_ID for _ in range(3)]
    for me, (method, template) in pairs:
        mine, theirs = data[me], data[1 - me]
        path = template.format(**theirs, own_variable=mine["variable"], own_learner=mine["learner"])
        principal = tenants[me].user_headers if "api-keys" in path else tenants[me].key_headers
        response = await client.request(method, path, headers=principal)
        assert response.status_code == 404, (me, path, response.text)
        assert set(response.json()) == {"error", "message"}
        own = template.format(**mine, own_variable=mine["variable"], own_learner=mine["learner"])
        if method == "GET":
            assert (await client.get(own, headers=principal)).status_code == 200, own

    for me in rng.choices([0, 1], k=10):
        gql = GQL(client, tenants[me].key_headers)
        theirs, mine = data[1 - me], data[me]
        for query, kind, field in GRAPHQL_BY_ID:
            assert (await gql(query, {"id": theirs[kind]}))[field] is None, query
            assert (await gql(query, {"id": mine[kind]}))[field] is not None, query
        for query, kind in MUTATIONS_BY_ID:
            own = mine["course"] if "courseId: $own" in query else mine["variable" if "variableId: $own" in query
                                                                            else "learner"]  # fmt: skip
            variables = {"id": theirs[kind], **({"own": own} if "$own" in query else {})}
            result = next(iter((await gql(query, variables)).values()))
            assert result["__typename"] == "NotFoundError", (query, result)

    for me, t in enumerate(tenants):
        gql = GQL(client, t.key_headers)
        lists = await gql("""{ courses { data { id } } learners { data { id } } variables { data { id } }
                              learnersMatching: learners(search: "example.com") { data { id } } }""")  # fmt: skip
        assert [c["id"] for c in lists["courses"]["data"]] == [data[me]["course"]]
        assert [x["id"] for x in lists["learners"]["data"]] == [data[me]["learner"]]
        assert [x["id"] for x in lists["learnersMatching"]["data"]] == [data[me]["learner"]]
        assert [v["id"] for v in lists["variables"]["data"]] == [data[me]["variable"]]
        rest_lists = [
            "/api/courses", "/api/learners", "/api/variables",
            f"/api/variables?course_id={data[1 - me]['course']}",
        ]  # fmt: skip
        for path in rest_lists:
            ids = {row["id"] for row in (await client.get(path, headers=t.key_headers)).json()["data"]}
            assert not ids & {data[1 - me]["course"], data[1 - me]["learner"], data[1 - me]["variable"]}, path
        keys = (await client.get("/api/api-keys", headers=t.user_headers)).json()["data"]
        assert [k["id"] for k in keys] == [str(t.key_id)]

    # Nothing the other tenant tried changed anything here.
    for me, t in enumerate(tenants):
        stats = (await client.get(f"/api/courses/{data[me]['course']}/stats", headers=t.key_headers)).json()
        assert stats["values_recorded"] == 1 and stats["variables"] == 1
        runs = await GQL(client, t.key_headers)(
            "query($id: UUID!) { course(id: $id) { runs { id } } }", {"id": data[me]["course"]}
        )
        assert len(runs["course"]["runs"]) == 1
