"""The REST API: every documented endpoint, its parameters and errors, and parity with GraphQL."""

from __future__ import annotations

from typing import Any

import pytest

from rest.documents import DOCUMENTS
from rest.endpoints import ENDPOINTS
from tests import factories as f
from tests.conftest import GQL, Tenant

MISSING = "00000000-0000-0000-0000-0000000000ff"


@pytest.fixture
async def world(gql: GQL) -> dict[str, Any]:
    course = await f.course(gql, "Python 101", externalId="PY-101", description="intro")
    run = await f.run(gql, course["id"])
    score = await f.variable(gql, course["id"], "NUMBER", "quiz_score")
    level = await f.variable(gql, course["id"], "TEXT", "skill_level")
    lang = await f.variable(gql, None, "TEXT", "language")
    ada = await f.learner(gql, "ada@example.com", "Ada Lovelace")
    grace = await f.learner(gql, "grace@example.com", "Grace Hopper")
    await f.set_value(gql, score["id"], ada["id"], 80, run["id"])
    await f.set_value(gql, score["id"], ada["id"], 90, run["id"])
    await f.set_value(gql, score["id"], grace["id"], 70, run["id"])
    await f.set_value(gql, level["id"], ada["id"], "advanced")
    await f.set_value(gql, lang["id"], ada["id"], "en")
    return {"course": course, "run": run, "score": score, "level": level, "lang": lang, "ada": ada, "grace": grace}


async def test_every_documented_path_is_routed():
    documented = {
        ("POST", "/api/api-keys"), ("GET", "/api/api-keys"), ("POST", "/api/api-keys/{key_id}/revoke"),
        ("GET", "/api/variables"), ("GET", "/api/variables/{variable_id}"),
        ("GET", "/api/variables/{variable_id}/values"), ("POST", "/api/variables/set"),
        ("GET", "/api/variables/{variable_id}/aggregate"), ("GET", "/api/courses"),
        ("GET", "/api/courses/{course_id}"), ("GET", "/api/courses/external/{external_id}"),
        ("GET", "/api/courses/{course_id}/variables"), ("GET", "/api/courses/{course_id}/stats"),
        ("GET", "/api/learners"), ("GET", "/api/learners/{learner_id}"), ("GET", "/api/learners/email/{email}"),
        ("GET", "/api/learners/{learner_id}/courses"), ("GET", "/api/learners/{learner_id}/variables"),
        # DESIGN.md's pipelines contract
        ("GET", "/api/chatbots"), ("GET", "/api/chatbots/{chatbot_id}"),
        ("GET", "/api/chatbots/external/{external_id}"), ("GET", "/api/chatbots/{chatbot_id}/variables"),
        ("GET", "/api/pipelines"), ("POST", "/api/pipelines"),
        ("GET", "/api/pipelines/{pipeline_id}"), ("PATCH", "/api/pipelines/{pipeline_id}"),
        ("DELETE", "/api/pipelines/{pipeline_id}"), ("POST", "/api/pipelines/{pipeline_id}/nodes"),
        ("DELETE", "/api/pipelines/{pipeline_id}/nodes/{node_id}"),
        ("POST", "/api/pipelines/{pipeline_id}/connections"),
        ("DELETE", "/api/pipelines/{pipeline_id}/connections/{connection_id}"),
        # DESIGN.md's integrator write path
        ("POST", "/api/variables/set-many"), ("GET", "/api/variables/{variable_id}/values.csv"),
        ("GET", "/api/learners/{learner_id}/export"),
        # DESIGN.md's administration
        ("DELETE", "/api/learners/{learner_id}"), ("GET", "/api/audit-log"), ("GET", "/api/members"),
        ("POST", "/api/invitations"), ("PATCH", "/api/members/{user_id}"), ("DELETE", "/api/members/{user_id}"),
        ("POST", "/api/api-keys/{key_id}/roll"), ("GET", "/api/api-keys/{key_id}/usage"),
    }  # fmt: skip
    assert {(e.method, e.documented_path) for e in ENDPOINTS} == documented


async def test_documents_validate_against_the_schema(services):
    from graphql import parse, validate

    for name, document in DOCUMENTS.items():
        errors = validate(services.schema._schema, parse(document))
        assert not errors, (name, errors)


