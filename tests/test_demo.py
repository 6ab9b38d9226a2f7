"""The demo organization shows the product's idea: a quiz score carried into a tutor chatbot's input, the tutor's
skill level carried onwards, with values that have flowed through the pipeline."""

from __future__ import annotations

import httpx

from access import keys
from app.demo import load_demo
from app.services import Services
from db.queries import api_keys


async def test_the_demo_pipeline_carries_values_from_a_course_through_a_chatbot(
    services: Services, client: httpx.AsyncClient
):
    async with services.db.write() as conn:
        org_id = await load_demo(conn, learners_count=40)
        new = keys.generate()
        await api_keys.insert_key(conn, org_id, name="demo", prefix=new.prefix, key_hash=new.hash, created_by=None,
                                  expires_at=None)  # fmt: skip
    h = {"X-API-Key": new.secret}
    [pipeline] = (await client.get("/api/pipelines", headers=h)).json()["data"]
    detail = (await client.get(f"/api/pipelines/{pipeline['id']}", headers=h)).json()
    names = {node["name"] for node in detail["nodes"]}
    assert names == {"Python Foundations", "Python Tutor", "Data Science with pandas", "Career Coach"}
    assert len(detail["connections"]) == 3
    bots = {b["name"]: b for b in (await client.get("/api/chatbots", headers=h)).json()["data"]}
    assert set(bots) == {"Python Tutor", "Career Coach"}
    tutor_vars = (await client.get(f"/api/chatbots/{bots['Python Tutor']['id']}/variables", headers=h)).json()
    by_name = {v["name"]: v for v in tutor_vars["data"]}
    assert (by_name["quiz_score"]["direction"], by_name["skill_level"]["direction"]) == ("input", "output")
    # Values have flowed: every score in the tutor's input came from the course, and its assessments went on.
    data = (await client.post("/graphql", headers=h, json={"query": """query($id: UUID!) {
        variableValues(variableId: $id, limit: 1000) { data { value source { variableId value } } } }""",
        "variables": {"id": by_name["quiz_score"]["id"]}})).json()["data"]  # fmt: skip
    carried = data["variableValues"]["data"]
    assert carried and all(v["source"] is not None and v["source"]["value"] == v["value"] for v in carried)
    outgoing = {c["source_variable_id"] for c in detail["connections"]}
    assert by_name["skill_level"]["id"] in outgoing
    for connection in detail["connections"]:
        values = (await client.get(f"/api/variables/{connection['target_variable_id']}/values", headers=h)).json()
        assert values["data"], connection  # every input of the pipeline holds values
