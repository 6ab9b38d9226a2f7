"""Members and invitations: who belongs to the organization and with which role. The governing rules (an
organization keeps an owner; only owners touch owners) live in `db.queries.members`; a refusal is a typed error,
or FORBIDDEN when the caller's role may not do it, and changes nothing."""

import enum
import secrets
import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError
from sqlalchemy.engine import RowMapping

from access.keys import hash_key
from db.models import Role
from db.queries import login_links, members, organizations
from db.queries.pipelines import Refused
from schema.errors import InvalidInputError, NotFoundError
from schema.permissions import ADMIN, SignedInUser
from schema.types import CtxInfo, Organization
from schema.writes import Errors, audited, not_found, refusal


@strawberry.enum(description="owner: everything; admin: data, keys and members other than owners; member: reads.")
class MemberRole(enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@strawberry.type
class Member:
    user_id: str
    email: str
    role: MemberRole
    created_at: datetime


@strawberry.type
class Invitation:
    id: uuid.UUID
    email: str
    role: MemberRole
    invited_by: str
    created_at: datetime
    expires_at: datetime


@strawberry.type(description="A new invitation; `link` signs the invitee in once (embedded mode; null with Supabase, "
                 "where they sign up with the invited email). Relative to this server.")  # fmt: skip
class InvitationCreated(Invitation):
    link: str | None


@strawberry.type(description="An organization's invitation of the signed-in person's email, waiting for them.")
class PendingInvitation:
    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    role: MemberRole
    expires_at: datetime


def pending_invitation(row: RowMapping) -> PendingInvitation:
    return PendingInvitation(
        id=row["id"],
        organization_id=row["org_id"],
        organization_name=row["org_name"],
        role=MemberRole(row["role"]),
        expires_at=row["expires_at"],
    )


@strawberry.input
class InvitationInput:
    email: str
    role: MemberRole = MemberRole.MEMBER


InvitationPayload = Annotated[InvitationCreated | Errors, strawberry.union("InvitationPayload")]
AcceptPayload = Annotated[Organization | NotFoundError, strawberry.union("AcceptInvitationPayload")]
MemberPayload = Annotated[Member | Errors, strawberry.union("MemberPayload")]


def member(row: RowMapping) -> Member:
    return Member(
        user_id=row["user_id"], email=row["email"], role=MemberRole(row["role"]), created_at=row["created_at"]
    )


def invitation(row: RowMapping) -> Invitation:
    return Invitation(
        id=row["id"],
        email=row["email"],
        role=MemberRole(row["role"]),
        invited_by=row["invited_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


def _refusal(refused: Refused) -> Errors:
    """A rule the data layer enforced: FORBIDDEN when the caller's role may not do it, else the typed error."""
    if refused.kind == "forbidden":
        raise GraphQLError(refused.message, extensions={"code": "FORBIDDEN"})
    return refusal(refused)


def _role(info: CtxInfo) -> str:
    user = info.context.user
    assert user is not None and user.role is not None  # ADMIN lets only a member of the organization through
    return user.role


@strawberry.type
class MemberMutation:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Invites an email with a role (an owner may invite owners)."
    )
    async def invite_member(self, info: CtxInfo, input: InvitationInput) -> InvitationPayload:
        email = input.email.strip()
        if not 3 <= len(email) <= 320 or "@" not in email:
            return InvalidInputError(message="email must be an email address", field="email")
        ctx = info.context
        try:
            async with ctx.db.write() as conn:
                row = await members.invite(
                    conn,
                    ctx.org_id,
                    email=email,
                    role=Role(input.role.value),
                    actor=ctx.principal.actor,
                    actor_role=_role(info),
                )
                link = None
                if ctx.sign_in_links:
                    code = secrets.token_urlsafe(32)
                    await login_links.insert_link(  # the link accepts this invitation, and no other
                        conn,
                        code_hash=hash_key(code),
                        email=row["email"],
                        expires_at=row["expires_at"],
                        invitation_id=row["id"],
                    )
                    link = f"/login/link?code={code}"
                details = {"email": row["email"], "role": row["role"]}
                await audited(info, conn, "member.invited", "invitation", row["id"], details)
        except Refused as refused:
            return _refusal(refused)
        return InvitationCreated(**vars(invitation(row)), link=link)

    @strawberry.mutation(permission_classes=ADMIN, description="The last owner keeps the owner role.")
    async def change_member_role(self, info: CtxInfo, user_id: str, role: MemberRole) -> MemberPayload:
        ctx = info.context
        try:
            async with ctx.db.write() as conn:
                row, before = await members.change_role(
                    conn, ctx.org_id, user_id, Role(role.value), actor_role=_role(info)
                )
                details = {"email": row["email"], "from": before, "to": row["role"]}
                await audited(info, conn, "member.role_changed", "member", None, {"user_id": user_id, **details})
        except Refused as refused:
            return _refusal(refused)
        return member(row)

    @strawberry.mutation(permission_classes=ADMIN, description="The last owner cannot be removed.")
    async def remove_member(self, info: CtxInfo, user_id: str) -> MemberPayload:
        ctx = info.context
        try:
            async with ctx.db.write() as conn:
                row = await members.remove(conn, ctx.org_id, user_id, actor_role=_role(info))
                details = {"user_id": user_id, "email": row["email"], "role": row["role"]}
                await audited(info, conn, "member.removed", "member", None, details)
        except Refused as refused:
            return _refusal(refused)
        return member(row)

    @strawberry.mutation(
        permission_classes=[SignedInUser],
        description="Joins the organization of one invitation of the signed-in person's email (see "
        "`myInvitations`); other organizations that invited the same email are not joined.",
    )
    async def accept_invitation(self, info: CtxInfo, id: uuid.UUID) -> AcceptPayload:
        user = info.context.user
        assert user is not None  # SignedInUser lets only a person through
        if user.email is None:
            return not_found("invitation", "id")
        async with info.context.db.write() as conn:
            joined = await members.join(conn, id, user.user_id, user.email)
            if joined is None:
                return not_found("invitation", "id")
            rows = await organizations.get_organizations(conn, [joined["org_id"]])
        row = rows[0]
        assert row is not None  # the invitation's organization: an organization's deletion removes its invitations
        return Organization.from_row(row, joined["role"])