async def test_courses_endpoints(client, tenant: Tenant, world):
    h = tenant.key_headers
    course = world["course"]
    listed = (await client.get("/api/courses", headers=h)).json()
    assert listed["pagination"] == {"limit": 100, "offset": 0, "has_more": False, "next_cursor": None}
    assert [c["id"] for c in listed["data"]] == [course["id"]]
    assert set(listed["data"][0]) == {"id", "external_id", "name", "description", "active", "created_at", "updated_at"}

    one = await client.get(f"/api/courses/{course['id']}", headers=h)
    assert one.status_code == 200 and one.json()["external_id"] == "PY-101"
    by_external = await client.get("/api/courses/external/PY-101", headers=h)
    assert by_external.json()["id"] == course["id"]
    assert (await client.get("/api/courses/external/NOPE", headers=h)).status_code == 404

    variables = (await client.get(f"/api/courses/{course['id']}/variables", headers=h)).json()
    assert sorted(v["name"] for v in variables["data"]) == ["quiz_score", "skill_level"]
    assert {v["type"] for v in variables["data"]} == {"number", "text"}

    stats = (await client.get(f"/api/courses/{course['id']}/stats", headers=h)).json()
    assert stats == {
        "course_id": course["id"], "enrolled_learners": 2, "learners_with_values": 2, "variables": 2,
        "active_variables": 2, "values_recorded": 4, "last_activity_at": stats["last_activity_at"],
    }  # fmt: skip
    assert stats["last_activity_at"].endswith("Z")


async def test_learners_endpoints(client, tenant: Tenant, world):
    h = tenant.key_headers
    ada = world["ada"]
    listed = (await client.get("/api/learners?limit=1", headers=h)).json()
    assert len(listed["data"]) == 1 and listed["pagination"]["has_more"] is True
    page2 = (await client.get("/api/learners?limit=1&offset=1", headers=h)).json()
    assert page2["data"][0]["id"] != listed["data"][0]["id"] and page2["pagination"]["has_more"] is False
    for term in ("LOVELACE", "Ada@EXAMPLE", "ada l"):
        found = (await client.get(f"/api/learners?search={term}", headers=h)).json()["data"]
        assert [x["id"] for x in found] == [ada["id"]], term
    assert (await client.get("/api/learners?search=%25", headers=h)).json()["data"] == []

    one = (await client.get(f"/api/learners/{ada['id']}", headers=h)).json()
    assert set(one) == {"id", "email", "name", "external_id", "created_at"}
    by_email = await client.get("/api/learners/email/ADA@example.com", headers=h)
    assert by_email.json()["id"] == ada["id"]
    assert (await client.get("/api/learners/email/nobody@example.com", headers=h)).status_code == 404

    courses = (await client.get(f"/api/learners/{ada['id']}/courses", headers=h)).json()
    assert [c["id"] for c in courses["data"]] == [world["course"]["id"]]
    assert set(courses["data"][0]) == {"id", "external_id", "name", "description", "active", "created_at", "updated_at"}

    current = (await client.get(f"/api/learners/{ada['id']}/variables", headers=h)).json()["data"]
    assert {v["name"]: v["value"] for v in current} == {"quiz_score": 90, "skill_level": "advanced", "language": "en"}
    only_course = (
        await client.get(f"/api/learners/{ada['id']}/variables?course_id={world['course']['id']}", headers=h)
    ).json()["data"]
    assert sorted(v["name"] for v in only_course) == ["quiz_score", "skill_level"]
    unknown_course = await client.get(f"/api/learners/{ada['id']}/variables?course_id={MISSING}", headers=h)
    assert unknown_course.status_code == 404


