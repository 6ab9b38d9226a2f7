"""Courses and course runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Course, CourseRun
from db.prepared import Row, Source
from db.queries import common
from db.queries.common import Page, fetch_by_ids, fetch_page, group_rows, one_of, table
from db.types import utcnow

courses = table(Course)
runs = table(CourseRun)


async def existing_ids(conn: AsyncConnection, org_id: uuid.UUID, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    stmt = select(courses.c.id).where(courses.c.org_id == org_id, courses.c.id.in_(ids))
    return set((await conn.execute(stmt)).scalars())


async def list_courses(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
    active: bool | None = None,
    only: frozenset[uuid.UUID] | None = None,
) -> Page:
    """`only`: the courses a confined key sees."""
    stmt = select(courses).where(courses.c.org_id == org_id)
    if only is not None:
        stmt = stmt.where(courses.c.id.in_(only))
    if active is not None:
        stmt = stmt.where(courses.c.active == active)
    return await fetch_page(conn, stmt, courses, limit=limit, offset=offset, after=after)


async def get_courses(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    return await fetch_by_ids(conn, courses, org_id, ids)


async def get_course_by_external_id(conn: AsyncConnection, org_id: uuid.UUID, external_id: str) -> Row | None:
    return await common.get_by_external_id(conn, courses, org_id, external_id)


async def external_id_taken(
    conn: AsyncConnection, org_id: uuid.UUID, external_id: str, *, except_id: uuid.UUID | None = None
) -> bool:
    return await common.external_id_taken(conn, courses, org_id, external_id, except_id)


async def insert_course(conn: AsyncConnection, org_id: uuid.UUID, fields: dict[str, Any]) -> Row:
    return await common.insert_component(conn, courses, org_id, fields)


async def update_course(
    conn: AsyncConnection, org_id: uuid.UUID, course_id: uuid.UUID, fields: dict[str, Any]
) -> Row | None:
    return await common.update_component(conn, courses, org_id, course_id, fields)


async def runs_by_course(conn: AsyncConnection, org_id: uuid.UUID, course_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    stmt = (
        select(runs)
        .where(runs.c.org_id == org_id, one_of(conn, runs.c.course_id, course_ids))
        .order_by(runs.c.starts_at, runs.c.created_at)
    )
    return group_rows((await conn.execute(stmt)).mappings(), "course_id", course_ids)


async def get_runs(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    return await fetch_by_ids(conn, runs, org_id, ids)


async def insert_run(conn: AsyncConnection, org_id: uuid.UUID, fields: dict[str, Any]) -> RowMapping:
    values = {"id": uuid.uuid4(), "org_id": org_id, "created_at": utcnow(), **fields}
    return (await conn.execute(insert(runs).values(values).returning(runs))).mappings().one()
