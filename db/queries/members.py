"""Members and invitations. The rules that keep an organization governable live here, checked in the caller's
transaction: an organization always keeps an owner, only an owner makes or unmakes owners, and an admin manages
only admins and members."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Invitation, Role
from db.queries import audit
from db.queries.common import table
from db.queries.organizations import members, organizations
from db.queries.pipelines import Refused
from db.types import utcnow

invitations = table(Invitation)
INVITATION_LIFETIME = timedelta(days=7)


async def list_members(conn: AsyncConnection, org_id: uuid.UUID) -> list[RowMapping]:
    stmt = select(members).where(members.c.org_id == org_id).order_by(members.c.created_at, members.c.id)
    return list((await conn.execute(stmt)).mappings())


async def list_invitations(conn: AsyncConnection, org_id: uuid.UUID) -> list[RowMapping]:
    """Invitations not yet accepted and not expired, newest first."""
    stmt = (
        select(invitations)
        .where(invitations.c.org_id == org_id, *_pending(utcnow()))
        .order_by(invitations.c.created_at.desc())
    )
    return list((await conn.execute(stmt)).mappings())


def _may_grant(actor_role: str, role: Role) -> None:
    if role is Role.OWNER and actor_role != Role.OWNER:
        raise Refused("forbidden", "only an owner can make someone an owner", "role")


async def invite(
    conn: AsyncConnection, org_id: uuid.UUID, *, email: str, role: Role, actor: str, actor_role: str
) -> RowMapping:
    _may_grant(actor_role, role)
    email = email.strip().lower()
    taken = select(members.c.id).where(members.c.org_id == org_id, func.lower(members.c.email) == email)
    if (await conn.execute(taken)).first() is not None:
        raise Refused("conflict", "this email belongs to a member already", "email")
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "email": email,
        "role": role.value,
        "invited_by": actor,
        "created_at": now,
        "expires_at": now + INVITATION_LIFETIME,
    }
    return (await conn.execute(insert(invitations).values(values).returning(invitations))).mappings().one()


async def _member(conn: AsyncConnection, org_id: uuid.UUID, user_id: str) -> RowMapping:
    stmt = select(members).where(members.c.org_id == org_id, members.c.user_id == user_id).with_for_update()
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise Refused("not_found", "member not found", "userId")
    return row


async def _keeps_an_owner(conn: AsyncConnection, org_id: uuid.UUID, leaving: RowMapping) -> None:
    if leaving["role"] != Role.OWNER:
        return
    # Every owner row is locked, so two owners demoting each other at once cannot both succeed.
    owners = select(members.c.user_id).where(members.c.org_id == org_id, members.c.role == Role.OWNER.value)
    if len((await conn.execute(owners.with_for_update())).all()) <= 1:
        raise Refused("conflict", "the organization's last owner cannot be removed or demoted", "userId")


def _may_manage(actor_role: str, target: RowMapping) -> None:
    if target["role"] == Role.OWNER and actor_role != Role.OWNER:
        raise Refused("forbidden", "only an owner can change or remove an owner", "userId")


async def change_role(
    conn: AsyncConnection, org_id: uuid.UUID, user_id: str, role: Role, *, actor_role: str
) -> tuple[RowMapping, str]:
    """The member with their new role, and the role they had."""
    target = await _member(conn, org_id, user_id)
    _may_manage(actor_role, target)
    _may_grant(actor_role, role)
    if role is not Role.OWNER:
        await _keeps_an_owner(conn, org_id, target)
    stmt = update(members).where(members.c.id == target["id"]).values(role=role.value).returning(members)
    return (await conn.execute(stmt)).mappings().one(), target["role"]


async def remove(conn: AsyncConnection, org_id: uuid.UUID, user_id: str, *, actor_role: str) -> RowMapping:
    target = await _member(conn, org_id, user_id)
    _may_manage(actor_role, target)
    await _keeps_an_owner(conn, org_id, target)
    await conn.execute(delete(members).where(members.c.id == target["id"]))
    return target


async def accept(conn: AsyncConnection, invitation_id: uuid.UUID, user_id: str, email: str) -> RowMapping | None:
    """Makes the signed-in person a member of the organization of this one invitation, if it is pending and for
    their email (and they are not a member there yet); answers the accepted invitation, or None. Other
    organizations that invited the same email are not joined: each invitation is accepted on its own."""
    now = utcnow()
    stmt = select(invitations).where(invitations.c.id == invitation_id, *_pending_for(email, now))
    invitation = (await conn.execute(stmt)).mappings().first()
    if invitation is None:
        return None
    spent = update(invitations).where(invitations.c.id == invitation_id, invitations.c.accepted_at.is_(None))
    if not (await conn.execute(spent.values(accepted_at=now))).rowcount:
        return None  # accepted meanwhile by a racing request
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(members).values(
                    id=uuid.uuid4(),
                    org_id=invitation["org_id"],
                    user_id=user_id,
                    email=email,
                    role=invitation["role"],
                    created_at=now,
                )
            )
    except IntegrityError:  # a member already (joined another way): the invitation is spent all the same
        return None
    return invitation


async def join(conn: AsyncConnection, invitation_id: uuid.UUID, user_id: str, email: str) -> RowMapping | None:
    """`accept`, recorded in the invitation's organization's audit log."""
    joined = await accept(conn, invitation_id, user_id, email)
    if joined is not None:
        details = {"role": joined["role"], "invitation_id": str(joined["id"])}
        actor = audit.Actor(f"user:{user_id}", email)
        await audit.record(conn, joined["org_id"], actor, "member.joined", "member", None, details)
    return joined


async def pending_for(conn: AsyncConnection, email: str) -> list[RowMapping]:
    """The pending invitations of an email, with their organizations' names, newest first."""
    stmt = (
        select(invitations, organizations.c.name.label("org_name"))
        .join(organizations, organizations.c.id == invitations.c.org_id)
        .where(*_pending_for(email, utcnow()))
        .order_by(invitations.c.created_at.desc())
    )
    return list((await conn.execute(stmt)).mappings())


def _pending(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """An invitation not yet accepted and not expired."""
    return invitations.c.accepted_at.is_(None), invitations.c.expires_at > now


def _pending_for(email: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A pending invitation of this email."""
    return invitations.c.email == email.strip().lower(), *_pending(now)
