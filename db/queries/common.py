"""Helpers shared by the query modules: table handles, paging, batch lookups, dialect-aware upserts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, any_, bindparam, insert, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlmodel import SQLModel

from db.prepared import ROW_PREFIX, Prepared, Row, Source, as_runner
from db.types import utcnow

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


# Builds a statement from the dialect's name and `key`, which makes the filter on a key column (`where(key(column))`).
KeyedBuild = Callable[[str, Callable[[Any], ColumnElement[bool]]], Executable]


class ByKeys:
    """A `Prepared` statement over a batch of keys, in two fixed forms: `column = :key` for one key, and
    `column IN (:keys)` (an array on PostgreSQL) for more.

    One key is a request's usual batch (a learner, that learner's values). Matching it against a one-element array
    costs more, in the driver and the server, than an equality; both texts are fixed, so both are prepared once.
    """

    def __init__(self, build: KeyedBuild) -> None:
        self.one = Prepared(lambda dialect: build(dialect, lambda column: column == bindparam("key")))
        self.many = Prepared(lambda dialect: build(dialect, lambda column: in_list(dialect, column, "keys")))

    def rows(self, conn: Source, keys: Sequence[Any], **params: Any) -> Awaitable[Sequence[Row]]:
        """The rows for `keys` (duplicates asked once); `params` bind the statement's other parameters. (The
        runner's awaitable itself: a coroutine more between a request and the driver is resumed on every reply.)"""
        unique = list(dict.fromkeys(keys))
        if len(unique) == 1:
            return as_runner(conn).rows(self.one, key=unique[0], **params)
        return as_runner(conn).rows(self.many, keys=unique, **params)


def bound_values(tbl: Table, names: Iterable[str]) -> dict[str, Any]:
    """`.values()` for a `Prepared` INSERT: a typed parameter per column, named `new_<column>` in the SQL
    (SQLAlchemy keeps the bare column names for its own VALUES parameters) and given by the column's name."""
    return {name: bindparam(ROW_PREFIX + name, type_=tbl.c[name].type) for name in names}


def page_of(rows: Sequence[Row], limit: int, offset: int, order: Sequence[str] = ("created_at", "id")) -> Page:
    """A page from a statement that asked for `limit + 1` rows, to know whether another page follows; with the
    position of its last row (its `order` columns) when one does."""
    kept = list(rows[:limit])
    has_more = len(rows) > limit
    position = tuple(kept[-1][name] for name in order) if has_more and kept else None
    return Page(rows=kept, limit=limit, offset=offset, has_more=has_more, next_position=position)


def table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]  # SQLModel sets it per table class


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    limit: int
    offset: int
    has_more: bool
    next_position: tuple[Any, ...] | None = None  # the last row's place in the order, when another page follows


async def fetch_page(
    conn: AsyncConnection,
    stmt: Select[Any],
    tbl: Table,
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
    time: str = "created_at",
    newest_first: bool = False,
) -> Page:
    """One page of `stmt`'s rows of `tbl` in `time` order (then `id`: a unique order), oldest first unless
    `newest_first`, from the start or `after` a position (keyset paging: rows written meanwhile shift nothing), then
    `offset` rows on. Asks for one row more than the page to know whether another page follows."""
    order = (tbl.c[time], tbl.c.id)
    if after is not None:
        position = tuple_(*(literal(v, c.type) for v, c in zip(after, order, strict=True)))
        stmt = stmt.where(tuple_(*order) < position if newest_first else tuple_(*order) > position)
    stmt = stmt.order_by(*(c.desc() if newest_first else c for c in order)).limit(limit + 1).offset(offset)
    return page_of((await conn.execute(stmt)).mappings().all(), limit, offset, order=(time, "id"))


@cache
def _by_ids_query(tbl: Table) -> ByKeys:
    return ByKeys(lambda dialect, key: select(tbl).where(tbl.c.org_id == bindparam("org_id"), key(tbl.c.id)))


@cache
def _children_query(tbl: Table, parent: str) -> ByKeys:
    return ByKeys(
        lambda dialect, key: (
            select(tbl)
            .where(tbl.c.org_id == bindparam("org_id"), key(tbl.c[parent]))
            .order_by(tbl.c[ORDER_COLUMN.get(tbl.name, "created_at")], tbl.c.id)
        )
    )


async def fetch_by_ids(conn: Source, tbl: Table, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    rows = await _by_ids_query(tbl).rows(conn, ids, org_id=org_id)
    if len(ids) == 1:  # a request's usual batch: no map to build
        return [rows[0] if rows else None]
    found = {row["id"]: row for row in rows}
    return [found.get(i) for i in ids]


async def fetch_children(
    conn: Source, tbl: Table, org_id: uuid.UUID, parent: str, parent_ids: Sequence[uuid.UUID]
) -> list[list[Row]]:
    """The rows of `tbl` under each parent id (oldest first), in one statement, in the order of `parent_ids`."""
    rows = await _children_query(tbl, parent).rows(conn, parent_ids, org_id=org_id)
    return group_rows(rows, parent, parent_ids)


def group_rows(rows: Iterable[Row], key: str, keys: Sequence[Hashable]) -> list[list[Row]]:
    """`rows` (selected for `keys`) split by their `key` column, in the order of `keys`."""
    if len(keys) == 1:  # a request's usual batch: every row is that key's
        return [list(rows)]
    groups: dict[Hashable, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return [groups.get(k, []) for k in keys]


async def get_by_external_id(conn: AsyncConnection, tbl: Table, org_id: uuid.UUID, external_id: str) -> Row | None:
    stmt = select(tbl).where(tbl.c.org_id == org_id, tbl.c.external_id == external_id)
    return (await conn.execute(stmt)).mappings().first()


async def external_id_taken(
    conn: AsyncConnection, tbl: Table, org_id: uuid.UUID, external_id: str, except_id: uuid.UUID | None = None
) -> bool:
    stmt = select(tbl.c.id).where(tbl.c.org_id == org_id, tbl.c.external_id == external_id)
    if except_id is not None:
        stmt = stmt.where(tbl.c.id != except_id)
    return (await conn.execute(stmt)).first() is not None


async def insert_component(conn: AsyncConnection, tbl: Table, org_id: uuid.UUID, fields: dict[str, Any]) -> Row:
    """A new course or chatbot: its own id, the organization's, and both times now."""
    now = utcnow()
    values = {"id": uuid.uuid4(), "org_id": org_id, "created_at": now, "updated_at": now, **fields}
    return (await conn.execute(insert(tbl).values(values).returning(tbl))).mappings().one()


async def update_component(
    conn: AsyncConnection, tbl: Table, org_id: uuid.UUID, row_id: uuid.UUID, fields: dict[str, Any]
) -> Row | None:
    stmt = (
        update(tbl)
        .where(tbl.c.org_id == org_id, tbl.c.id == row_id)
        .values({**fields, "updated_at": utcnow()})
        .returning(tbl)
    )
    return (await conn.execute(stmt)).mappings().first()


def dialect_insert(conn: AsyncConnection | str, tbl: Table) -> Any:
    """An INSERT that knows ON CONFLICT, for both databases (they share the syntax)."""
    name = conn if isinstance(conn, str) else conn.dialect.name
    module = postgresql if name == "postgresql" else sqlite
    return module.insert(tbl)
