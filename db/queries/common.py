"""Helpers shared by the query modules: table handles, paging, batch lookups, dialect-aware upserts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, any_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

# Child lists are ordered by creation; enrollments call theirs `enrolled_at`.
ORDER_COLUMN = {"enrollments": "enrolled_at"}


def one_of(conn: AsyncConnection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL as `column = ANY(array)`: one bound parameter whatever the count, so the
    statement text stays the same and is prepared once, instead of being re-rendered for every list length."""
    distinct = list(dict.fromkeys(values))
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, distinct, type_=ARRAY(column.type)))
    return column.in_(distinct)


def table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Page:
    rows: list[RowMapping]
    limit: int
    offset: int
    has_more: bool


async def fetch_page(conn: AsyncConnection, stmt: Select[Any], limit: int, offset: int) -> Page:
    """Runs `stmt` for one page; asks for one row more than the page to know whether another page follows."""
    rows = list((await conn.execute(stmt.limit(limit + 1).offset(offset))).mappings())
    return Page(rows=rows[:limit], limit=limit, offset=offset, has_more=len(rows) > limit)


async def fetch_by_ids(
    conn: AsyncConnection, tbl: Table, org_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> list[RowMapping | None]:
    stmt = select(tbl).where(tbl.c.org_id == org_id, one_of(conn, tbl.c.id, ids))
    found = {row["id"]: row for row in (await conn.execute(stmt)).mappings()}
    return [found.get(i) for i in ids]


async def fetch_children(
    conn: AsyncConnection, tbl: Table, org_id: uuid.UUID, parent: str, parent_ids: Sequence[uuid.UUID]
) -> list[list[RowMapping]]:
    """The rows of `tbl` under each parent id (oldest first), in one statement, in the order of `parent_ids`."""
    column = tbl.c[parent]
    stmt = (
        select(tbl)
        .where(tbl.c.org_id == org_id, one_of(conn, column, parent_ids))
        .order_by(tbl.c[ORDER_COLUMN.get(tbl.name, "created_at")], tbl.c.id)
    )
    return group_rows((await conn.execute(stmt)).mappings(), parent, parent_ids)


def group_rows(rows: Iterable[RowMapping], key: str, keys: Sequence[Hashable]) -> list[list[RowMapping]]:
    groups: dict[Hashable, list[RowMapping]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return [groups.get(k, []) for k in keys]


def dialect_insert(conn: AsyncConnection, tbl: Table) -> Any:
    """An INSERT that knows ON CONFLICT, for both databases (they share the syntax)."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(tbl)
