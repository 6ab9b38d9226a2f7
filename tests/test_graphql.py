"""The GraphQL contract: every named query and mutation, typed errors, and DataLoader batching."""

from __future__ import annotations

import uuid

import pytest

from tests import factories as f
from tests.conftest import GQL, Tenant, _database_url


async def test_course_lifecycle(gql: GQL):
    course = await f.course(gql, "Python 101", externalId="PY-101", description="intro")
    data = await gql(
        """query($id: UUID!) { course(id: $id) { id name externalId description active createdAt updatedAt }
                    courseByExternalId(externalId: "PY-101") { id } }""",
        {"id": course["id"]},
    )
    assert data["course"]["name"] == "Python 101"
    assert data["course"]["createdAt"].endswith("Z")
    assert data["courseByExternalId"]["id"] == course["id"]

    updated = await gql(
        """mutation($id: UUID!) { updateCourse(id: $id, input: {name: "Python 102", active: false}) {
             __typename ... on Course { name active externalId description } } }""",
        {"id": course["id"]},
    )
    assert updated["updateCourse"] == {
        "__typename": "Course",
        "name": "Python 102",
        "active": False,
        "externalId": "PY-101",
        "description": "intro",
    }
    listed = await gql("{ courses(active: false) { data { id } pagination { limit offset hasMore } } }")
    assert [c["id"] for c in listed["courses"]["data"]] == [course["id"]]
    assert listed["courses"]["pagination"] == {"limit": 100, "offset": 0, "hasMore": False}


async def test_typed_errors_change_nothing(gql: GQL):
    await f.course(gql, "A", externalId="X1")
    dup = await gql(
        """mutation { createCourse(input: {name: "B", externalId: "X1"}) {
             __typename ... on UserError { code message field } } }"""
    )
    assert dup["createCourse"]["__typename"] == "ConflictError"
    assert dup["createCourse"]["field"] == "externalId"
    empty = await gql('mutation { createCourse(input: {name: ""}) { __typename ... on UserError { code field } } }')
    assert empty["createCourse"] == {"__typename": "InvalidInputError", "code": "invalid_input", "field": "name"}
    missing = await gql(
        """mutation { updateCourse(id: "00000000-0000-0000-0000-000000000001", input: {name: "x"}) {
             __typename } }"""
    )
    assert missing["updateCourse"]["__typename"] == "NotFoundError"
    total = await gql("{ courses { data { name } } }")
    assert [c["name"] for c in total["courses"]["data"]] == ["A"]


async def test_learners_queries_and_email_uniqueness(gql: GQL):
    ada = await f.learner(gql, "Ada@Example.com", "Ada Lovelace")
    await f.learner(gql, "grace@example.com", "Grace Hopper")
    dup = await gql('mutation { createLearner(input: {email: "ada@EXAMPLE.com"}) { __typename } }')
    assert dup["createLearner"]["__typename"] == "ConflictError"
    bad = await gql('mutation { createLearner(input: {email: "not-an-email"}) { __typename } }')
    assert bad["createLearner"]["__typename"] == "InvalidInputError"
    data = await gql(
        """query($id: UUID!) { learner(id: $id) { email } learnerByEmail(email: "ADA@example.COM") { id }
                    learners(search: "HOPPER") { data { name } } }""",
        {"id": ada["id"]},
    )
    assert data["learner"]["email"] == "Ada@Example.com"
    assert data["learnerByEmail"]["id"] == ada["id"]
    assert [x["name"] for x in data["learners"]["data"]] == ["Grace Hopper"]
    renamed = await gql(
        """mutation($id: UUID!) { updateLearner(id: $id, input: {name: "Countess"}) {
             ... on Learner { name email } } }""",
        {"id": ada["id"]},
    )
    assert renamed["updateLearner"] == {"name": "Countess", "email": "Ada@Example.com"}


