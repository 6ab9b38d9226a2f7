"""Members and invitations: invite by email with a role, join by signing in with that email, change roles and
remove members; the last owner stays, only owners touch owners, another organization's member is not found."""

from __future__ import annotations

import uuid

import httpx
import pytest

from access.login_links import redeem
from access.tokens import local_user_id, mint_local_token
from app.services import Services
from db.models import Role
from db.queries.organizations import add_member
from tests.conftest import TEST_SECRET, Tenant, make_tenant


def bearer(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_local_token(TEST_SECRET, email)}"}


async def join(services: Services, tenant: Tenant, role: Role) -> tuple[str, dict[str, str]]:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@example.com"
    async with services.db.write() as conn:
        await add_member(conn, tenant.org_id, user_id=local_user_id(email), email=email, role=role)
    return local_user_id(email), bearer(email)


async def roles(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    answer = await client.get("/api/members", headers=tenant.user_headers)
    assert answer.status_code == 200
    return {m["email"]: m["role"] for m in answer.json()["data"]}


async def test_an_invited_person_joins_with_the_role_through_the_link(client, tenant, services):  # type: ignore[no-untyped-def]
    invited = await client.post(
        "/api/invitations", json={"email": "New.Colleague@Example.com", "role": "admin"}, headers=tenant.user_headers
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["email"] == "new.colleague@example.com" and body["role"] == "admin"
    assert body["link"].startswith("/login/link?code=")
    pending = await client.post(
        "/graphql", json={"query": "{ invitations { email role } }"}, headers=tenant.user_headers
    )
    assert pending.json()["data"]["invitations"] == [{"email": "new.colleague@example.com", "role": "ADMIN"}]

    # The link signs the invitee in once and makes them a member of the organization that invited them.
    redeemed = await redeem(services.db, body["link"].split("code=")[1])
    assert redeemed is not None and redeemed.joined == tenant.org_id
    email = redeemed.email
    assert email == "new.colleague@example.com"
    orgs = await client.post("/graphql", json={"query": "{ organizations { id role } }"}, headers=bearer(email))
    assert orgs.json()["data"]["organizations"] == [{"id": str(tenant.org_id), "role": "admin"}]
    assert (await roles(client, tenant))["new.colleague@example.com"] == "admin"
    assert (await client.get("/api/api-keys", headers=bearer(email))).status_code == 200  # an admin manages keys
    log = (await client.get("/api/audit-log", headers=tenant.user_headers)).json()["data"]
    assert [e["action"] for e in log[:2]] == ["member.joined", "member.invited"]


async def test_inviting_a_member_twice_or_badly_is_refused(client, tenant):  # type: ignore[no-untyped-def]
    again = await client.post("/api/invitations", json={"email": tenant.email}, headers=tenant.user_headers)
    assert again.status_code == 409
    for body in ({"email": "x@example.com", "role": "boss"}, {"email": ""}, {"role": "admin"}):
        answer = await client.post("/api/invitations", json=body, headers=tenant.user_headers)
        assert answer.status_code == 400, body
    assert (
        await client.post("/api/invitations", json={"email": "k@example.com"}, headers=tenant.key_headers)
    ).status_code == 403


async def test_roles_change_and_members_leave_under_the_rules(client, tenant, services):  # type: ignore[no-untyped-def]
    admin_id, admin = await join(services, tenant, Role.ADMIN)
    member_id, _ = await join(services, tenant, Role.MEMBER)

    # An admin manages members and admins, but not owners, and cannot make owners.
    assert (await client.patch(f"/api/members/{member_id}", json={"role": "admin"}, headers=admin)).status_code == 200
    assert (await client.patch(f"/api/members/{member_id}", json={"role": "owner"}, headers=admin)).status_code == 403
    assert (
        await client.patch(f"/api/members/{tenant.user_id}", json={"role": "member"}, headers=admin)
    ).status_code == 403
    assert (await client.delete(f"/api/members/{tenant.user_id}", headers=admin)).status_code == 403
    # A member manages nobody.
    _, plain = await join(services, tenant, Role.MEMBER)
    assert (await client.delete(f"/api/members/{admin_id}", headers=plain)).status_code == 403

    # The last owner can be neither demoted nor removed, by anyone, themselves included.
    assert (
        await client.patch(f"/api/members/{tenant.user_id}", json={"role": "admin"}, headers=tenant.user_headers)
    ).status_code == 409
    assert (await client.delete(f"/api/members/{tenant.user_id}", headers=tenant.user_headers)).status_code == 409
    # With a second owner, the first may step down.
    assert (
        await client.patch(f"/api/members/{admin_id}", json={"role": "owner"}, headers=tenant.user_headers)
    ).status_code == 200
    assert (
        await client.patch(f"/api/members/{tenant.user_id}", json={"role": "member"}, headers=admin)
    ).status_code == 200
    assert (await client.delete(f"/api/members/{member_id}", headers=admin)).status_code == 204
    assert (await client.delete(f"/api/members/{member_id}", headers=admin)).status_code == 404
    final = await roles(client, tenant)
    assert final[tenant.email] == "member"
    assert sorted(final.values()) == ["member", "member", "owner"]  # the admin became the owner; one member left
    log = [e["action"] for e in (await client.get("/api/audit-log", headers=admin)).json()["data"]]
    assert log.count("member.role_changed") == 3 and log.count("member.removed") == 1


async def test_another_organizations_member_is_not_found(client, tenant, other_tenant):  # type: ignore[no-untyped-def]
    for method in ("PATCH", "DELETE"):
        answer = await client.request(
            method, f"/api/members/{other_tenant.user_id}", json={"role": "member"}, headers=tenant.user_headers
        )
        assert answer.status_code == 404
    theirs = await client.get("/api/members", headers=other_tenant.user_headers)
    assert [m["role"] for m in theirs.json()["data"]] == ["owner"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
async def test_every_member_sees_who_belongs(client, tenant, services, role):  # type: ignore[no-untyped-def]
    _, headers = await join(services, tenant, role)
    answer = await client.get("/api/members", headers=headers)
    assert answer.status_code == 200 and len(answer.json()["data"]) == 2


INVITE = (
    "mutation($e: String!) { inviteMember(input: {email: $e, role: OWNER}) { ... on InvitationCreated { id link } } }"
)
ACCEPT = """mutation($id: UUID!) { acceptInvitation(id: $id) {
  __typename ... on Organization { id role } ... on UserError { code } } }"""


async def test_an_invitation_joins_its_own_organization_only_and_several_must_be_named(client, services):  # type: ignore[no-untyped-def]
    x, o = await make_tenant(services, "X"), await make_tenant(services, "O")
    email = "twice.invited@example.com"
    invitations = {}
    for tenant in (x, o):  # X invites first, as owner
        answer = await client.post(
            "/graphql", json={"query": INVITE, "variables": {"e": email}}, headers=tenant.user_headers
        )
        invitations[tenant.org_id] = answer.json()["data"]["inviteMember"]
    person = bearer(email)
    # Signing in is not joining: a token with the invited email is in no organization yet.
    assert (await client.get("/api/courses", headers=person)).status_code == 403
    redeemed = await redeem(services.db, invitations[o.org_id]["link"].split("code=")[1])
    assert redeemed is not None and redeemed.joined == o.org_id
    orgs = await client.post("/graphql", json={"query": "{ organizations { id } }"}, headers=person)
    assert orgs.json()["data"]["organizations"] == [{"id": str(o.org_id)}]
    assert email not in await roles(client, x)
    # X's invitation waits for the person, who accepts it on purpose.
    mine = await client.post(
        "/graphql", json={"query": "{ myInvitations { id organizationName role } }"}, headers=person
    )
    assert mine.json()["data"]["myInvitations"] == [
        {"id": invitations[x.org_id]["id"], "organizationName": "X", "role": "OWNER"}
    ]
    accepted = await client.post(
        "/graphql", json={"query": ACCEPT, "variables": {"id": invitations[x.org_id]["id"]}}, headers=person
    )
    assert accepted.json()["data"]["acceptInvitation"] == {
        "__typename": "Organization",
        "id": str(x.org_id),
        "role": "owner",
    }
    again = await client.post(
        "/graphql", json={"query": ACCEPT, "variables": {"id": invitations[x.org_id]["id"]}}, headers=person
    )
    assert again.json()["data"]["acceptInvitation"] == {"__typename": "NotFoundError", "code": "not_found"}
    # In two organizations, a request must name one: never a silent default.
    unnamed = await client.get("/api/courses", headers=person)
    assert unnamed.status_code == 403 and "X-Organization-Id" in unnamed.json()["message"]
    for tenant in (x, o):
        named = await client.get("/api/courses", headers={**person, "X-Organization-Id": str(tenant.org_id)})
        assert named.status_code == 200


async def test_another_persons_invitation_cannot_be_accepted(client, tenant):  # type: ignore[no-untyped-def]
    answer = await client.post(
        "/graphql", json={"query": INVITE, "variables": {"e": "a@example.com"}}, headers=tenant.user_headers
    )
    invitation = answer.json()["data"]["inviteMember"]["id"]
    stranger = bearer("b@example.com")
    accepted = await client.post("/graphql", json={"query": ACCEPT, "variables": {"id": invitation}}, headers=stranger)
    assert accepted.json()["data"]["acceptInvitation"]["__typename"] == "NotFoundError"
    refused = await client.post(
        "/graphql", json={"query": ACCEPT, "variables": {"id": invitation}}, headers=tenant.key_headers
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
