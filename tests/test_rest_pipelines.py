"""Chatbots and pipelines over REST: the worked example of docs/api.md, every status a refusal answers with, and
another organization's objects answered as missing on every new path."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests import factories as f
from tests.conftest import GQL, Tenant
from tests.test_pipelines import _variable


async def _setup(gql: GQL) -> dict[str, Any]:
    course = {**await f.course(gql, "Python 101", externalId="PY-101"), "kind": "COURSE"}
    tutor = {**await f.chatbot(gql, "Python tutor", externalId="tutor-1", kind="EDUCATION"), "kind": "CHATBOT"}
    quiz = await _variable(gql, course, "NUMBER", "OUTPUT", "quiz_score")
    quiz_in = await _variable(gql, tutor, "NUMBER", "INPUT", "quiz_score")
    learner = await f.learner(gql)
    return {"course": course, "tutor": tutor, "quiz": quiz, "quiz_in": quiz_in, "learner": learner}


async def test_the_worked_example_from_a_connection_to_the_propagated_value(client: httpx.AsyncClient, gql: GQL,
                                                                             tenant: Tenant):  # fmt: skip
    h, w = tenant.key_headers, await _setup(gql)
    created = await client.post("/api/pipelines", json={"name": "Tutoring"}, headers=h)
    assert created.status_code == 201, created.text
    pipeline = created.json()
    assert (pipeline["name"], pipeline["active"], pipeline["nodes"], pipeline["connections"]) == (
        "Tutoring", True, [], []
    )  # fmt: skip
    base = f"/api/pipelines/{pipeline['id']}"
    for kind, component in (("course", w["course"]), ("chatbot", w["tutor"])):
        node = await client.post(f"{base}/nodes", json={"component_kind": kind, "component_id": component["id"],
                                                        "x": 10, "y": 20}, headers=h)  # fmt: skip
        assert node.status_code == 201, node.text
        assert node.json()["component_kind"] == kind and node.json()["name"] == component["name"]
    body = {"source_variable_id": w["quiz"]["id"], "target_variable_id": w["quiz_in"]["id"]}
    connection = await client.post(f"{base}/connections", json=body, headers=h)
    assert connection.status_code == 201, connection.text
    assert connection.json()["backfilled"] == 0
    value = {"variable_id": w["quiz"]["id"], "learner_id": w["learner"]["id"], "value": 8}
    recorded = await client.post("/api/variables/set", json=value, headers=h)
    assert recorded.status_code == 201
    [carried] = recorded.json()["propagated"]
    assert carried["variable_id"] == w["quiz_in"]["id"] and carried["connection_id"] == connection.json()["id"]
    tutor_values = await client.get(f"/api/chatbots/{w['tutor']['id']}/variables", headers=h)
    assert [(v["name"], v["direction"], v["chatbot_id"]) for v in tutor_values.json()["data"]] == [
        ("quiz_score", "input", w["tutor"]["id"])
    ]
    values = (await client.get(f"/api/variables/{w['quiz_in']['id']}/values", headers=h)).json()["data"]
    assert [(v["id"], v["value"]) for v in values] == [(carried["value_id"], 8)]
    detail = (await client.get(base, headers=h)).json()
    assert [c["id"] for c in detail["connections"]] == [connection.json()["id"]] and len(detail["nodes"]) == 2
    listed = (await client.get("/api/pipelines", headers=h)).json()
    assert [p["id"] for p in listed["data"]] == [pipeline["id"]] and listed["pagination"]["has_more"] is False
    # Turn it off, rename it, then take it apart: the carried value stays.
    patched = await client.patch(base, json={"active": False, "name": "Tutoring (paused)"}, headers=h)
    assert patched.status_code == 200 and patched.json()["active"] is False
    gone = await client.delete(f"{base}/connections/{connection.json()['id']}", headers=h)
    assert gone.status_code == 204 and gone.content == b""
    assert (await client.delete(f"{base}/connections/{connection.json()['id']}", headers=h)).status_code == 404
    node_id = detail["nodes"][0]["id"]
    assert (await client.delete(f"{base}/nodes/{node_id}", headers=h)).status_code == 204
    assert (await client.delete(base, headers=h)).status_code == 204
    assert (await client.get(base, headers=h)).status_code == 404
    values = (await client.get(f"/api/variables/{w['quiz_in']['id']}/values", headers=h)).json()["data"]
    assert [v["value"] for v in values] == [8]


async def test_chatbot_reads_are_shaped_like_the_course_ones(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    h, w = tenant.key_headers, await _setup(gql)
    listed = (await client.get("/api/chatbots", headers=h)).json()
    assert [b["id"] for b in listed["data"]] == [w["tutor"]["id"]]
    one = (await client.get(f"/api/chatbots/{w['tutor']['id']}", headers=h)).json()
    assert set(one) == {"id", "external_id", "name", "description", "kind", "active", "created_at", "updated_at"}
    assert one["kind"] == "education"
    assert (await client.get("/api/chatbots/external/tutor-1", headers=h)).json()["id"] == w["tutor"]["id"]
    assert (await client.get("/api/chatbots/external/nobody", headers=h)).status_code == 404
    assert (await client.get("/api/chatbots/not-a-uuid", headers=h)).status_code == 400
    assert (await client.get("/api/chatbots?active=false", headers=h)).json()["data"] == []
    assert (await client.get(f"/api/chatbots/{uuid.uuid4()}/variables", headers=h)).status_code == 404


async def test_refusals_answer_400_404_409_with_the_error_body_and_change_nothing(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant
):
    h, w = tenant.key_headers, await _setup(gql)
    pipeline = (await client.post("/api/pipelines", json={"name": "P"}, headers=h)).json()
    base = f"/api/pipelines/{pipeline['id']}"
    assert (await client.post("/api/pipelines", json={"name": "P"}, headers=h)).status_code == 409
    for body in ({}, {"name": ""}, {"name": "Q", "active": "yes"}, {"name": "Q", "colour": "red"}):
        answer = await client.post("/api/pipelines", json=body, headers=h)
        assert answer.status_code == 400 and set(answer.json()) == {"error", "message"}, body
    node = {"component_kind": "course", "component_id": w["course"]["id"]}
    assert (await client.post(f"{base}/nodes", json=node, headers=h)).status_code == 201
    assert (await client.post(f"{base}/nodes", json=node, headers=h)).status_code == 409
    assert (await client.post(f"{base}/nodes", json={**node, "component_kind": "robot"}, headers=h)).status_code == 400
    assert (await client.post(f"{base}/nodes", json={**node, "x": "left"}, headers=h)).status_code == 400
    missing = {"component_kind": "chatbot", "component_id": str(uuid.uuid4())}
    assert (await client.post(f"{base}/nodes", json=missing, headers=h)).status_code == 404
    body = {"source_variable_id": w["quiz"]["id"], "target_variable_id": w["quiz_in"]["id"]}
    not_placed = await client.post(f"{base}/connections", json=body, headers=h)  # the tutor is not a node yet
    assert not_placed.status_code == 400 and not_placed.json()["error"] == "invalid_input"
    assert "not a node" in not_placed.json()["message"]
    await client.post(f"{base}/nodes", json={"component_kind": "chatbot", "component_id": w["tutor"]["id"]}, headers=h)
    reversed_body = {"source_variable_id": w["quiz_in"]["id"], "target_variable_id": w["quiz"]["id"]}
    assert (await client.post(f"{base}/connections", json=reversed_body, headers=h)).status_code == 400
    assert (await client.post(f"{base}/connections", json={**body, "backfill": "yes"}, headers=h)).status_code == 400
    assert (await client.post(f"{base}/connections", json={"source_variable_id": 5}, headers=h)).status_code == 400
    assert (await client.post(f"{base}/connections", json=body, headers=h)).status_code == 201
    taken = await client.post(f"{base}/connections", json=body, headers=h)
    assert taken.status_code == 409 and taken.json()["error"] == "conflict"
    detail = (await client.get(base, headers=h)).json()
    assert len(detail["connections"]) == 1 and len(detail["nodes"]) == 2
    assert (await client.patch(f"/api/pipelines/{uuid.uuid4()}", json={"active": True}, headers=h)).status_code == 404
    assert (await client.delete(f"/api/pipelines/{uuid.uuid4()}", headers=h)).status_code == 404
    assert (await client.delete(f"{base}/nodes/{uuid.uuid4()}", headers=h)).status_code == 404


async def test_another_organizations_objects_are_404_on_every_new_path(
    client: httpx.AsyncClient, gql: GQL, tenant: Tenant, other_tenant: Tenant
):
    h, w = tenant.key_headers, await _setup(gql)
    pipeline = (await client.post("/api/pipelines", json={"name": "Mine"}, headers=h)).json()
    base = f"/api/pipelines/{pipeline['id']}"
    node = (await client.post(f"{base}/nodes", json={"component_kind": "course", "component_id": w["course"]["id"]},
                              headers=h)).json()  # fmt: skip
    theirs = other_tenant.key_headers
    own = (await client.post("/api/pipelines", json={"name": "Theirs"}, headers=theirs)).json()
    reads = [base, f"/api/chatbots/{w['tutor']['id']}", f"/api/chatbots/{w['tutor']['id']}/variables",
             "/api/chatbots/external/tutor-1", f"/api/variables/{w['quiz']['id']}"]  # fmt: skip
    for path in reads:
        assert (await client.get(path, headers=theirs)).status_code == 404, path
    writes = [
        ("PATCH", base, {"name": "Stolen"}),
        ("DELETE", base, None),
        ("POST", f"{base}/nodes", {"component_kind": "course", "component_id": w["course"]["id"]}),
        ("DELETE", f"{base}/nodes/{node['id']}", None),
        ("POST", f"/api/pipelines/{own['id']}/nodes", {"component_kind": "chatbot", "component_id": w["tutor"]["id"]}),
        ("POST", f"/api/pipelines/{own['id']}/connections",
         {"source_variable_id": w["quiz"]["id"], "target_variable_id": w["quiz_in"]["id"]}),
    ]  # fmt: skip
    for method, path, body in writes:
        answer = await client.request(method, path, json=body, headers=theirs)
        assert answer.status_code == 404 and answer.json()["error"] == "not_found", (method, path, answer.text)
    assert [p["id"] for p in (await client.get("/api/pipelines", headers=theirs)).json()["data"]] == [own["id"]]
    detail = (await client.get(base, headers=h)).json()
    assert detail["name"] == "Mine" and len(detail["nodes"]) == 1  # nothing of theirs changed ours


async def test_rest_and_graphql_answer_the_same_pipeline(client: httpx.AsyncClient, gql: GQL, tenant: Tenant):
    h, w = tenant.key_headers, await _setup(gql)
    pipeline = (
        await client.post("/api/pipelines", json={"name": "Same", "description": "both ways"}, headers=h)
    ).json()
    base = f"/api/pipelines/{pipeline['id']}"
    for kind, component in (("course", w["course"]), ("chatbot", w["tutor"])):
        await client.post(f"{base}/nodes", json={"component_kind": kind, "component_id": component["id"]}, headers=h)
    body = {"source_variable_id": w["quiz"]["id"], "target_variable_id": w["quiz_in"]["id"]}
    await client.post(f"{base}/connections", json=body, headers=h)
    rest = (await client.get(base, headers=h)).json()
    data = await gql(
        """query($id: UUID!) { pipeline(id: $id) { id name description active createdAt updatedAt
             nodes { id pipelineId componentKind componentId name x y createdAt }
             connections { id pipelineId sourceVariableId targetVariableId createdAt } } }""",
        {"id": pipeline["id"]},
    )
    graph = data["pipeline"]
    assert (rest["id"], rest["name"], rest["description"], rest["active"], rest["created_at"]) == (
        graph["id"], graph["name"], graph["description"], graph["active"], graph["createdAt"]
    )  # fmt: skip
    assert [(n["id"], n["component_kind"], n["component_id"], n["name"], n["x"]) for n in rest["nodes"]] == [
        (n["id"], n["componentKind"].lower(), n["componentId"], n["name"], n["x"]) for n in graph["nodes"]
    ]
    assert [(c["id"], c["source_variable_id"], c["target_variable_id"]) for c in rest["connections"]] == [
        (c["id"], c["sourceVariableId"], c["targetVariableId"]) for c in graph["connections"]
    ]
    bot = (await client.get(f"/api/chatbots/{w['tutor']['id']}", headers=h)).json()
    graph_bot = await gql("query($id: UUID!) { chatbot(id: $id) { id name externalId kind } }", {"id": bot["id"]})
    assert (bot["name"], bot["external_id"], bot["kind"]) == (
        graph_bot["chatbot"]["name"], graph_bot["chatbot"]["externalId"], graph_bot["chatbot"]["kind"].lower()
    )  # fmt: skip