async def test_variables_endpoints(client, tenant: Tenant, world):
    h = tenant.key_headers
    score = world["score"]
    all_vars = (await client.get("/api/variables", headers=h)).json()["data"]
    assert len(all_vars) == 3
    in_course = (await client.get(f"/api/variables?course_id={world['course']['id']}", headers=h)).json()["data"]
    assert len(in_course) == 2
    assert (await client.get("/api/variables?active=false", headers=h)).json()["data"] == []

    one = (await client.get(f"/api/variables/{score['id']}", headers=h)).json()
    assert set(one) == {"id", "course_id", "chatbot_id", "name", "description", "type", "direction", "active",
                        "default_value", "created_at", "updated_at"}  # fmt: skip
    assert one["type"] == "number" and one["direction"] == "state" and one["chatbot_id"] is None

    values = (await client.get(f"/api/variables/{score['id']}/values", headers=h)).json()
    assert [v["value"] for v in values["data"]] == [70, 90, 80]
    assert set(values["data"][0]) == {"id", "variable_id", "learner_id", "course_run_id", "value", "recorded_at"}
    ada_only = await client.get(f"/api/variables/{score['id']}/values?learner_id={world['ada']['id']}", headers=h)
    assert [v["value"] for v in ada_only.json()["data"]] == [90, 80]
    paged = (await client.get(f"/api/variables/{score['id']}/values?limit=2&offset=2", headers=h)).json()
    assert [v["value"] for v in paged["data"]] == [80]


async def test_set_variable_endpoint(client, tenant: Tenant, world):
    h = tenant.key_headers
    body = {"variable_id": world["score"]["id"], "learner_id": world["grace"]["id"], "value": "75.5",
            "course_run_id": world["run"]["id"]}  # fmt: skip
    created = await client.post("/api/variables/set", json=body, headers=h)
    assert created.status_code == 201
    assert created.json()["value"] == 75.5
    assert set(created.json()) == {"id", "variable_id", "learner_id", "course_run_id", "value", "recorded_at",
                                   "propagated"}  # fmt: skip
    assert created.json()["propagated"] == []

    def bad(**changes: Any) -> dict[str, Any]:
        return {**body, **changes}

    cases = [
        (bad(value="ten"), 400),
        (bad(value=None), 400),
        (bad(variable_id="nope"), 400),
        (bad(learner_id=MISSING), 404),
        (bad(variable_id=MISSING), 404),
        (bad(course_run_id=MISSING), 404),
        ({k: v for k, v in body.items() if k != "value"}, 400),
        ({k: v for k, v in body.items() if k != "learner_id"}, 400),
    ]
    for payload, status in cases:
        response = await client.post("/api/variables/set", json=payload, headers=h)
        assert response.status_code == status, (payload, response.text)
        assert set(response.json()) == {"error", "message"}
    history = (await client.get(f"/api/variables/{world['score']['id']}/values", headers=h)).json()["data"]
    assert len(history) == 4  # the three from the fixture and the one accepted above, nothing from the refusals


