"""setVariable: type rules, ownership checks, history + current value in one transaction, auto-enrollment, races."""

from __future__ import annotations

import asyncio

import pytest

from tests import factories as f
from tests.conftest import GQL

VALUES_QUERY = """query($v: UUID!, $l: UUID!) {
  variableValues(variableId: $v, learnerId: $l) { data { value } }
  learner(id: $l) { variables { variableId value } courses { id } }
}"""


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        ("NUMBER", 42, 42),
        ("NUMBER", 4.5, 4.5),
        ("NUMBER", "17", 17),
        ("NUMBER", " 2.5 ", 2.5),
        ("BOOLEAN", True, True),
        ("BOOLEAN", "false", False),
        ("TEXT", "intermediate", "intermediate"),
        ("JSON", {"goal": "career", "tags": [1, 2]}, {"goal": "career", "tags": [1, 2]}),
        ("JSON", [1, "two"], [1, "two"]),
        ("JSON", 'a "quoted" ✓', 'a "quoted" ✓'),  # sent to PostgreSQL as JSON text: escaped, not mangled
    ],
)
async def test_values_that_fit_their_type(gql: GQL, kind, given, stored):
    course = await f.course(gql)
    var = await f.variable(gql, course["id"], kind)
    learner = await f.learner(gql)
    result = await f.set_value(gql, var["id"], learner["id"], given)
    assert result["__typename"] == "VariableValue"
    assert result["value"] == stored
    data = await gql(VALUES_QUERY, {"v": var["id"], "l": learner["id"]})
    assert data["variableValues"]["data"] == [{"value": stored}]
    assert data["learner"]["variables"] == [{"variableId": var["id"], "value": stored}]


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        ("NUMBER", "abc"),
        ("NUMBER", True),
        ("NUMBER", "NaN"),
        ("NUMBER", {"a": 1}),
        ("BOOLEAN", "yes"),
        ("BOOLEAN", 1),
        ("TEXT", 5),
    ],
)
async def test_values_that_do_not_fit_are_refused_and_nothing_is_written(gql: GQL, kind, given):
    course = await f.course(gql)
    var = await f.variable(gql, course["id"], kind)
    learner = await f.learner(gql)
    result = await f.set_value(gql, var["id"], learner["id"], given)
    assert result["__typename"] == "InvalidInputError"
    assert result["field"] == "value"
    data = await gql(VALUES_QUERY, {"v": var["id"], "l": learner["id"]})
    assert data["variableValues"]["data"] == []
    assert data["learner"]["variables"] == []
    assert data["learner"]["courses"] == []


async def test_inactive_variables_unknown_ids_and_foreign_runs(gql: GQL):
    course = await f.course(gql)
    other_course = await f.course(gql)
    var = await f.variable(gql, course["id"], "TEXT")
    learner = await f.learner(gql)
    foreign_run = await f.run(gql, other_course["id"])
    missing = "00000000-0000-0000-0000-00000000abcd"

    assert (await f.set_value(gql, missing, learner["id"], "x"))["field"] == "variableId"
    assert (await f.set_value(gql, var["id"], missing, "x"))["field"] == "learnerId"
    unknown_run = await f.set_value(gql, var["id"], learner["id"], "x", missing)
    assert (unknown_run["__typename"], unknown_run["field"]) == ("NotFoundError", "courseRunId")
    wrong_run = await f.set_value(gql, var["id"], learner["id"], "x", foreign_run["id"])
    assert (wrong_run["__typename"], wrong_run["field"]) == ("InvalidInputError", "courseRunId")

    await gql(
        "mutation($id: UUID!) { updateVariable(id: $id, input: {active: false}) { __typename } }", {"id": var["id"]}
    )
    inactive = await f.set_value(gql, var["id"], learner["id"], "x")
    assert inactive["__typename"] == "InvalidInputError"
    assert "inactive" in inactive["message"]


async def test_first_value_enrolls_and_history_keeps_every_value(gql: GQL):
    course = await f.course(gql)
    run = await f.run(gql, course["id"])
    var = await f.variable(gql, course["id"], "NUMBER")
    learner = await f.learner(gql)
    for score in (10, 20, 30):
        assert (await f.set_value(gql, var["id"], learner["id"], score, run["id"]))["__typename"] == "VariableValue"
    data = await gql(
        """query($v: UUID!, $l: UUID!) {
             variableValues(variableId: $v, learnerId: $l) { data { value courseRunId } }
             learner(id: $l) { variables { value courseRunId } enrollments { courseId courseRunId } } }""",
        {"v": var["id"], "l": learner["id"]},
    )
    assert [v["value"] for v in data["variableValues"]["data"]] == [30, 20, 10]
    assert data["learner"]["variables"] == [{"value": 30, "courseRunId": run["id"]}]
    assert data["learner"]["enrollments"] == [{"courseId": course["id"], "courseRunId": run["id"]}]


async def test_concurrent_sets_never_fail_and_current_is_the_last_write(gql: GQL):
    course = await f.course(gql)
    var = await f.variable(gql, course["id"], "NUMBER")
    learner = await f.learner(gql)
    results = await asyncio.gather(*(f.set_value(gql, var["id"], learner["id"], i) for i in range(40)))
    assert all(r["__typename"] == "VariableValue" for r in results)
    data = await gql(
        """query($v: UUID!, $l: UUID!) { variableValues(variableId: $v, learnerId: $l, limit: 100) {
             data { value recordedAt } }
           learner(id: $l) { variables { value recordedAt } enrollments { courseId } } }""",
        {"v": var["id"], "l": learner["id"]},
    )
    history = data["variableValues"]["data"]
    assert sorted(v["value"] for v in history) == list(range(40))
    newest = history[0]
    assert data["learner"]["variables"] == [{"value": newest["value"], "recordedAt": newest["recordedAt"]}]
    assert len(data["learner"]["enrollments"]) == 1


async def test_a_null_value_is_refused_by_the_schema(gql: GQL):
    var = await f.variable(gql, None, "JSON")
    learner = await f.learner(gql)
    body = await gql.raw(f.SET, {"input": {"variableId": var["id"], "learnerId": learner["id"], "value": None}})
    assert body["data"] is None
    assert "JSON!" in body["errors"][0]["message"]
