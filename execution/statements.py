"""Prepared statements' driver path: a Core statement compiled once per dialect to psycopg's SQL, its parameters
bound from precomputed slots, sent straight on a psycopg connection.

Through SQLAlchemy's execution layer (cache keys, parameter and result processing, the greenlet bridge to asyncio,
pool checkout) a hot statement cost several times the statement itself. Here it is compiled once, and a request
only binds a tuple and sends it. Rows come back as the connection's dicts. `db.prepared.Prepared` is what the
data layer writes; `Database.runner()` chooses this path or SQLAlchemy's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.types import JSON, Uuid

from execution.compat import bind_processors
from execution.rows import Row

# An INSERT names its parameters `new_<column>` in the SQL, because SQLAlchemy reserves the bare column names for
# its own VALUES parameters (`db.queries.common.bound_values`). Runners take them by the column's name, so a query
# function passes the row it builds as it is.
ROW_PREFIX = "new_"


@dataclass(frozen=True)
class Compiled:
    sql: str  # with positional placeholders (`%s`), one per entry of `order`
    order: tuple[str, ...]  # the parameter each placeholder takes, in the text's order (a name may repeat)
    defaults: dict[str, Any]  # values bound when the statement was built (literals; None for the parameters)
    processors: dict[str, Callable[[Any], Any]]  # the column types' own bind conversions (JSON, UTC datetimes)
    # Per placeholder: the caller's key for it, its default and its conversion, worked out once: `bind` runs for
    # every statement sent.
    slots: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        slots = tuple((name.removeprefix(ROW_PREFIX), self.defaults.get(name), self.processors.get(name))
                      for name in self.order)  # fmt: skip
        object.__setattr__(self, "slots", slots)

    @classmethod
    def positional(cls, sql: str, defaults: dict[str, Any], processors: dict[str, Callable[[Any], Any]]) -> Compiled:
        """From SQLAlchemy's `%(name)s` text: psycopg binds a tuple for `%s` without matching names to a mapping
        on every call."""
        order: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            if match.group(1) is None:
                return "%%"  # a literal percent sign stays escaped
            order.append(match.group(1))
            return "%s"

        return cls(_PLACEHOLDER.sub(placeholder, sql), tuple(order), defaults, processors)

    def bind(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        get = params.get
        return tuple([get(key, default) if process is None else process(get(key, default))
                      for key, default, process in self.slots])  # fmt: skip


# A named placeholder of psycopg's pyformat, or an escaped percent sign (matched so that `%%(` is not taken for one).
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")


def compile_statement(statement: Executable, dialect: Dialect) -> Compiled:
    """`statement` compiled for `dialect`, once: the SQL with positional placeholders and how to bind them."""
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]  # an Executable compiles to a SQLCompiler
    processors = bind_processors(compiled)
    return Compiled.positional(
        sql=compiled.string,
        defaults=dict(compiled.params),
        processors={
            name: process
            for name, bind in compiled.binds.items()
            if (process := _bind_processor(bind.type, dialect, processors.get(name))) is not None
        },
    )


def _bind_processor(kind: Any, dialect: Dialect, alchemy: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """SQLAlchemy's conversion for the type, except for two that psycopg makes costly. Arrays of ids go as
    PostgreSQL array text (`{id,id}`, which the statement casts to `uuid[]`): psycopg would otherwise inspect every
    list to choose how to send it, a large share of a one-row lookup. JSON goes as its
    text, which the server types from the column: SQLAlchemy wraps each value in psycopg's `Jsonb`, and psycopg
    then makes a dumper for it per statement."""
    if isinstance(getattr(kind, "item_type", None), Uuid):
        return _uuid_array_text
    if isinstance(kind, JSON) and not kind.none_as_null:  # None is JSON's null, as SQLAlchemy sends it
        return _json_text
    return alchemy


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _uuid_array_text(ids: Sequence[Any]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


class Statement(Protocol):
    def compiled(self, dialect: Dialect) -> Compiled: ...


Reconnect = Callable[[], Awaitable["psycopg.AsyncConnection[Any]"]]


class PsycopgRunner:
    """Runs `Prepared` statements on a psycopg connection whose rows are dicts (see `Database`).

    With `reconnect`, a read whose connection turns out dead (the server restarted while it sat in the pool) runs
    once more on the connection `reconnect` gives; writes are never repeated."""

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any],
        dialect: Dialect,
        record: list[list[str]],
        reconnect: Reconnect | None = None,
    ) -> None:
        self.conn = conn
        self.dialect = dialect
        self.record = record
        self.reconnect = reconnect

    def _send(self, query: Statement, params: Mapping[str, Any]) -> Awaitable[psycopg.AsyncCursor[Any]]:
        # Not a coroutine itself: every coroutine between a request and the driver is resumed on each reply.
        compiled = query.compiled(self.dialect)
        for seen in self.record:
            seen.append(compiled.sql)
        return self.conn.execute(compiled.sql, compiled.bind(params))

    async def rows(self, query: Statement, **params: Any) -> Sequence[Row]:
        try:
            return await (await self._send(query, params)).fetchall()
        except psycopg.OperationalError:
            if self.reconnect is None or not self.conn.broken:
                raise
        self.conn = await self.reconnect()
        return await (await self._send(query, params)).fetchall()

    def execute(self, query: Statement, **params: Any) -> Awaitable[Any]:
        return self._send(query, params)

    async def execute_many(self, query: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement per row, sent in one batch: psycopg's `executemany` uses the pipeline, so the rows cost
        one round trip rather than one each."""
        compiled = query.compiled(self.dialect)
        for seen in self.record:
            seen.extend([compiled.sql] * len(rows))
        async with self.conn.cursor() as cursor:
            await cursor.executemany(compiled.sql, [compiled.bind(row) for row in rows])
