"""The audit log: every key, pipeline and data-removing change, with who and when, readable by owners and admins,
never holding a secret or an erased learner's personal data."""

from __future__ import annotations

import json
import uuid

import httpx

from access.tokens import local_user_id, mint_local_token
from db.models import Role
from db.queries.organizations import add_member
from tests import factories as f
from tests.conftest import GQL, TEST_SECRET, Tenant


async def entries(client: httpx.AsyncClient, tenant: Tenant, **params: str) -> list[dict]:
    answer = await client.get("/api/audit-log", params=params, headers=tenant.user_headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


async def test_changes_are_recorded_with_their_actor(client, tenant, gql, services):  # type: ignore[no-untyped-def]
    user = GQL(client, tenant.user_headers)
    created = (await user('mutation { k: createApiKey(input: {name: "ci"}) { ... on ApiKeyCreated { id key } } }'))["k"]
    await user("mutation($id: UUID!) { revokeApiKey(id: $id) { __typename } }", {"id": created["id"]})
    course = await f.course(gql, "Audited")
    out = await f.variable(gql, course["id"], "NUMBER", "out", direction="OUTPUT")
    bot = await f.chatbot(gql, "Bot")
    into = await f.variable(gql, None, "NUMBER", "in", chatbotId=bot["id"], direction="INPUT")
    pipeline = await f.pipeline(gql, "Audited flow")
    node = await f.node(gql, pipeline["id"], "COURSE", course["id"])
    await f.node(gql, pipeline["id"], "CHATBOT", bot["id"])
    connection = await f.connect(gql, pipeline["id"], out["id"], into["id"])
    await gql("mutation($id: UUID!) { disconnectVariables(id: $id) { __typename } }", {"id": connection["id"]})
    await gql("mutation($id: UUID!) { removePipelineNode(id: $id) { __typename } }", {"id": node["id"]})
    await gql('mutation($id: UUID!) { updatePipeline(id: $id, input: {active: false}) { __typename } }',
              {"id": pipeline["id"]})  # fmt: skip
    await gql("mutation($id: UUID!) { deletePipeline(id: $id) { __typename } }", {"id": pipeline["id"]})
    await gql("mutation($id: UUID!) { deleteCourse(id: $id, force: true) { __typename } }", {"id": course["id"]})
    learner = await f.learner(gql, "private.person@example.com", "Private Person")
    assert (await client.delete(f"/api/learners/{learner['id']}", headers=tenant.key_headers)).status_code == 204

    log = await entries(client, tenant)
    assert [e["action"] for e in log] == [
        "learner.erased", "course.deleted", "pipeline.deleted", "pipeline.updated", "pipeline.node_removed",
        "pipeline.disconnected", "pipeline.connected", "pipeline.node_added", "pipeline.node_added",
        "pipeline.created", "api_key.revoked", "api_key.created",
    ]  # fmt: skip
    by_action = {e["action"]: e for e in log}
    assert by_action["api_key.created"]["actor"] == f"user:{tenant.user_id}"
    assert by_action["api_key.created"]["actor_email"] == tenant.email
    assert by_action["api_key.created"]["details"]["name"] == "ci"
    assert by_action["pipeline.created"]["actor"] == f"key:{tenant.key_id}"
    assert by_action["pipeline.created"]["target_id"] == pipeline["id"]
    assert by_action["pipeline.updated"]["details"] == {"active": False}
    assert by_action["course.deleted"]["details"] == {"force": True}
    assert by_action["learner.erased"]["target_id"] is None
    text = json.dumps(log)
    for secret in (created["key"], tenant.key, learner["id"], "private.person@example.com", "Private Person"):
        assert secret not in text


async def test_the_log_pages_and_stays_in_its_organization(client, tenant, other_tenant):  # type: ignore[no-untyped-def]
    for i in range(5):
        await f.pipeline(GQL(client, tenant.key_headers), f"P{i}")
    await f.pipeline(GQL(client, other_tenant.key_headers), "Theirs")
    first = await client.get("/api/audit-log", params={"limit": 2}, headers=tenant.user_headers)
    names = [e["details"]["name"] for e in first.json()["data"]]
    cursor = first.json()["pagination"]["next_cursor"]
    while cursor:
        page = (
            await client.get("/api/audit-log", params={"limit": 2, "cursor": cursor}, headers=tenant.user_headers)
        ).json()
        names += [e["details"]["name"] for e in page["data"]]
        cursor = page["pagination"]["next_cursor"]
    assert names == ["P4", "P3", "P2", "P1", "P0"]
    assert [e["details"]["name"] for e in await entries(client, other_tenant)] == ["Theirs"]


async def test_only_owners_and_admins_read_the_log(client, tenant, services):  # type: ignore[no-untyped-def]
    assert (await client.get("/api/audit-log", headers=tenant.key_headers)).status_code == 403
    for role, status in ((Role.ADMIN, 200), (Role.MEMBER, 403)):
        email = f"{role.value}-{uuid.uuid4().hex[:6]}@example.com"
        async with services.db.write() as conn:
            await add_member(conn, tenant.org_id, user_id=local_user_id(email), email=email, role=role)
        headers = {"Authorization": f"Bearer {mint_local_token(TEST_SECRET, email)}"}
        answer = await client.get("/api/audit-log", headers=headers)
        assert answer.status_code == status, (role, answer.text)
