"""Variable definitions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Variable
from db.prepared import Row, Source
from db.queries.common import Page, fetch_by_ids, fetch_children, fetch_page, table
from db.types import NIL_UUID, utcnow

variables = table(Variable)


async def list_variables(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
    course_id: uuid.UUID | None = None,
    chatbot_id: uuid.UUID | None = None,
    active: bool | None = None,
    only_courses: frozenset[uuid.UUID] | None = None,
) -> Page:
    """`only_courses`: a confined key sees the variables of those courses and no others."""
    stmt = select(variables).where(variables.c.org_id == org_id)
    if only_courses is not None:
        stmt = stmt.where(variables.c.course_id.in_(only_courses))
    if course_id is not None:
        stmt = stmt.where(variables.c.course_id == course_id)
    if chatbot_id is not None:
        stmt = stmt.where(variables.c.chatbot_id == chatbot_id)
    if active is not None:
        stmt = stmt.where(variables.c.active == active)
    return await fetch_page(conn, stmt, variables, limit=limit, offset=offset, after=after)


async def get_variables(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    return await fetch_by_ids(conn, variables, org_id, ids)


async def variables_by_course(conn: Source, org_id: uuid.UUID, course_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    return await fetch_children(conn, variables, org_id, "course_id", course_ids)


async def variables_by_chatbot(conn: Source, org_id: uuid.UUID, chatbot_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    return await fetch_children(conn, variables, org_id, "chatbot_id", chatbot_ids)


async def name_taken(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    component_id: uuid.UUID | None,
    name: str,
    *,
    except_id: uuid.UUID | None = None,
) -> bool:
    stmt = select(variables.c.id).where(
        variables.c.org_id == org_id, variables.c.course_key == (component_id or NIL_UUID), variables.c.name == name
    )
    if except_id is not None:
        stmt = stmt.where(variables.c.id != except_id)
    return (await conn.execute(stmt)).first() is not None


async def insert_variable(conn: AsyncConnection, org_id: uuid.UUID, fields: dict[str, Any]) -> RowMapping:
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "created_at": now,
        "updated_at": now,
        **fields,
        "course_key": fields.get("course_id") or fields.get("chatbot_id") or NIL_UUID,
    }
    return (await conn.execute(insert(variables).values(values).returning(variables))).mappings().one()


async def update_variable(
    conn: AsyncConnection, org_id: uuid.UUID, variable_id: uuid.UUID, fields: dict[str, Any]
) -> RowMapping | None:
    stmt = (
        update(variables)
        .where(variables.c.org_id == org_id, variables.c.id == variable_id)
        .values({**fields, "updated_at": utcnow()})
        .returning(variables)
    )
    return (await conn.execute(stmt)).mappings().first()
