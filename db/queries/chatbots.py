"""Chatbots: components beside courses, with variables of their own and no enrolment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Chatbot
from db.prepared import Row, Source
from db.queries.common import Page, fetch_by_ids, fetch_page, table
from db.types import utcnow

chatbots = table(Chatbot)


async def list_chatbots(
    conn: AsyncConnection, org_id: uuid.UUID, *, limit: int, offset: int, active: bool | None = None
) -> Page:
    stmt = select(chatbots).where(chatbots.c.org_id == org_id)
    if active is not None:
        stmt = stmt.where(chatbots.c.active == active)
    return await fetch_page(conn, stmt.order_by(chatbots.c.created_at, chatbots.c.id), limit, offset)


async def get_chatbots(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    return await fetch_by_ids(conn, chatbots, org_id, ids)


async def get_chatbot_by_external_id(conn: AsyncConnection, org_id: uuid.UUID, external_id: str) -> Row | None:
    stmt = select(chatbots).where(chatbots.c.org_id == org_id, chatbots.c.external_id == external_id)
    return (await conn.execute(stmt)).mappings().first()


async def external_id_taken(
    conn: AsyncConnection, org_id: uuid.UUID, external_id: str, *, except_id: uuid.UUID | None = None
) -> bool:
    stmt = select(chatbots.c.id).where(chatbots.c.org_id == org_id, chatbots.c.external_id == external_id)
    if except_id is not None:
        stmt = stmt.where(chatbots.c.id != except_id)
    return (await conn.execute(stmt)).first() is not None


async def insert_chatbot(conn: AsyncConnection, org_id: uuid.UUID, fields: dict[str, Any]) -> Row:
    now = utcnow()
    values = {"id": uuid.uuid4(), "org_id": org_id, "created_at": now, "updated_at": now, **fields}
    return (await conn.execute(insert(chatbots).values(values).returning(chatbots))).mappings().one()


async def update_chatbot(
    conn: AsyncConnection, org_id: uuid.UUID, chatbot_id: uuid.UUID, fields: dict[str, Any]
) -> Row | None:
    stmt = (
        update(chatbots)
        .where(chatbots.c.org_id == org_id, chatbots.c.id == chatbot_id)
        .values({**fields, "updated_at": utcnow()})
        .returning(chatbots)
    )
    return (await conn.execute(stmt)).mappings().first()