async def test_runs_enrollments_and_learner_views(gql: GQL):
    course = await f.course(gql)
    run = await f.run(gql, course["id"])
    learner = await f.learner(gql)
    enrolled = await gql(
        """mutation($l: UUID!, $c: UUID!, $r: UUID) {
             enrollLearner(input: {learnerId: $l, courseId: $c, courseRunId: $r}) {
               __typename ... on Enrollment { courseId courseRunId } } }""",
        {"l": learner["id"], "c": course["id"], "r": run["id"]},
    )
    assert enrolled["enrollLearner"]["courseRunId"] == run["id"]
    data = await gql(
        """query($id: UUID!) { learner(id: $id) { courses { id } enrollments { courseRunId } } }""",
        {"id": learner["id"]},
    )
    assert data["learner"]["courses"] == [{"id": course["id"]}]
    other = await f.course(gql)
    wrong_run = await gql(
        """mutation($l: UUID!, $c: UUID!, $r: UUID) {
             enrollLearner(input: {learnerId: $l, courseId: $c, courseRunId: $r}) { __typename } }""",
        {"l": learner["id"], "c": other["id"], "r": run["id"]},
    )
    assert wrong_run["enrollLearner"]["__typename"] == "InvalidInputError"


async def test_variables_create_update_and_conflicts(gql: GQL):
    course = await f.course(gql)
    var = await f.variable(gql, course["id"], "NUMBER", "score", defaultValue="5")
    assert var["type"] == "NUMBER"
    dup = await gql(
        """mutation($c: UUID) { createVariable(input: {courseId: $c, name: "score", type: TEXT}) { __typename } }""",
        {"c": course["id"]},
    )
    assert dup["createVariable"]["__typename"] == "ConflictError"
    # The same name is fine organization-wide and in another course.
    await f.variable(gql, None, "TEXT", "score")
    bad_default = await gql(
        """mutation { createVariable(input: {name: "flag", type: BOOLEAN, defaultValue: "maybe"}) {
             __typename ... on UserError { field } } }"""
    )
    assert bad_default["createVariable"] == {"__typename": "InvalidInputError", "field": "defaultValue"}
    updated = await gql(
        """mutation($id: UUID!) { updateVariable(id: $id, input: {active: false, description: "d"}) {
             ... on Variable { active description defaultValue } } }""",
        {"id": var["id"]},
    )
    assert updated["updateVariable"] == {"active": False, "description": "d", "defaultValue": 5}
    listed = await gql(
        """query($c: UUID) { variables(courseId: $c, active: false) { data { id } } }""", {"c": course["id"]}
    )
    assert [v["id"] for v in listed["variables"]["data"]] == [var["id"]]


