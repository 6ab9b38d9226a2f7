"""One-time sign-in links (embedded mode)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import LoginLink
from db.queries.common import table
from db.types import utcnow

login_links = table(LoginLink)


async def insert_link(
    conn: AsyncConnection,
    *,
    code_hash: str,
    email: str,
    expires_at: datetime,
    invitation_id: uuid.UUID | None = None,
) -> None:
    await conn.execute(
        insert(login_links).values(
            id=uuid.uuid4(),
            code_hash=code_hash,
            email=email,
            invitation_id=invitation_id,
            created_at=utcnow(),
            expires_at=expires_at,
        )
    )


async def consume_link(conn: AsyncConnection, code_hash: str) -> RowMapping | None:
    """The link's email and invitation if it was unused and unexpired; it is used up in the same statement, so
    only once."""
    now = utcnow()
    stmt = (
        update(login_links)
        .where(login_links.c.code_hash == code_hash, login_links.c.used_at.is_(None), login_links.c.expires_at > now)
        .values(used_at=now)
        .returning(login_links.c.email, login_links.c.invitation_id)
    )
    return (await conn.execute(stmt)).mappings().first()
