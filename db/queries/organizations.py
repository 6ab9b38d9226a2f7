"""Organizations and who belongs to them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Organization, OrganizationMember, Role
from db.queries.common import one_of, table
from db.types import utcnow

organizations = table(Organization)
members = table(OrganizationMember)


async def create_organization(conn: AsyncConnection, name: str, *, owner_user_id: str, owner_email: str) -> RowMapping:
    org = {"id": uuid.uuid4(), "name": name, "created_at": utcnow()}
    row = (await conn.execute(insert(organizations).values(org).returning(organizations))).mappings().one()
    await add_member(conn, row["id"], user_id=owner_user_id, email=owner_email, role=Role.OWNER)
    return row


async def add_member(conn: AsyncConnection, org_id: uuid.UUID, *, user_id: str, email: str, role: Role) -> None:
    await conn.execute(
        insert(members).values(
            id=uuid.uuid4(), org_id=org_id, user_id=user_id, email=email, role=role.value, created_at=utcnow()
        )
    )


async def memberships(conn: AsyncConnection, user_id: str) -> list[RowMapping]:
    """The user's organizations, oldest membership first."""
    stmt = (
        select(members.c.org_id, members.c.role, organizations.c.name)
        .join(organizations, organizations.c.id == members.c.org_id)
        .where(members.c.user_id == user_id)
        .order_by(members.c.created_at)
    )
    return list((await conn.execute(stmt)).mappings())


async def get_organizations(conn: AsyncConnection, ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    stmt = select(organizations).where(one_of(conn, organizations.c.id, ids))
    found = {row["id"]: row for row in (await conn.execute(stmt)).mappings()}
    return [found.get(i) for i in ids]