async def test_bad_page_arguments_are_errors_not_crashes(gql: GQL):
    body = await gql.raw("{ courses(limit: 0) { data { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql.raw('{ course(id: "not-a-uuid") { id } }')
    assert body["errors"]


async def test_nested_query_statements_are_bounded_by_depth(gql: GQL, services):
    """50 courses x 10 variables, each with values, runs, stats and an aggregate: a fixed number of statements."""
    courses = []
    for i in range(50):
        course = await f.course(gql, f"C{i}")
        await f.run(gql, course["id"])
        courses.append(course)
    learner = await f.learner(gql)
    for course in courses:
        for j in range(10):
            var = await f.variable(gql, course["id"], "NUMBER", f"v{j}")
            if j < 2:
                assert (await f.set_value(gql, var["id"], learner["id"], j))["__typename"] == "VariableValue"

    with services.db.recording() as statements:
        data = await gql(
            """{ courses(limit: 50) { data { id runs { id } stats { valuesRecorded }
                   variables { id values(limit: 5) { value learner { email } }
                               aggregate { valuesRecorded numeric { mean percentiles { p90 } } } } } } }"""
        )
    assert len(data["courses"]["data"]) == 50
    assert sum(len(c["variables"]) for c in data["courses"]["data"]) == 500
    first = next(c for c in data["courses"]["data"] if c["id"] == courses[0]["id"])
    assert first["stats"]["valuesRecorded"] == 2
    # courses, runs, stats (3), variables, values, learners, aggregate (up to 5): far below one per row.
    assert len(statements) <= 16, statements


async def test_one_key_and_a_batch_of_keys_answer_alike(gql: GQL, services):
    """A lookup of one key and a batch of several run different statements (`ByKeys`): same rows either way."""
    course = await f.course(gql, "Both")
    first, second = await f.learner(gql), await f.learner(gql)
    for name, value in (("b", 2), ("a", 1)):
        var = await f.variable(gql, course["id"], "NUMBER", name)
        await f.set_value(gql, var["id"], first["id"], value)
        await f.set_value(gql, var["id"], second["id"], value * 10)
    fields = "id email variables { name value } enrollments { courseId }"
    alone = [(await gql(f"query($id: UUID!) {{ learner(id: $id) {{ {fields} }} }}", {"id": learner["id"]}))["learner"]
             for learner in (first, second)]  # fmt: skip
    with services.db.recording() as statements:
        both = await gql(
            f"query($a: UUID!, $b: UUID!) {{ a: learner(id: $a) {{ {fields} }} b: learner(id: $b) {{ {fields} }} }}",
            {"a": first["id"], "b": second["id"]},
        )
    assert [both["a"], both["b"]] == alone
    assert [v["value"] for v in alone[0]["variables"]] == [1, 2] and alone[1]["variables"][0]["value"] == 10
    assert len(statements) == 3  # learners, their values, their enrollments: each one statement for both


async def test_aggregate_computes_only_what_is_selected(gql: GQL, services):
    var = await f.variable(gql, None, "NUMBER")
    for value in (1, 2, 3, 4):
        await f.set_value(gql, var["id"], (await f.learner(gql))["id"], value)
    query = "query($id: UUID!) { variable(id: $id) { aggregate { numeric { %s } } } }"
    with services.db.recording() as cheap:
        mean_only = await gql(query % "mean count", {"id": var["id"]})
    with services.db.recording() as full:
        everything = await gql(query % "mean median stddev percentiles { p90 }", {"id": var["id"]})
    assert mean_only["variable"]["aggregate"]["numeric"] == {"mean": 2.5, "count": 4}
    numeric = everything["variable"]["aggregate"]["numeric"]
    assert numeric["median"] == 2.5 and numeric["percentiles"]["p90"] == pytest.approx(3.7)
    assert len(cheap) < len(full)


async def test_documents_too_deep_or_too_long_are_refused(gql: GQL):
    deep = "{ courses { data { variables { course { variables { course { variables { course { variables "
    deep += "{ course { variables { id } } } } } } } } } } } }"
    body = await gql.raw(deep)
    assert body["data"] is None and "exceeds maximum operation depth" in body["errors"][0]["message"]
    long = "{ " + " ".join(f"a{i}: courses {{ pagination {{ limit }} }}" for i in range(800)) + " }"
    body = await gql.raw(long)
    assert body["data"] is None and "token" in body["errors"][0]["message"].lower()


async def test_a_document_is_validated_once_then_runs_as_known(fast_services, monkeypatch):
    services = fast_services
    """Documents clients repeat skip parsing, validation and the extension hooks after their first run."""
    import strawberry.schema.schema as strawberry_schema

    from access.principal import ApiKeyPrincipal

    validated = []
    validate = strawberry_schema.validate_document
    monkeypatch.setattr(strawberry_schema, "validate_document", lambda *a: validated.append(1) or validate(*a))
    document = f"# {uuid.uuid4()}\nquery Few($limit: Int!) {{ courses(limit: $limit) {{ pagination {{ limit }} }} }}"
    principal = ApiKeyPrincipal(uuid.uuid4(), uuid.uuid4())
    for limit in (3, 4, 5):
        result = await services.schema.execute(
            document, variable_values={"limit": limit}, context_value=services.graphql.context(principal)
        )
        assert not result.errors and result.data == {"courses": {"pagination": {"limit": limit}}}
    assert len(validated) == 1
    assert services.schema.known.get(document) is not None
    # Known, it still coerces variables and refuses operations the transport does not allow.
    bad = await services.schema.execute(
        document, variable_values={"limit": "many"}, context_value=services.graphql.context(principal)
    )
    assert bad.data is None and "limit" in bad.errors[0].message
    from strawberry.schema.exceptions import InvalidOperationTypeError
    from strawberry.types.graphql import OperationType

    with pytest.raises(InvalidOperationTypeError):
        await services.schema.execute(
            document,
            variable_values={"limit": 3},
            context_value=services.graphql.context(principal),
            allowed_operation_types={OperationType.MUTATION},
        )


async def test_a_known_document_over_http_gets_the_answer_strawberrys_view_gives(fast_client, tenant, monkeypatch):
    client = fast_client
    """The view answers a JSON POST of a known document itself; the body and status are what Strawberry's view
    gives the first time, data and errors alike, and anything unusual still goes through Strawberry's view."""
    from app.graphql_view import GraphQLView

    await f.course(GQL(client, tenant.key_headers), "Known")
    query = f"# {uuid.uuid4()}\nquery Q($limit: Int!, $id: UUID!) {{ courses(limit: $limit) {{ data {{ name }} }} "
    query += "learner(id: $id) { id } }"
    strawberry_runs = 0
    run = GraphQLView.run

    async def counted(self, *args, **kwargs):
        nonlocal strawberry_runs
        strawberry_runs += 1
        return await run(self, *args, **kwargs)

    monkeypatch.setattr(GraphQLView, "run", counted)
    cases = [{"limit": 5, "id": str(uuid.uuid4())}, {"limit": 0, "id": str(uuid.uuid4())}, {"limit": "x", "id": 1}]
    for variables in cases:
        answers = []
        for _ in range(2):
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=tenant.key_headers
            )
            answers.append((response.status_code, response.headers["content-type"], response.json()))
        assert answers[0] == answers[1]
    assert answers[0][2]["data"] is None and "limit" in answers[0][2]["errors"][0]["message"]
    assert strawberry_runs == 1  # only the first request of the first case: the document was new
    # A batch of the same document is not a known document's request: Strawberry's view refuses it.
    response = await client.post("/graphql", json=[{"query": query}], headers=tenant.key_headers)
    assert response.status_code == 400 and strawberry_runs == 2


