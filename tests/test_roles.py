"""Roles, enforced in the schema's permission layer for GraphQL and REST alike: an owner and an admin change data
and manage keys; a member reads. The table names every mutation, and a test fails when a new one is not in it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from access.tokens import local_user_id, mint_local_token
from db.models import Role
from db.queries.organizations import add_member
from tests import factories as f
from tests.conftest import GQL, TEST_SECRET, Tenant

ANY_ID = str(uuid.uuid4())


def with_id(call: str) -> tuple[str, dict[str, Any]]:
    return f"mutation($id: UUID!) {{ {call} {{ __typename }} }}", {"id": ANY_ID}


def plain(call: str) -> tuple[str, dict[str, Any]]:
    return f"mutation {{ {call} {{ __typename }} }}", {}


# Every mutation with arguments that get past parsing; the ids need not exist (the permission check comes first).
MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "createCourse": plain('createCourse(input: {name: "Role course"})'),
    "updateCourse": with_id('updateCourse(id: $id, input: {name: "x"})'),
    "createCourseRun": with_id('createCourseRun(input: {courseId: $id, name: "r"})'),
    "createLearner": plain('createLearner(input: {email: "role@example.com"})'),
    "updateLearner": with_id('updateLearner(id: $id, input: {name: "x"})'),
    "enrollLearner": with_id("enrollLearner(input: {learnerId: $id, courseId: $id})"),
    "createVariable": plain('createVariable(input: {name: "v", type: TEXT})'),
    "updateVariable": with_id('updateVariable(id: $id, input: {name: "x"})'),
    "setVariable": with_id("setVariable(input: {variableId: $id, learnerId: $id, value: 1})"),
    "setVariables": with_id("setVariables(input: {values: [{variableId: $id, learnerId: $id, value: 1}]})"),
    "createChatbot": plain('createChatbot(input: {name: "Role bot"})'),
    "updateChatbot": with_id('updateChatbot(id: $id, input: {name: "x"})'),
    "createPipeline": plain('createPipeline(input: {name: "Role pipeline"})'),
    "updatePipeline": with_id('updatePipeline(id: $id, input: {name: "x"})'),
    "deletePipeline": with_id("deletePipeline(id: $id)"),
    "addPipelineNode": with_id("addPipelineNode(input: {pipelineId: $id, componentKind: COURSE, componentId: $id})"),
    "movePipelineNode": with_id("movePipelineNode(id: $id, x: 1, y: 1)"),
    "removePipelineNode": with_id("removePipelineNode(id: $id)"),
    "connectVariables": with_id(
        "connectVariables(input: {pipelineId: $id, sourceVariableId: $id, targetVariableId: $id})"
    ),
    "disconnectVariables": with_id("disconnectVariables(id: $id)"),
    "deleteCourse": with_id("deleteCourse(id: $id, force: true)"),
    "deleteCourseRun": with_id("deleteCourseRun(id: $id)"),
    "deleteVariable": with_id("deleteVariable(id: $id)"),
    "deleteChatbot": with_id("deleteChatbot(id: $id)"),
    "eraseLearner": with_id("eraseLearner(id: $id)"),
    "inviteMember": plain('inviteMember(input: {email: "new@example.com", role: ADMIN})'),
    "changeMemberRole": plain('changeMemberRole(userId: "nobody", role: MEMBER)'),
    "removeMember": plain('removeMember(userId: "nobody")'),
    "createApiKey": plain('createApiKey(input: {name: "role key"})'),
    "revokeApiKey": with_id("revokeApiKey(id: $id)"),
    "rollApiKey": with_id("rollApiKey(id: $id)"),
    "createOrganization": plain('createOrganization(name: "Another org")'),
    "acceptInvitation": with_id("acceptInvitation(id: $id)"),
}
# Who may run each: data changes for owners and admins, keys too; creating an organization or accepting an
# invitation for anyone signed in.
EVERYONE = {"owner", "admin", "member"}
MANAGERS = {"owner", "admin"}
ALLOWED = {name: MANAGERS for name in MUTATIONS} | {"createOrganization": EVERYONE, "acceptInvitation": EVERYONE}


@pytest.fixture
async def people(services, tenant: Tenant) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    headers = {"owner": tenant.user_headers}
    for role in (Role.ADMIN, Role.MEMBER):
        email = f"{role.value}-{uuid.uuid4().hex[:6]}@example.com"
        async with services.db.write() as conn:
            await add_member(conn, tenant.org_id, user_id=local_user_id(email), email=email, role=role)
        headers[role.value] = {"Authorization": f"Bearer {mint_local_token(TEST_SECRET, email)}"}
    return headers


async def test_the_table_names_every_mutation(client: httpx.AsyncClient, tenant: Tenant):
    body = (await GQL(client, tenant.key_headers).raw("{ __schema { mutationType { fields { name } } } }"))["data"]
    assert {field["name"] for field in body["__schema"]["mutationType"]["fields"]} == set(MUTATIONS)


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
async def test_role_by_mutation(client: httpx.AsyncClient, people, role: str):  # type: ignore[no-untyped-def]
    refused = set()
    for name, (query, variables) in MUTATIONS.items():
        answer = await client.post("/graphql", json={"query": query, "variables": variables}, headers=people[role])
        assert answer.status_code == 200, (name, answer.text)
        errors = answer.json().get("errors") or []
        if any(e.get("extensions", {}).get("code") == "FORBIDDEN" for e in errors):
            refused.add(name)
        else:
            assert not errors, (name, errors)
    assert refused == {name for name, roles in ALLOWED.items() if role not in roles}


async def test_a_member_reads_but_changes_nothing_over_rest_and_graphql(client, tenant, people):  # type: ignore[no-untyped-def]
    gql = GQL(client, tenant.key_headers)
    course = await f.course(gql, "Readable")
    member = people["member"]
    assert (await client.get(f"/api/courses/{course['id']}", headers=member)).status_code == 200
    data = (await client.post("/graphql", json={"query": "{ courses { data { name } } }"}, headers=member)).json()
    assert [c["name"] for c in data["data"]["courses"]["data"]] == ["Readable"]

    for method, path, body in (
        ("GET", "/api/api-keys", None),
        ("POST", "/api/api-keys", {"name": "nope"}),
        ("POST", f"/api/api-keys/{tenant.key_id}/revoke", None),
        ("POST", "/api/pipelines", {"name": "nope"}),
        ("PATCH", f"/api/pipelines/{ANY_ID}", {"name": "nope"}),
        ("DELETE", f"/api/learners/{ANY_ID}", None),
    ):
        answer = await client.request(method, path, json=body, headers=member)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error"] == "forbidden" and "role" in answer.json()["message"]
    keys = await client.get("/api/api-keys", headers=people["admin"])
    assert keys.status_code == 200 and [k["revoked_at"] for k in keys.json()["data"]] == [None]  # nothing changed
    assert (await client.get("/api/pipelines", headers=tenant.key_headers)).json()["data"] == []


# Which mutations each API key scope may run: the read scope none, the write scope values only, full access all
# but the ones that need a person.
PEOPLE_ONLY = {"createApiKey", "revokeApiKey", "rollApiKey", "inviteMember", "changeMemberRole", "removeMember",
               "createOrganization", "acceptInvitation"}  # fmt: skip
BY_SCOPE = {
    "read": set(),
    "write": {"setVariable", "setVariables"},
    "full": set(MUTATIONS) - PEOPLE_ONLY,
}


@pytest.mark.parametrize("scope", ["read", "write", "full"])
async def test_scope_by_mutation(client: httpx.AsyncClient, tenant: Tenant, scope: str):
    body = {"name": f"{scope} key", **({} if scope == "full" else {"scopes": [scope]})}
    made = await client.post("/api/api-keys", json=body, headers=tenant.user_headers)
    headers = {"X-API-Key": made.json()["key"]}
    refused = set()
    for name, (query, variables) in MUTATIONS.items():
        answer = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        errors = answer.json().get("errors") or []
        if any(e.get("extensions", {}).get("code") == "FORBIDDEN" for e in errors):
            refused.add(name)
        else:
            assert not errors, (name, errors)
    assert set(MUTATIONS) - refused == BY_SCOPE[scope]
    # Every root query field answers any scope.
    fields = "courses { data { id } } chatbots { data { id } } pipelines { data { id } } learners { data { id } } "
    fields += "variables { data { id } }"
    answer = (await client.post("/graphql", json={"query": "{ " + fields + " }"}, headers=headers)).json()
    assert "errors" not in answer
