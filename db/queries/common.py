"""Helpers shared by the query modules: table handles, paging, batch lookups, dialect-aware upserts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, any_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from db.prepared import Prepared, Row, Source, as_runner

# Child lists are ordered by creation; enrollments call theirs `enrolled_at`.
ORDER_COLUMN = {"enrollments": "enrolled_at"}


def one_of(conn: AsyncConnection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL as `column = ANY(array)`: one bound parameter whatever the count, so the
    statement text stays the same and is prepared once, instead of being re-rendered for every list length."""
    distinct = list(dict.fromkeys(values))
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, distinct, type_=ARRAY(column.type)))
    return column.in_(distinct)


def in_list(dialect_name: str, column: Any, name: str) -> ColumnElement[bool]:
    """`column IN (:name)` for a `Prepared` statement, `:name` bound to a list (as `one_of`, as an array on PG)."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def bound_values(tbl: Table, names: Iterable[str]) -> dict[str, Any]:
    """`.values()` for a `Prepared` INSERT: a typed parameter per column, named `new_<column>` (SQLAlchemy keeps
    the bare column names for its own VALUES parameters). Pass the row through `new()`."""
    return {name: bindparam(f"new_{name}", type_=tbl.c[name].type) for name in names}


def new(row: dict[str, Any]) -> dict[str, Any]:
    return {f"new_{name}": value for name, value in row.items()}


def page_of(rows: Sequence[Row], limit: int, offset: int) -> Page:
    """A page from a statement that asked for `limit + 1` rows, to know whether another page follows."""
    return Page(rows=list(rows[:limit]), limit=limit, offset=offset, has_more=len(rows) > limit)


def table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    limit: int
    offset: int
    has_more: bool


async def fetch_page(conn: AsyncConnection, stmt: Select[Any], limit: int, offset: int) -> Page:
    """Runs `stmt` for one page; asks for one row more than the page to know whether another page follows."""
    return page_of((await conn.execute(stmt.limit(limit + 1).offset(offset))).mappings().all(), limit, offset)


@cache
def _by_ids_query(tbl: Table) -> Prepared:
    return Prepared(
        lambda dialect: select(tbl).where(tbl.c.org_id == bindparam("org_id"), in_list(dialect, tbl.c.id, "ids"))
    )


@cache
def _children_query(tbl: Table, parent: str) -> Prepared:
    return Prepared(
        lambda dialect: (
            select(tbl)
            .where(tbl.c.org_id == bindparam("org_id"), in_list(dialect, tbl.c[parent], "ids"))
            .order_by(tbl.c[ORDER_COLUMN.get(tbl.name, "created_at")], tbl.c.id)
        )
    )


async def fetch_by_ids(conn: Source, tbl: Table, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    rows = await as_runner(conn).rows(_by_ids_query(tbl), org_id=org_id, ids=list(dict.fromkeys(ids)))
    if len(ids) == 1:  # a request's usual batch: no map to build
        return [rows[0] if rows else None]
    found = {row["id"]: row for row in rows}
    return [found.get(i) for i in ids]


async def fetch_children(
    conn: Source, tbl: Table, org_id: uuid.UUID, parent: str, parent_ids: Sequence[uuid.UUID]
) -> list[list[Row]]:
    """The rows of `tbl` under each parent id (oldest first), in one statement, in the order of `parent_ids`."""
    query = _children_query(tbl, parent)
    rows = await as_runner(conn).rows(query, org_id=org_id, ids=list(dict.fromkeys(parent_ids)))
    return group_rows(rows, parent, parent_ids)


def group_rows(rows: Iterable[Row], key: str, keys: Sequence[Hashable]) -> list[list[Row]]:
    """`rows` (selected for `keys`) split by their `key` column, in the order of `keys`."""
    if len(keys) == 1:  # a request's usual batch: every row is that key's
        return [list(rows)]
    groups: dict[Hashable, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return [groups.get(k, []) for k in keys]


def dialect_insert(conn: AsyncConnection | str, tbl: Table) -> Any:
    """An INSERT that knows ON CONFLICT, for both databases (they share the syntax)."""
    name = conn if isinstance(conn, str) else conn.dialect.name
    module = postgresql if name == "postgresql" else sqlite
    return module.insert(tbl)
