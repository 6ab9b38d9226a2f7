"""Streamed exports: a variable's values as CSV (parsed back, they are the values) and a learner's data as JSON
(everything about them, nothing of anyone else)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import orjson
import pytest

from rest import exports
from tests import factories as f
from tests.conftest import GQL, Tenant

AWKWARD_TEXTS = ["plain", 'with "quotes"', "a,comma", "two\r\nlines", "ünïcödé ✓", " spaced ", "=1+1", ""]


async def test_csv_parsed_back_equals_the_values(client, tenant: Tenant, gql: GQL, monkeypatch):
    monkeypatch.setattr(exports, "PAGE", 3)  # several pages from a handful of values
    course = await f.course(gql)
    text = await f.variable(gql, course["id"], "TEXT", "note")
    learners = [await f.learner(gql) for _ in range(2)]
    sent = []
    for i, value in enumerate(AWKWARD_TEXTS):
        if value == "":
            continue  # an empty text is refused at the door, as ever
        sent.append(await f.set_value(gql, text["id"], learners[i % 2]["id"], value))
    response = await client.get(f"/api/variables/{text['id']}/values.csv", headers=tenant.key_headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="note-values.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"id,variable_id,learner_id,course_run_id,value,recorded_at\r\n")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert [(r["id"], r["learner_id"], r["value"]) for r in rows] == [
        (v["id"], v["learnerId"], v["value"]) for v in reversed(sent)
    ]
    only = await client.get(
        f"/api/variables/{text['id']}/values.csv",
        params={"learner_id": learners[0]["id"]},
        headers=tenant.key_headers,
    )
    assert {r["learner_id"] for r in csv.DictReader(io.StringIO(only.text))} == {learners[0]["id"]}


@pytest.mark.parametrize(
    ("kind", "value", "cell"),
    [
        ("NUMBER", 2.5, "2.5"),
        ("BOOLEAN", True, "true"),
        ("JSON", {"a": [1, "x"]}, '{"a":[1,"x"]}'),
        ("JSON", "s", '"s"'),
    ],
)
async def test_csv_writes_other_types_as_json(client, tenant, gql, kind, value, cell):
    var = await f.variable(gql, None, kind)
    learner = await f.learner(gql)
    await f.set_value(gql, var["id"], learner["id"], value)
    response = await client.get(f"/api/variables/{var['id']}/values.csv", headers=tenant.key_headers)
    (row,) = csv.DictReader(io.StringIO(response.text))
    assert row["value"] == cell
    assert orjson.loads(row["value"]) == value


async def test_an_empty_export_is_its_header(client, tenant, gql):
    var = await f.variable(gql, None, "NUMBER")
    response = await client.get(f"/api/variables/{var['id']}/values.csv", headers=tenant.key_headers)
    assert response.text == "id,variable_id,learner_id,course_run_id,value,recorded_at\r\n"


async def test_exports_of_missing_or_foreign_objects_are_404(client, tenant, other_tenant, gql):
    var = await f.variable(gql, None, "NUMBER")
    learner = await f.learner(gql)
    for path in (f"/api/variables/{var['id']}/values.csv", f"/api/learners/{learner['id']}/export"):
        response = await client.get(path, headers=other_tenant.key_headers)
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    for path in (f"/api/variables/{uuid.uuid4()}/values.csv", f"/api/learners/{uuid.uuid4()}/export"):
        assert (await client.get(path, headers=tenant.key_headers)).status_code == 404
    assert (await client.get("/api/variables/nope/values.csv", headers=tenant.key_headers)).status_code == 400


async def test_a_learner_export_holds_everything_about_them_and_nothing_else(client, tenant, gql, monkeypatch) -> None:
    monkeypatch.setattr(exports, "PAGE", 2)
    course = await f.course(gql)
    run = await f.run(gql, course["id"])
    score = await f.variable(gql, course["id"], "NUMBER", "score")
    goal = await f.variable(gql, None, "JSON", "goal")
    ada = await f.learner(gql, name="Ada")
    grace = await f.learner(gql, name="Grace")
    mine: list[dict[str, Any]] = [
        await f.set_value(gql, score["id"], ada["id"], 70, run["id"]),
        await f.set_value(gql, score["id"], ada["id"], 85, run["id"]),
        await f.set_value(gql, goal["id"], ada["id"], {"career": "data"}),
    ]
    await f.set_value(gql, score["id"], grace["id"], 99, run["id"])
    response = await client.get(f"/api/learners/{ada['id']}/export", headers=tenant.key_headers)
    assert response.status_code == 200
    export = orjson.loads(response.content)
    assert export["learner"]["id"] == ada["id"] and export["learner"]["email"] == ada["email"]
    assert [e["course_id"] for e in export["enrollments"]] == [course["id"]]
    assert {(v["name"], str(v["value"])) for v in export["current_values"]} == {
        ("score", "85"),
        ("goal", str({"career": "data"})),
    }
    assert [v["id"] for v in export["values"]] == [v["id"] for v in reversed(mine)]
    assert grace["id"] not in response.text and grace["email"] not in response.text
