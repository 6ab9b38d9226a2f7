"""Pipelines through GraphQL: the connection rules, propagation and its provenance, atomicity, backfill, races and
tenancy. Every refusal is checked to change nothing."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from app.services import Services
from tests import factories as f
from tests.conftest import GQL, Tenant, make_tenant

COUNT_CONNECTIONS = "query($id: UUID!) { pipeline(id: $id) { connections { id } nodes { id } } }"
CURRENT = """query($id: UUID!) { learner(id: $id) {
  variables { variableId value valueId } courses { id } } }"""


async def _variable(gql: GQL, owner: dict[str, str], type_: str, direction: str, name: str) -> dict[str, Any]:
    key = "courseId" if owner["kind"] == "COURSE" else "chatbotId"
    data = await gql(
        """mutation($input: VariableInput!) { createVariable(input: $input) { __typename
             ... on Variable { id name type direction courseId chatbotId } ... on UserError { message } } }""",
        {"input": {"name": name, "type": type_, "direction": direction, key: owner["id"],
                   **({"courseId": None} if key == "chatbotId" else {})}},
    )  # fmt: skip
    assert data["createVariable"]["__typename"] == "Variable", data
    return data["createVariable"]


@dataclass
class World:
    """Course A's quiz score feeds tutor T's input; T's skill level feeds course B's input."""

    pipeline: dict[str, Any]
    course_a: dict[str, str]
    tutor: dict[str, str]
    course_b: dict[str, str]
    quiz: dict[str, Any]  # A, number output
    quiz_in: dict[str, Any]  # T, number input
    skill: dict[str, Any]  # T, text output
    skill_in: dict[str, Any]  # B, text input
    first: dict[str, Any]  # A.quiz -> T.quiz_in
    second: dict[str, Any]  # T.skill -> B.skill_in


async def world(gql: GQL) -> World:
    course_a = {**await f.course(gql, "Course A"), "kind": "COURSE"}
    course_b = {**await f.course(gql, "Course B"), "kind": "COURSE"}
    tutor = {**await f.chatbot(gql, "Tutor", kind="EDUCATION"), "kind": "CHATBOT"}
    quiz = await _variable(gql, course_a, "NUMBER", "OUTPUT", "quiz_score")
    quiz_in = await _variable(gql, tutor, "NUMBER", "INPUT", "quiz_score")
    skill = await _variable(gql, tutor, "TEXT", "OUTPUT", "skill_level")
    skill_in = await _variable(gql, course_b, "TEXT", "INPUT", "skill_level")
    pipeline = await f.pipeline(gql, "Tutoring")
    for component in (course_a, tutor, course_b):
        assert (await f.node(gql, pipeline["id"], component["kind"], component["id"]))["__typename"] == "PipelineNode"
    first = await f.connect(gql, pipeline["id"], quiz["id"], quiz_in["id"])
    second = await f.connect(gql, pipeline["id"], skill["id"], skill_in["id"])
    assert first["__typename"] == second["__typename"] == "ConnectionCreated", (first, second)
    return World(pipeline, course_a, tutor, course_b, quiz, quiz_in, skill, skill_in, first, second)


SET_PROPAGATING = """mutation($input: SetVariableInput!) { setVariable(input: $input) {
  __typename
  ... on VariableValue { id value propagated { variableId valueId connectionId } }
  ... on UserError { code message field }
} }"""


async def _set(gql: GQL, variable_id: str, learner_id: str, value: Any) -> dict[str, Any]:
    data = await gql(SET_PROPAGATING, {"input": {"variableId": variable_id, "learnerId": learner_id, "value": value}})
    return data["setVariable"]


async def _current(gql: GQL, learner_id: str) -> dict[str, Any]:
    return (await gql(CURRENT, {"id": learner_id}))["learner"]


async def test_a_value_flows_course_to_chatbot_to_course_and_names_its_origin(gql: GQL):
    w = await world(gql)
    learner = await f.learner(gql)
    recorded = await _set(gql, w.quiz["id"], learner["id"], 7)
    assert recorded["__typename"] == "VariableValue" and recorded["value"] == 7
    [carried] = recorded["propagated"]
    assert carried["variableId"] == w.quiz_in["id"] and carried["connectionId"] == w.first["id"]
    # The tutor's input holds it, and the propagated value names its source value and the connection.
    data = await gql(
        """query($id: UUID!) { variableValues(variableId: $id, limit: 5) { data {
             id value connectionId source { id value variableId } propagated { valueId } } } }""",
        {"id": w.quiz_in["id"]},
    )
    [value] = data["variableValues"]["data"]
    assert value["id"] == carried["valueId"] and value["value"] == 7 and value["connectionId"] == w.first["id"]
    assert value["source"] == {"id": recorded["id"], "value": 7, "variableId": w.quiz["id"]}
    assert value["propagated"] == []  # inputs never propagate further
    # The chatbot decides a skill level and writes its output: it reaches course B, and the learner is enrolled.
    level = await _set(gql, w.skill["id"], learner["id"], "advanced")
    assert [p["variableId"] for p in level["propagated"]] == [w.skill_in["id"]]
    current = await _current(gql, learner["id"])
    by_variable = {v["variableId"]: v["value"] for v in current["variables"]}
    assert by_variable == {w.quiz["id"]: 7, w.quiz_in["id"]: 7, w.skill["id"]: "advanced", w.skill_in["id"]: "advanced"}
    assert {c["id"] for c in current["courses"]} == {w.course_a["id"], w.course_b["id"]}
    # Read back later, a value lists what it propagated.
    data = await gql(
        "query($id: UUID!) { variable(id: $id) { values(limit: 1) { propagated { valueId connectionId } } } }",
        {"id": w.quiz["id"]},
    )
    assert data["variable"]["values"][0]["propagated"] == [
        {"valueId": carried["valueId"], "connectionId": w.first["id"]}
    ]


async def test_any_type_goes_into_text_as_its_json_text_and_into_json_as_it_is(gql: GQL):
    course = {**await f.course(gql), "kind": "COURSE"}
    bot = {**await f.chatbot(gql), "kind": "CHATBOT"}
    out = await _variable(gql, course, "JSON", "OUTPUT", "answers")
    as_text = await _variable(gql, bot, "TEXT", "INPUT", "answers_text")
    as_json = await _variable(gql, bot, "JSON", "INPUT", "answers_json")
    pipeline = await f.pipeline(gql)
    for component in (course, bot):
        await f.node(gql, pipeline["id"], component["kind"], component["id"])
    for target in (as_text, as_json):
        assert (await f.connect(gql, pipeline["id"], out["id"], target["id"]))["__typename"] == "ConnectionCreated"
    learner = await f.learner(gql)
    recorded = await _set(gql, out["id"], learner["id"], {"q1": "b", "q2": [1, 2]})
    assert len(recorded["propagated"]) == 2
    by_variable = {v["variableId"]: v["value"] for v in (await _current(gql, learner["id"]))["variables"]}
    assert by_variable[as_text["id"]] == '{"q1":"b","q2":[1,2]}'
    assert by_variable[as_json["id"]] == {"q1": "b", "q2": [1, 2]}


async def _connection_count(gql: GQL, pipeline_id: str) -> int:
    return len((await gql(COUNT_CONNECTIONS, {"id": pipeline_id}))["pipeline"]["connections"])


async def test_every_rule_refuses_with_its_error_and_changes_nothing(gql: GQL):
    w = await world(gql)
    course_c = {**await f.course(gql, "Course C"), "kind": "COURSE"}
    outside = await _variable(gql, course_c, "NUMBER", "INPUT", "outside")  # C is not a node of the pipeline
    state = await _variable(gql, w.course_a, "NUMBER", "STATE", "notes")
    own_input = await _variable(gql, w.course_a, "NUMBER", "INPUT", "own_input")
    flag_in = await _variable(gql, w.course_b, "BOOLEAN", "INPUT", "flag")
    org_wide = await f.variable(gql, None, "NUMBER", "org_wide")
    second_output = await _variable(gql, w.course_a, "NUMBER", "OUTPUT", "attempts")
    p = w.pipeline["id"]
    cases = [
        (w.quiz_in["id"], w.skill_in["id"], "invalid_input", "sourceVariableId"),  # the source is an input
        (w.quiz["id"], state["id"], "invalid_input", "targetVariableId"),  # the target is state
        (w.quiz["id"], own_input["id"], "invalid_input", "targetVariableId"),  # the same component
        (w.quiz["id"], outside["id"], "invalid_input", "targetVariableId"),  # a component not in the pipeline
        (w.quiz["id"], flag_in["id"], "invalid_input", "targetVariableId"),  # a number into a boolean
        (org_wide["id"], w.skill_in["id"], "invalid_input", "sourceVariableId"),  # no component at all
        (second_output["id"], w.quiz_in["id"], "conflict", "targetVariableId"),  # the input is taken
        (w.quiz["id"], w.quiz_in["id"], "conflict", "targetVariableId"),  # the same connection again
        (str(uuid.uuid4()), w.quiz_in["id"], "not_found", "sourceVariableId"),
        (w.quiz["id"], str(uuid.uuid4()), "not_found", "targetVariableId"),
    ]
    for source, target, code, field in cases:
        refused = await f.connect(gql, p, source, target)
        assert (refused["code"], refused["field"]) == (code, field), (source, target, refused)
    assert (await f.connect(gql, str(uuid.uuid4()), w.quiz["id"], w.quiz_in["id"]))["code"] == "not_found"
    assert await _connection_count(gql, p) == 2
    # A node twice, or of a component that is not there.
    again = await f.node(gql, p, "COURSE", w.course_a["id"])
    assert (again["code"], again["field"]) == ("conflict", "componentId")
    missing = await f.node(gql, p, "CHATBOT", w.course_a["id"])  # a course's id named as a chatbot
    assert (missing["code"], missing["field"]) == ("not_found", "componentId")
    assert len((await gql(COUNT_CONNECTIONS, {"id": p}))["pipeline"]["nodes"]) == 3


async def test_an_input_takes_one_connection_across_active_pipelines_and_reactivation_checks_it(gql: GQL):
    w = await world(gql)
    other = await f.pipeline(gql, "Other")
    for component in (w.course_a, w.tutor):
        await f.node(gql, other["id"], component["kind"], component["id"])
    refused = await f.connect(gql, other["id"], w.quiz["id"], w.quiz_in["id"])
    assert refused["code"] == "conflict"
    update = """mutation($id: UUID!, $active: Boolean!) { updatePipeline(id: $id, input: {active: $active}) {
      __typename ... on Pipeline { active } ... on UserError { code field } } }"""
    assert (await gql(update, {"id": w.pipeline["id"], "active": False}))["updatePipeline"] == {
        "__typename": "Pipeline", "active": False
    }  # fmt: skip
    learner = await f.learner(gql)
    assert (await _set(gql, w.quiz["id"], learner["id"], 3))["propagated"] == []  # an inactive pipeline carries none
    taken = await f.connect(gql, other["id"], w.quiz["id"], w.quiz_in["id"])
    assert taken["__typename"] == "ConnectionCreated"
    back = (await gql(update, {"id": w.pipeline["id"], "active": True}))["updatePipeline"]
    assert back == {"__typename": "ConflictError", "code": "conflict", "field": "active"}
    state = await gql("query($id: UUID!) { pipeline(id: $id) { active } }", {"id": w.pipeline["id"]})
    assert state["pipeline"]["active"] is False  # nothing changed


async def test_concurrent_connects_to_one_input_let_exactly_one_win(gql: GQL):
    course = {**await f.course(gql), "kind": "COURSE"}
    bot = {**await f.chatbot(gql), "kind": "CHATBOT"}
    target = await _variable(gql, bot, "NUMBER", "INPUT", "score")
    sources = [await _variable(gql, course, "NUMBER", "OUTPUT", f"out{i}") for i in range(6)]
    pipelines = [await f.pipeline(gql, f"Race {i}") for i in range(3)]
    for pipeline in pipelines:
        for component in (course, bot):
            await f.node(gql, pipeline["id"], component["kind"], component["id"])
    results = await asyncio.gather(
        *(f.connect(gql, pipelines[i % 3]["id"], source["id"], target["id"]) for i, source in enumerate(sources))
    )
    assert sorted(r["__typename"] for r in results) == ["ConflictError"] * 5 + ["ConnectionCreated"]
    assert sum([await _connection_count(gql, p["id"]) for p in pipelines]) == 1


async def test_a_refused_target_write_leaves_neither_the_source_nor_any_target_value(gql: GQL):
    course = {**await f.course(gql), "kind": "COURSE"}
    bot = {**await f.chatbot(gql), "kind": "CHATBOT"}
    out = await _variable(gql, course, "JSON", "OUTPUT", "essay")
    as_json = await _variable(gql, bot, "JSON", "INPUT", "essay_json")  # written first, then undone
    as_text = await _variable(gql, bot, "TEXT", "INPUT", "essay_text")
    pipeline = await f.pipeline(gql)
    for component in (course, bot):
        await f.node(gql, pipeline["id"], component["kind"], component["id"])
    for target in (as_json, as_text):
        await f.connect(gql, pipeline["id"], out["id"], target["id"])
    learner = await f.learner(gql)
    refused = await _set(gql, out["id"], learner["id"], ["x" * 6000, "y" * 6000])  # its JSON text is too long
    assert (refused["code"], refused["field"]) == ("invalid_input", "value")
    assert (await _current(gql, learner["id"]))["variables"] == []
    data = await gql("query($id: UUID!) { variableValues(variableId: $id) { data { id } } }", {"id": out["id"]})
    assert data["variableValues"]["data"] == []


async def test_backfill_copies_current_values_where_the_target_is_older_or_missing(gql: GQL):
    course = {**await f.course(gql), "kind": "COURSE"}
    target_course = {**await f.course(gql, "Next course"), "kind": "COURSE"}
    out = await _variable(gql, course, "NUMBER", "OUTPUT", "score")
    into = await _variable(gql, target_course, "NUMBER", "INPUT", "prior_score")
    learners = [await f.learner(gql) for _ in range(4)]
    await f.set_value(gql, into["id"], learners[0]["id"], 1)  # older than its source value: overwritten
    for i, learner in enumerate(learners[:3]):
        await f.set_value(gql, out["id"], learner["id"], 10 + i)
    await f.set_value(gql, into["id"], learners[1]["id"], 99)  # newer than its source value: kept
    pipeline = await f.pipeline(gql)
    for component in (course, target_course):
        await f.node(gql, pipeline["id"], component["kind"], component["id"])
    made = await f.connect(gql, pipeline["id"], out["id"], into["id"], backfill=True)
    assert made["__typename"] == "ConnectionCreated" and made["backfilled"] == 2, made
    values = {}
    for learner in learners:
        current = await _current(gql, learner["id"])
        values[learner["id"]] = {v["variableId"]: v["value"] for v in current["variables"]}.get(into["id"])
        if values[learner["id"]] in (10, 12):
            assert target_course["id"] in {c["id"] for c in current["courses"]}  # enrolled as on any first value
    assert list(values.values()) == [10, 99, 12, None]
    data = await gql(
        "query($id: UUID!) { variableValues(variableId: $id) { data { value connectionId source { value } } } }",
        {"id": into["id"]},
    )
    carried = [v for v in data["variableValues"]["data"] if v["connectionId"]]
    assert sorted(v["value"] for v in carried) == [10, 12] and all(v["source"]["value"] == v["value"] for v in carried)


async def test_deleting_a_node_or_the_pipeline_removes_connections_and_keeps_carried_values(gql: GQL):
    w = await world(gql)
    learner = await f.learner(gql)
    recorded = await _set(gql, w.quiz["id"], learner["id"], 5)
    nodes = (await gql(COUNT_CONNECTIONS, {"id": w.pipeline["id"]}))["pipeline"]["nodes"]
    remove = """mutation($id: UUID!, $pipelineId: UUID) { removePipelineNode(id: $id, pipelineId: $pipelineId) {
      __typename ... on Deleted { id } ... on UserError { code } } }"""
    tutor_node = next(n for n in nodes if n["id"])  # any node: the first is course A's
    assert (await gql(remove, {"id": tutor_node["id"], "pipelineId": str(uuid.uuid4())}))["removePipelineNode"] == {
        "__typename": "NotFoundError", "code": "not_found"
    }  # fmt: skip
    assert (await gql(remove, {"id": tutor_node["id"]}))["removePipelineNode"]["__typename"] == "Deleted"
    assert await _connection_count(gql, w.pipeline["id"]) == 1  # course A's connection went with its node
    delete = "mutation($id: UUID!) { deletePipeline(id: $id) { __typename ... on UserError { code } } }"
    assert (await gql(delete, {"id": w.pipeline["id"]}))["deletePipeline"]["__typename"] == "Deleted"
    assert (await gql(delete, {"id": w.pipeline["id"]}))["deletePipeline"]["code"] == "not_found"
    assert (await gql(COUNT_CONNECTIONS, {"id": w.pipeline["id"]}))["pipeline"] is None
    current = {v["variableId"]: v["value"] for v in (await _current(gql, learner["id"]))["variables"]}
    assert current[w.quiz_in["id"]] == 5  # the carried value stays, and still names its source
    data = await gql(
        "query($id: UUID!) { variableValues(variableId: $id) { data { source { id } connectionId } } }",
        {"id": w.quiz_in["id"]},
    )
    assert data["variableValues"]["data"] == [{"source": {"id": recorded["id"]}, "connectionId": w.first["id"]}]
    # Without a connection, a set of the old source carries nothing.
    assert (await _set(gql, w.quiz["id"], learner["id"], 6))["propagated"] == []


async def test_a_set_on_a_variable_that_feeds_nothing_sends_no_statement_more(gql: GQL, services: Services):
    course = await f.course(gql)
    plain = await f.variable(gql, course["id"], "NUMBER", "plain")
    learner = await f.learner(gql)
    with services.db.recording() as statements:
        assert (await _set(gql, plain["id"], learner["id"], 1))["propagated"] == []
    # The lookup (which also asks whether the variable feeds a connection), history, current value, enrolment.
    assert len(statements) == 4, statements
    assert sum("pipeline_connections" in s for s in statements) == 1


async def test_another_organizations_pipelines_chatbots_and_variables_are_not_found(
    gql: GQL, client: Any, services: Services, tenant: Tenant
):
    w = await world(gql)
    other: Tenant = await make_tenant(services, "Globex")
    theirs = GQL(client, other.key_headers)
    data = await theirs(
        """query($p: UUID!, $c: UUID!, $v: UUID!) { pipeline(id: $p) { id } chatbot(id: $c) { id }
             variable(id: $v) { id } pipelines { data { id } } chatbots { data { id } } }""",
        {"p": w.pipeline["id"], "c": w.tutor["id"], "v": w.quiz["id"]},
    )
    assert data == {"pipeline": None, "chatbot": None, "variable": None, "pipelines": {"data": []},
                    "chatbots": {"data": []}}  # fmt: skip
    own = await f.pipeline(theirs, "Theirs")
    assert (await f.node(theirs, own["id"], "CHATBOT", w.tutor["id"]))["code"] == "not_found"
    assert (await f.node(theirs, w.pipeline["id"], "CHATBOT", w.tutor["id"]))["code"] == "not_found"
    assert (await f.connect(theirs, own["id"], w.quiz["id"], w.quiz_in["id"]))["code"] == "not_found"
    for mutation in ("deletePipeline(id: $id)", "disconnectVariables(id: $id)", "removePipelineNode(id: $id)"):
        ids = {"deletePipeline(id: $id)": w.pipeline["id"], "disconnectVariables(id: $id)": w.first["id"]}
        target = ids.get(
            mutation, (await gql(COUNT_CONNECTIONS, {"id": w.pipeline["id"]}))["pipeline"]["nodes"][0]["id"]
        )
        result = await theirs(f"mutation($id: UUID!) {{ r: {mutation} {{ __typename ... on UserError {{ code }} }} }}",
                              {"id": target})  # fmt: skip
        assert result["r"]["code"] == "not_found", mutation
    assert await _connection_count(gql, w.pipeline["id"]) == 2
