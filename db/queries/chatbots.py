"""Chatbots: components beside courses, with variables of their own and no enrolment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Chatbot
from db.prepared import Row, Source
from db.queries import common
from db.queries.common import Page, fetch_by_ids, fetch_page, table

chatbots = table(Chatbot)


async def list_chatbots(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
    active: bool | None = None,
) -> Page:
    stmt = select(chatbots).where(chatbots.c.org_id == org_id)
    if active is not None:
        stmt = stmt.where(chatbots.c.active == active)
    return await fetch_page(conn, stmt, chatbots, limit=limit, offset=offset, after=after)


async def get_chatbots(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    return await fetch_by_ids(conn, chatbots, org_id, ids)


async def get_chatbot_by_external_id(conn: AsyncConnection, org_id: uuid.UUID, external_id: str) -> Row | None:
    return await common.get_by_external_id(conn, chatbots, org_id, external_id)


async def external_id_taken(
    conn: AsyncConnection, org_id: uuid.UUID, external_id: str, *, except_id: uuid.UUID | None = None
) -> bool:
    return await common.external_id_taken(conn, chatbots, org_id, external_id, except_id)


async def insert_chatbot(conn: AsyncConnection, org_id: uuid.UUID, fields: dict[str, Any]) -> Row:
    return await common.insert_component(conn, chatbots, org_id, fields)


async def update_chatbot(
    conn: AsyncConnection, org_id: uuid.UUID, chatbot_id: uuid.UUID, fields: dict[str, Any]
) -> Row | None:
    return await common.update_component(conn, chatbots, org_id, chatbot_id, fields)
