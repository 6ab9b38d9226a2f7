"""What a careless or hostile caller sends gets a 4xx with the error body and changes nothing; what is our fault is
masked, with a request id to quote. On both databases."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from app.logging import redact
from tests import factories as f
from tests.conftest import GQL, Tenant

BIG = 2**64


async def _world(gql: GQL) -> dict[str, Any]:
    course = await f.course(gql)
    return {
        "course": course,
        "number": await f.variable(gql, course["id"], "NUMBER", "score"),
        "json": await f.variable(gql, course["id"], "JSON", "answers"),
        "text": await f.variable(gql, course["id"], "TEXT", "notes"),
        "learner": await f.learner(gql, "emile@example.com", "Émile Zola"),
    }


async def _values(client: httpx.AsyncClient, h: dict[str, str], variable_id: str) -> list[Any]:
    return [v["value"] for v in (await client.get(f"/api/variables/{variable_id}/values", headers=h)).json()["data"]]


def _refused(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "message"}, response.text


async def test_a_nul_character_anywhere_is_refused_and_nothing_is_stored(client: httpx.AsyncClient, gql: GQL,
                                                                          tenant: Tenant):  # fmt: skip
    h, w = tenant.key_headers, await _world(gql)
    for path in ("/api/learners?search=%00", "/api/learners?search=a%00b", "/api/learners/email/a%00b@example.com",
                 "/api/courses/external/x%00y"):  # fmt: skip
        _refused(await client.get(path, headers=h))
    set_ = "/api/variables/set"
    base = {"variable_id": w["text"]["id"], "learner_id": w["learner"]["id"]}
    _refused(await client.post(set_, json={**base, "value": "a\u0000b"}, headers=h))
    _refused(await client.post(set_, json={**base, "variable_id": w["json"]["id"], "value": {"k\u0000": 1}}, headers=h))
    _refused(await client.post(set_, json={**base, "variable_id": w["json"]["id"], "value": ["\u0000"]}, headers=h))
    query = 'query { learners(search: "\\u0000") { data { id } } }'
    _refused(await client.post("/graphql", json={"query": query}, headers=h))
    variables = {"input": {**{"variableId": base["variable_id"], "learnerId": base["learner_id"]}, "value": "\u0000"}}
    _refused(await client.post("/graphql", json={"query": f.SET, "variables": variables}, headers=h))
    for variable in ("text", "json"):
        assert await _values(client, h, w[variable]["id"]) == []
    # A backslash written out is not a NUL, and stays exactly as sent.
    ok = await client.post(set_, json={**base, "value": "C:\\temp\\new"}, headers=h)
    assert ok.status_code == 201 and ok.json()["value"] == "C:\\temp\\new"


@pytest.mark.parametrize("offset", [str(2**31), str(BIG), "9" * 5000, "-1", "1.5", "1e3"])
async def test_an_integer_parameter_out_of_range_is_a_400_that_speaks_rest(
    client: httpx.AsyncClient, tenant: Tenant, offset: str
):
    for path in ("/api/courses", "/api/learners", "/api/api-keys"):
        headers = tenant.user_headers if path == "/api/api-keys" else tenant.key_headers
        response = await client.get(f"{path}?offset={offset}", headers=headers)
        _refused(response)
        assert "offset" in response.json()["message"] and "Int" not in response.json()["message"]


async def test_the_largest_documented_offset_is_an_empty_page(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    w = await _world(gql)
    for path in (
        "/api/courses",
        f"/api/learners/{w['learner']['id']}/courses",
        f"/api/variables/{w['number']['id']}/values",
    ):
        page = (await client.get(f"{path}?offset={2**31 - 1}", headers=tenant.key_headers)).json()
        assert page["data"] == [] and page["pagination"]["has_more"] is False, path


@pytest.mark.parametrize("parameter", ["course_id", "learner_id", "course_run_id"])
async def test_an_empty_id_parameter_is_malformed_not_absent(client: httpx.AsyncClient, gql: GQL, tenant: Tenant,
                                                             parameter: str):  # fmt: skip
    w = await _world(gql)
    paths = {"course_id": "/api/variables", "learner_id": f"/api/variables/{w['number']['id']}/values",
             "course_run_id": f"/api/variables/{w['number']['id']}/aggregate"}  # fmt: skip
    _refused(await client.get(f"{paths[parameter]}?{parameter}=", headers=tenant.key_headers))


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


async def test_deep_json_and_numbers_beyond_2_63_are_refused_and_smaller_ones_kept_exactly(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant
):
    h, w = tenant.key_headers, await _world(gql)
    base = {"learner_id": w["learner"]["id"]}
    for value in (_nested(500), {"n": BIG}, [1, -BIG]):
        _refused(await client.post("/api/variables/set", json={**base, "variable_id": w["json"]["id"], "value": value},
                                   headers=h))  # fmt: skip
    deep = b'{"variable_id": "%s", "learner_id": "%s", "value": %s}' % (
        w["json"]["id"].encode(),
        w["learner"]["id"].encode(),
        b"[" * 1000 + b"1" + b"]" * 1000,
    )
    _refused(await client.post("/api/variables/set", content=deep, headers={**h, "Content-Type": "application/json"}))
    for value in (BIG, -BIG, 1e300 * 10, "18446744073709551616"):
        _refused(await client.post("/api/variables/set", json={**base, "variable_id": w["number"]["id"],
                                                                "value": value}, headers=h))  # fmt: skip
    assert await _values(client, h, w["json"]["id"]) == [] and await _values(client, h, w["number"]["id"]) == []
    exact = 2**53 + 1
    for variable, value in (("json", {"n": exact, "deep": _nested(31)}), ("number", exact)):
        body = {**base, "variable_id": w[variable]["id"], "value": value}
        stored = await client.post("/api/variables/set", json=body, headers=h)
        assert stored.status_code == 201 and stored.json()["value"] == value
        assert await _values(client, h, w[variable]["id"]) == [value]


async def test_conflicting_or_repeated_credentials_are_refused(client: httpx.AsyncClient, tenant: Tenant,
                                                               other_tenant: Tenant):  # fmt: skip
    mine, theirs = tenant.key, other_tenant.key
    cases = [
        [("authorization", f"Bearer {mine}"), ("x-api-key", theirs)],
        [("x-api-key", mine), ("x-api-key", theirs)],
        [("x-api-key", mine), ("x-api-key", mine)],
        [("authorization", f"Bearer {mine}"), ("authorization", f"Bearer {mine}")],
    ]
    for headers in cases:
        _refused(await client.get("/api/courses", headers=httpx.Headers(headers)))
    _refused(await client.get(f"/api/courses?apiKey={theirs}", headers={"X-API-Key": mine}))
    _refused(await client.get(f"/api/courses?api%4Bey={theirs}", headers={"X-API-Key": mine}))
    # The same key in two transports is one credential.
    same = await client.get(f"/api/courses?apiKey={mine}", headers={"Authorization": f"Bearer {mine}"})
    assert same.status_code == 200


def test_a_secret_in_a_query_is_redacted_however_its_name_is_written():
    for line in ("GET /api/courses?apiKey=cp_secret1 HTTP/1.1", "GET /api/courses?api%4Bey=cp_secret1&limit=5",
                 "GET /api/courses?limit=5&APIKEY=cp_secret1", "GET /login/link?code=cp_secret1",
                 "GET /api/courses?%61piKey=cp_secret1"):  # fmt: skip
        assert "cp_secret1" not in redact(line), line
        assert "[REDACTED]" in redact(line)
    assert redact("GET /api/courses?limit=5&offset=10") == "GET /api/courses?limit=5&offset=10"


async def test_every_response_carries_a_request_id_and_takes_a_well_formed_one(client: httpx.AsyncClient,
                                                                                tenant: Tenant):  # fmt: skip
    response = await client.get("/api/courses", headers=tenant.key_headers)
    assert len(response.headers["x-request-id"]) == 32
    given = await client.get("/api/courses", headers={**tenant.key_headers, "X-Request-Id": "lms-42.retry:1"})
    assert given.headers["x-request-id"] == "lms-42.retry:1"
    odd = await client.get("/api/courses", headers={**tenant.key_headers, "X-Request-Id": "a b<script>"})
    assert odd.headers["x-request-id"] != "a b<script>" and len(odd.headers["x-request-id"]) == 32
    assert (await client.get("/api/nowhere", headers=tenant.key_headers)).headers["x-request-id"]


async def test_our_own_failures_are_masked_with_the_request_id_and_logged_in_full(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: Any
):
    from db.queries import courses

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("[SQL: SELECT secret_column FROM courses] [parameters: ('hunter2',)]")

    monkeypatch.setattr(courses, "list_courses", broken)
    with caplog.at_level(logging.ERROR):
        rest = await client.get("/api/courses", headers=tenant.key_headers)
        graph = await client.post("/graphql", json={"query": "{ courses { data { id } } }"}, headers=tenant.key_headers)
    assert rest.status_code == 500 and "secret" not in rest.text and "hunter2" not in rest.text
    assert rest.json()["request_id"] == rest.headers["x-request-id"]
    [error] = graph.json()["errors"]
    assert "secret" not in graph.text and "hunter2" not in graph.text and "SQL" not in graph.text
    assert error["extensions"]["requestId"] == graph.headers["x-request-id"]
    assert graph.headers["x-request-id"] in error["message"]
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "secret_column" in logged and graph.headers["x-request-id"] in logged


async def test_search_folds_case_the_same_way_on_both_databases(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    w = await _world(gql)
    for term in ("Émile", "émile", "ÉMILE", "zola"):
        found = (await client.get("/api/learners", params={"search": term}, headers=tenant.key_headers)).json()
        assert [learner["id"] for learner in found["data"]] == [w["learner"]["id"]], term


async def test_identifiers_with_a_slash_can_be_fetched_and_a_trailing_slash_never_redirects(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant
):
    h = tenant.key_headers
    learner = await f.learner(gql, "a/b@example.com")
    course = await f.course(gql, externalId="dept/101")
    got = await client.get("/api/learners/email/a%2Fb%40example.com", headers=h)
    assert got.status_code == 200 and got.json()["id"] == learner["id"]
    assert (await client.get("/api/courses/external/dept%2F101", headers=h)).json()["id"] == course["id"]
    slash = await client.get("/api/courses/", headers={**h, "Host": "evil.example"})
    assert slash.status_code == 404 and "location" not in slash.headers


async def test_a_405_lists_every_method_of_the_path(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    keys = await client.delete("/api/api-keys", headers=tenant.user_headers)
    assert keys.status_code == 405 and keys.headers["allow"] == "GET, HEAD, POST" and keys.json()["error"]
    pipeline = (await client.post("/api/pipelines", json={"name": "P"}, headers=tenant.key_headers)).json()
    put = await client.put(f"/api/pipelines/{pipeline['id']}", json={}, headers=tenant.key_headers)
    assert put.status_code == 405 and put.headers["allow"] == "DELETE, GET, HEAD, PATCH"


async def test_oversized_headers_are_refused_with_431_before_they_are_parsed(client: httpx.AsyncClient):
    response = await client.get("/api/courses", headers={"Authorization": "Bearer " + "x" * 1_000_000})
    assert response.status_code == 431 and response.json()["error"] == "headers_too_large"
    assert response.headers["x-request-id"]


async def test_a_component_kind_of_any_json_type_is_a_400(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    pipeline = await f.pipeline(gql)
    course = await f.course(gql)
    for kind in ({"a": 1}, ["course"], 3, None, True):
        body = {"component_kind": kind, "component_id": course["id"]}
        _refused(await client.post(f"/api/pipelines/{pipeline['id']}/nodes", json=body, headers=tenant.key_headers))


async def test_a_run_of_another_course_is_not_found_for_a_variables_figures(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant
):
    w = await _world(gql)
    other = await f.course(gql)
    own_run, other_run = await f.run(gql, w["course"]["id"]), await f.run(gql, other["id"])
    path = f"/api/variables/{w['number']['id']}/aggregate"
    assert (
        await client.get(path, params={"course_run_id": own_run["id"]}, headers=tenant.key_headers)
    ).status_code == 200
    assert (
        await client.get(path, params={"course_run_id": other_run["id"]}, headers=tenant.key_headers)
    ).status_code == 404
    histogram = """query($id: UUID!, $run: UUID) { variable(id: $id) { histogram(courseRunId: $run) { count } } }"""
    await f.set_value(gql, w["number"]["id"], w["learner"]["id"], 5, own_run["id"])
    bins = await gql(histogram, {"id": w["number"]["id"], "run": own_run["id"]})
    assert bins["variable"]["histogram"] == [{"count": 1}]
    assert (await gql(histogram, {"id": w["number"]["id"], "run": other_run["id"]}))["variable"]["histogram"] == []


async def test_a_bad_time_written_in_the_document_is_a_validation_error(client: httpx.AsyncClient, tenant: Tenant):
    for literal in ('"nope"', '"2026-01-01T00:00:00"', "42"):
        query = 'mutation { createApiKey(input: {name: "x", expiresAt: %s}) { __typename } }' % literal  # noqa: UP031
        answer = await client.post("/graphql", json={"query": query}, headers=tenant.user_headers)
        assert answer.status_code == 200
        error = answer.json()["errors"][0]
        assert "DateTime" in error["message"] and "INTERNAL" not in str(error), error


async def test_a_request_runs_at_most_ten_mutation_fields(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    w = await _world(gql)
    field = 'f%d: setVariable(input: {variableId: "%s", learnerId: "%s", value: %d}) { __typename }'
    fields = [field % (i, w["number"]["id"], w["learner"]["id"], i) for i in range(11)]
    fragment = "fragment More on Mutation { %s }" % fields[10]  # noqa: UP031
    joined = " ".join(fields)
    for document in (f"mutation {{ {joined} }}", f"mutation {{ {' '.join(fields[:10])} ...More }} {fragment}"):
        answer = (await client.post("/graphql", json={"query": document}, headers=tenant.key_headers)).json()
        assert answer["data"] is None and "at most 10 mutation fields" in answer["errors"][0]["message"]
    assert await _values(client, tenant.key_headers, w["number"]["id"]) == []
    ten = (await client.post("/graphql", json={"query": "mutation { %s }" % " ".join(fields[:10])},  # noqa: UP031
                             headers=tenant.key_headers)).json()  # fmt: skip
    assert "errors" not in ten and len(await _values(client, tenant.key_headers, w["number"]["id"])) == 10


async def test_a_rolled_key_keeps_the_expiry_of_the_key_it_replaces(client: httpx.AsyncClient, tenant: Tenant):
    made = await client.post(
        "/api/api-keys", json={"name": "temporary", "expires_at": "2030-01-01T00:00:00Z"}, headers=tenant.user_headers
    )
    rolled = await client.post(f"/api/api-keys/{made.json()['id']}/roll", json={}, headers=tenant.user_headers)
    assert rolled.status_code == 201 and rolled.json()["expires_at"] == "2030-01-01T00:00:00Z"


async def test_histograms_of_many_variables_cost_what_their_aggregates_cost(
    fast_client: httpx.AsyncClient, fast_services: Any, tenant: Tenant
):
    gql = GQL(fast_client, tenant.key_headers)
    course = await f.course(gql)
    learner = await f.learner(gql)
    for i in range(4):
        variable = await f.variable(gql, course["id"], "NUMBER", f"n{i}")
        await f.set_value(gql, variable["id"], learner["id"], i)
    counts = {}
    for figure in ("aggregate { learnersWithValue }", "histogram { count }"):
        query = "query($id: UUID!) { course(id: $id) { variables { %s } } }" % figure  # noqa: UP031
        await gql(query, {"id": course["id"]})  # the first run makes the plan
        with fast_services.db.recording() as statements:
            answer = await gql(query, {"id": course["id"]})
        counts[figure] = len(statements)
    assert [v["histogram"] for v in answer["course"]["variables"]] == [[{"count": 1}]] * 4
    assert counts["histogram { count }"] <= counts["aggregate { learnersWithValue }"], counts  # not one per variable


async def test_numbers_up_to_2_63_minus_1_are_kept_exactly(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    w = await _world(gql)
    for value in (2**63 - 1, -(2**63 - 1)):
        for variable in ("number", "json"):
            body = {"learner_id": w["learner"]["id"], "variable_id": w[variable]["id"], "value": value}
            stored = await client.post("/api/variables/set", json=body, headers=tenant.key_headers)
            assert stored.status_code == 201 and stored.json()["value"] == value, stored.text
            assert (await _values(client, tenant.key_headers, w[variable]["id"]))[0] == value
    base = {"learner_id": w["learner"]["id"], "variable_id": w["number"]["id"]}
    text = await client.post(
        "/api/variables/set", json={**base, "value": "9223372036854775807"}, headers=tenant.key_headers
    )
    assert text.json()["value"] == 2**63 - 1
    _refused(await client.post("/api/variables/set", json={**base, "value": 2**63}, headers=tenant.key_headers))


def test_emails_in_logged_paths_and_searches_are_redacted():
    line = '127.0.0.1:5000 - "GET /api/learners/by-email/ada%40example.com?search=grace@example.com HTTP/1.1" 200'
    assert redact(line) == '127.0.0.1:5000 - "GET /api/learners/by-email/[email]?search=[email] HTTP/1.1" 200'


async def test_the_openapi_key_scope_admits_the_null_of_a_full_access_key(client: httpx.AsyncClient):
    spec = (await client.get("/api/openapi.json")).json()
    scope = spec["components"]["schemas"]["ApiKey"]["properties"]["scope"]
    assert None in scope["enum"] and scope["nullable"] is True
