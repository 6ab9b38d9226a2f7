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
from db.queries.common import table
from db.queries.organizations import members
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


async def accept_pending(conn: AsyncConnection, user_id: str, email: str) -> list[RowMapping]:
    """Makes the signed-in person a member of every organization that invited their email (and that they are not
    in yet); answers the accepted invitations."""
    now = utcnow()
    pending = (await conn.execute(select(invitations).where(*_pending_for(email, now)))).mappings().all()
    accepted = []
    for invitation in pending:
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
            pass
        else:
            accepted.append(invitation)
        await conn.execute(update(invitations).where(invitations.c.id == invitation["id"]).values(accepted_at=now))
    return accepted


async def has_pending(conn: AsyncConnection, email: str) -> bool:
    stmt = select(invitations.c.id).where(*_pending_for(email, utcnow())).limit(1)
    return (await conn.execute(stmt)).first() is not None


def _pending(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """An invitation not yet accepted and not expired."""
    return invitations.c.accepted_at.is_(None), invitations.c.expires_at > now


def _pending_for(email: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A pending invitation of this email."""
    return invitations.c.email == email.strip().lower(), *_pending(now)