async def test_aggregate_endpoint_known_numbers(client, tenant: Tenant, gql: GQL):
    h = tenant.key_headers
    course = await f.course(gql)
    run = await f.run(gql, course["id"])
    score = await f.variable(gql, course["id"], "NUMBER")
    learners = [await f.learner(gql) for _ in range(5)]
    # Current values 10, 20, 30, 40, 50 (the first learner's 99 is superseded), one in a run.
    await f.set_value(gql, score["id"], learners[0]["id"], 99)
    for learner, value in zip(learners, [10, 20, 30, 40, 50], strict=True):
        await f.set_value(gql, score["id"], learner["id"], value)
    await f.set_value(gql, score["id"], learners[0]["id"], 7, run["id"])

    agg = (await client.get(f"/api/variables/{score['id']}/aggregate", headers=h)).json()
    assert agg["type"] == "number"
    assert agg["values_recorded"] == 7
    assert agg["learners_with_value"] == 5
    numeric = agg["numeric"]
    assert numeric["count"] == 6  # five plain current values and one in the run
    assert numeric["min"] == 7 and numeric["max"] == 50 and numeric["sum"] == 157
    assert numeric["mean"] == pytest.approx(157 / 6)
    assert numeric["median"] == pytest.approx(25.0)
    assert numeric["percentiles"]["p25"] == pytest.approx(12.5)
    assert numeric["percentiles"]["p75"] == pytest.approx(37.5)
    assert numeric["percentiles"]["p90"] == pytest.approx(45.0)
    import statistics

    assert numeric["stddev"] == pytest.approx(statistics.stdev([7, 10, 20, 30, 40, 50]))
    assert agg["distribution"] is None

    in_run = (await client.get(f"/api/variables/{score['id']}/aggregate?course_run_id={run['id']}", headers=h)).json()
    assert in_run["values_recorded"] == 1 and in_run["numeric"]["median"] == 7
    missing_run = await client.get(f"/api/variables/{score['id']}/aggregate?course_run_id={MISSING}", headers=h)
    assert missing_run.status_code == 404

    level = await f.variable(gql, course["id"], "TEXT")
    for learner, value in zip(learners, ["a", "b", "a", "c", "a"], strict=True):
        await f.set_value(gql, level["id"], learner["id"], value)
    dist = (await client.get(f"/api/variables/{level['id']}/aggregate", headers=h)).json()
    assert dist["numeric"] is None
    assert dist["distribution"][0] == {"value": "a", "count": 3}
    assert sorted(d["value"] for d in dist["distribution"][1:]) == ["b", "c"]

    empty = await f.variable(gql, course["id"], "NUMBER")
    nothing = (await client.get(f"/api/variables/{empty['id']}/aggregate", headers=h)).json()
    assert nothing["values_recorded"] == 0 and nothing["numeric"] is None and nothing["first_recorded_at"] is None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/courses/not-a-uuid", 400),
        (f"/api/courses/{MISSING}", 404),
        (f"/api/courses/{MISSING}/variables", 404),
        (f"/api/courses/{MISSING}/stats", 404),
        ("/api/courses?limit=0", 400),
        ("/api/courses?limit=1001", 400),
        ("/api/courses?limit=abc", 400),
        ("/api/courses?offset=-1", 400),
        ("/api/courses?active=maybe", 400),
        ("/api/variables?course_id=xyz", 400),
        (f"/api/variables/{MISSING}", 404),
        (f"/api/variables/{MISSING}/values", 404),
        (f"/api/variables/{MISSING}/aggregate", 404),
        ("/api/variables/123/values?learner_id=bad", 400),
        (f"/api/learners/{MISSING}", 404),
        (f"/api/learners/{MISSING}/courses", 404),
        (f"/api/learners/{MISSING}/variables", 404),
        ("/api/learners/not-a-uuid/variables", 400),
        ("/api/learners?search=" + "x" * 300, 400),
        ("/api/no-such-thing", 404),
    ],
)
async def test_bad_parameters_and_unknown_ids(client, tenant: Tenant, path: str, status: int):
    response = await client.get(path, headers=tenant.key_headers)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"} and body["message"]


async def test_bodies_method_and_size_errors(client, tenant: Tenant):
    h = tenant.key_headers
    malformed = await client.post("/api/variables/set", content=b"{not json", headers=h)
    assert malformed.status_code == 400 and malformed.json()["error"] == "invalid_json"
    not_object = await client.post("/api/variables/set", json=[1, 2], headers=h)
    assert not_object.status_code == 400
    huge = await client.post("/api/variables/set", content=b"x" * (1024 * 1024 + 1), headers=h)
    assert huge.status_code == 413 and huge.json()["error"] == "payload_too_large"
    wrong_method = await client.delete("/api/courses", headers=h)
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"error", "message"}


async def test_the_body_limit_passes_a_body_sent_in_chunks_down_whole_both_ways():
    """Handlers read the buffered body from the scope; anything else still reads it through `receive`."""
    from access.middleware import BODY_KEY, BodyLimitMiddleware

    seen: dict[str, bytes] = {}

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen["scope"] = scope[BODY_KEY]
        seen["receive"] = (await receive())["body"]

    chunks = [{"type": "http.request", "body": part, "more_body": more}
              for part, more in ((b'{"a"', True), (b": ", True), (b"1}", False))]  # fmt: skip

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    scope = {"type": "http", "method": "POST", "headers": []}
    await BodyLimitMiddleware(inner, max_bytes=100)(scope, receive, None)
    assert seen == {"scope": b'{"a": 1}', "receive": b'{"a": 1}'}