async def test_refused_documents_are_never_remembered(fast_services, fast_client, tenant):
    gql = GQL(fast_client, tenant.key_headers)
    services = fast_services
    deep = "{ courses { data { variables { course { variables { course { variables { course { variables "
    deep += "{ course { variables { id } } } } } } } } } } } }"
    for _ in range(2):
        body = await gql.raw(deep)
        assert body["data"] is None and "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert services.schema.known.get(deep) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{bad", "JSON"), (b"[]", "Batching"), (b'{"query": 5}', "must be a string")],
)
async def test_malformed_graphql_requests_get_the_error_body(client, tenant, body, message):
    response = await client.post(
        "/graphql", content=body, headers={**tenant.key_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request" and message in response.json()["message"]


@pytest.mark.skipif(not _database_url().startswith("postgresql"), reason="the driver pool exists on PostgreSQL only")
async def test_hot_reads_share_one_driver_connection_per_request(fast_client, tenant: Tenant, fast_services):
    """A learner's variables: learner, then current values, on one pooled psycopg connection, none via SQLAlchemy."""
    client, gql, services = fast_client, GQL(fast_client, tenant.key_headers), fast_services
    learner = await f.learner(gql)
    course = await f.course(gql, "Lean")
    var = await f.variable(gql, course["id"], "NUMBER", "score")
    await f.set_value(gql, var["id"], learner["id"], 3)
    pool = await services.db._driver_pool()
    before = pool.get_stats().get("requests_num", 0)
    sqlalchemy_statements: list[str] = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        sqlalchemy_statements.append(statement)

    event.listen(services.db.read_engine.sync_engine, "before_cursor_execute", record)
    try:
        with services.db.recording() as statements:
            response = await client.get(f"/api/learners/{learner['id']}/variables", headers=tenant.key_headers)
    finally:
        event.remove(services.db.read_engine.sync_engine, "before_cursor_execute", record)
    assert response.status_code == 200 and response.json()["data"][0]["value"] == 3
    assert len(statements) == 2 and sqlalchemy_statements == []
    assert pool.get_stats().get("requests_num", 0) - before == 1
