"""Loads started together are one statement, with the engine on or off: sibling fields, and the nested fields of
every item of a list. Counted in statements sent to the database."""

from __future__ import annotations

from app.services import Services
from tests import factories as f
from tests.conftest import GQL


async def test_sibling_and_nested_loads_are_one_statement_each(gql: GQL, services: Services):
    learners = [await f.learner(gql, f"sib{i}@example.com") for i in range(3)]
    courses = [await f.course(gql, f"Batch {i}") for i in range(3)]
    for course in courses:
        await f.variable(gql, course["id"], "NUMBER", "score")
    query = """query($a: UUID!, $b: UUID!, $c: UUID!) {
      a: learner(id: $a) { id } b: learner(id: $b) { id } c: learner(id: $c) { email }
      courses { data { id variables { name } } }
    }"""
    ids = {"a": learners[0]["id"], "b": learners[1]["id"], "c": learners[2]["id"]}
    for _ in range(2):  # a new document, then the same one known (with the engine on: from its plan)
        with services.db.recording() as statements:
            data = await gql(query, ids)
        assert [data[k]["id"] if k != "c" else data[k]["email"] for k in "abc"] == [
            learners[0]["id"], learners[1]["id"], "sib2@example.com"
        ]  # fmt: skip
        assert [len(c["variables"]) for c in data["courses"]["data"]] == [1, 1, 1]
        learner_reads = [s for s in statements if "FROM learners" in s]
        variable_reads = [s for s in statements if "FROM variables" in s]
        assert len(learner_reads) == 1, learner_reads  # three siblings, one batch
        assert len(variable_reads) == 1, variable_reads  # three courses' variables, one batch