async def test_rest_and_graphql_return_the_same_data(client, tenant: Tenant, world, gql: GQL):
    """Each read endpoint against a hand-written GraphQL query for the same data."""
    h = tenant.key_headers
    ids = {k: v["id"] for k, v in world.items()}

    async def both(path: str, query: str, pick) -> None:  # type: ignore[no-untyped-def]
        rest = (await client.get(path, headers=h)).json()
        graph = pick(await gql(query, {"id": ids.get("course")}) if "$id" in query else await gql(query))
        expected = _normalize(graph)
        assert _project(_normalize(rest), expected) == expected, path

    await both("/api/courses", "{ courses { data { id name externalId active createdAt } } }",
               lambda d: d["courses"]["data"])  # fmt: skip
    await both(f"/api/courses/{ids['course']}", "query($id: UUID!) { course(id: $id) { id name description } }",
               lambda d: d["course"])  # fmt: skip
    await both("/api/courses/external/PY-101", '{ courseByExternalId(externalId: "PY-101") { id updatedAt } }',
               lambda d: d["courseByExternalId"])  # fmt: skip
    await both(f"/api/courses/{ids['course']}/variables",
               "query($id: UUID!) { course(id: $id) { variables { id name type defaultValue } } }",
               lambda d: d["course"]["variables"])  # fmt: skip
    await both(f"/api/courses/{ids['course']}/stats",
               "query($id: UUID!) { course(id: $id) { stats { enrolledLearners variables valuesRecorded } } }",
               lambda d: d["course"]["stats"])  # fmt: skip
    await both("/api/learners", "{ learners { data { id email name } } }", lambda d: d["learners"]["data"])
    await both(f"/api/learners/{ids['ada']}", f'{{ learner(id: "{ids["ada"]}") {{ id email createdAt }} }}',
               lambda d: d["learner"])  # fmt: skip
    await both("/api/learners/email/ada@example.com", '{ learnerByEmail(email: "ada@example.com") { id } }',
               lambda d: d["learnerByEmail"])  # fmt: skip
    await both(f"/api/learners/{ids['ada']}/courses", f'{{ learner(id: "{ids["ada"]}") {{ courses {{ id name }} }} }}',
               lambda d: d["learner"]["courses"])  # fmt: skip
    await both(f"/api/learners/{ids['ada']}/variables",
               f'{{ learner(id: "{ids["ada"]}") {{ variables {{ variableId name value recordedAt }} }} }}',
               lambda d: d["learner"]["variables"])  # fmt: skip
    await both("/api/variables", "{ variables { data { id name courseId } } }", lambda d: d["variables"]["data"])
    await both(f"/api/variables/{ids['score']}", f'{{ variable(id: "{ids["score"]}") {{ id name active }} }}',
               lambda d: d["variable"])  # fmt: skip
    await both(f"/api/variables/{ids['score']}/values",
               f'{{ variableValues(variableId: "{ids["score"]}") {{ data {{ id value learnerId }} }} }}',
               lambda d: d["variableValues"]["data"])  # fmt: skip
    await both(f"/api/variables/{ids['score']}/aggregate",
               f'{{ variable(id: "{ids["score"]}") {{ aggregate {{ valuesRecorded learnersWithValue '
               f"numeric {{ mean median }} }} }} }}",
               lambda d: d["variable"]["aggregate"])  # fmt: skip


def _project(rest: Any, graph: Any) -> Any:
    """REST objects carry every field; the GraphQL side selects some: compare on the GraphQL side's keys."""
    if isinstance(graph, list) and isinstance(rest, list):
        return [_project(r, g) for r, g in zip(rest, graph, strict=False)] + rest[len(graph) :]
    if isinstance(graph, dict) and isinstance(rest, dict):
        return {k: _project(rest.get(k), g) for k, g in graph.items()}
    return rest


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _normalize(value: Any) -> Any:
    """Keys to snake_case, enum names lowered, list envelopes unwrapped."""
    if isinstance(value, dict) and "data" in value and "pagination" in value:
        value = value["data"]
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, dict):
        return {_snake(k): _normalize(v) for k, v in value.items()}
    if value in ("NUMBER", "TEXT", "BOOLEAN", "JSON"):
        return value.lower()
    return value


def test_uuid_helper_rejects_garbage():
    from access.errors import APIError
    from rest.params import as_id

    canonical = "0E984725-C51C-4BF4-9960-E1C80E27ABA0"
    assert as_id(canonical, "id") == canonical  # the text goes on as sent: the GraphQL layer parses it
    assert as_id("{" + canonical + "}", "id") == canonical.lower()  # other forms uuid.UUID takes, normalized
    assert as_id(canonical.replace("-", ""), "id") == canonical.lower()
    for garbage in ("5", canonical + "0", canonical[:-1] + "g", canonical + "\n", 5, None):
        with pytest.raises(APIError):
            as_id(garbage, "id")
