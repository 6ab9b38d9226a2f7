"""Hot statements: built from Core once, compiled once per dialect, run straight on the driver on PostgreSQL.

The statements behind every `setVariable`, every learner's current values and every page of values run thousands
of times a second with the same shape. Through SQLAlchemy's execution layer (cache keys, parameter and result
processing, the greenlet bridge to asyncio, pool checkout) each one cost several times the statement itself; the
benchmark's profile put that layer at a third of a request. A `Prepared` is still written in Core, so the SQL has
one source, but on PostgreSQL it is compiled once to psycopg's SQL and sent on a psycopg pool's connection, with
rows coming back as plain dicts. On SQLite, and inside a SQLAlchemy transaction, it runs through SQLAlchemy like
any other statement; the results have the same keys and the same values either way (times are aware, in the
server's zone on the driver path, in UTC through SQLAlchemy: the same instants).

A `Runner` is whatever a query function runs its `Prepared` statements on: `Database.runner()` hands one out,
and `as_runner(conn)` wraps a SQLAlchemy connection a caller already holds (a write transaction).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.types import JSON, Uuid

Row = Mapping[str, Any]


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
        on every call (about 2 µs a statement in `bench/README.md`'s measurements)."""
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


class Prepared:
    """A statement built by `build(dialect_name)`; named `bindparam`s are its parameters."""

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self._build = build
        self._statements: dict[str, Executable] = {}
        # Keyed by the engine's dialect itself (a dict lookup by identity, on every statement).
        self._compiled: dict[Dialect, Compiled] = {}
        self._renamed: dict[str, dict[str, str]] = {}  # per dialect: a caller's key -> its `new_` bind name

    def statement(self, dialect_name: str) -> Executable:
        if dialect_name not in self._statements:
            self._statements[dialect_name] = self._build(dialect_name)
        return self._statements[dialect_name]

    def compiled(self, dialect: Dialect) -> Compiled:
        hit = self._compiled.get(dialect)
        if hit is None:
            compiled = self.statement(dialect.name).compile(dialect=dialect)
            processors = compiled._bind_processors  # type: ignore[attr-defined]
            hit = Compiled.positional(
                sql=compiled.string,
                defaults=dict(compiled.params),
                processors={
                    name: process
                    for name, bind in compiled.binds.items()
                    if (process := _bind_processor(bind.type, dialect, processors.get(name))) is not None
                },
            )
            self._compiled[dialect] = hit
        return hit

    def alchemy_params(self, dialect: Dialect, params: dict[str, Any]) -> dict[str, Any]:
        """`params` as SQLAlchemy binds them: an INSERT's columns under their `new_` names (see `ROW_PREFIX`)."""
        renamed = self._renamed.get(dialect.name)
        if renamed is None:
            binds = self.statement(dialect.name).compile(dialect=dialect).binds  # type: ignore[attr-defined]
            renamed = {name.removeprefix(ROW_PREFIX): name for name in binds if name.startswith(ROW_PREFIX)}
            self._renamed[dialect.name] = renamed
        return {renamed.get(key, key): value for key, value in params.items()} if renamed else params


def _bind_processor(kind: Any, dialect: Dialect, alchemy: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """SQLAlchemy's conversion for the type, except for two that psycopg makes costly. Arrays of ids go as
    PostgreSQL array text (`{id,id}`, which the statement casts to `uuid[]`): psycopg would otherwise inspect every
    list to choose how to send it, about a tenth of a whole one-row lookup request in the profile. JSON goes as its
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


class Runner(Protocol):
    async def rows(self, query: Prepared, **params: Any) -> Sequence[Row]: ...

    def execute(self, query: Prepared, **params: Any) -> Awaitable[Any]: ...


class AlchemyRunner:
    """Runs `Prepared` statements on a SQLAlchemy connection (SQLite, or a transaction already open)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def rows(self, query: Prepared, **params: Any) -> Sequence[Row]:
        dialect = self.conn.dialect
        result = await self.conn.execute(query.statement(dialect.name), query.alchemy_params(dialect, params))
        return result.mappings().all()

    async def execute(self, query: Prepared, **params: Any) -> None:
        dialect = self.conn.dialect
        await self.conn.execute(query.statement(dialect.name), query.alchemy_params(dialect, params))


class PsycopgRunner:
    """Runs `Prepared` statements on a psycopg connection whose rows are dicts (see `Database`)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], dialect: Dialect, record: list[list[str]]) -> None:
        self.conn = conn
        self.dialect = dialect
        self.record = record

    def _send(self, query: Prepared, params: Mapping[str, Any]) -> Awaitable[psycopg.AsyncCursor[Any]]:
        # Not a coroutine itself: every coroutine between a request and the driver is resumed on each reply.
        compiled = query.compiled(self.dialect)
        for seen in self.record:
            seen.append(compiled.sql)
        return self.conn.execute(compiled.sql, compiled.bind(params))  # type: ignore[arg-type]

    async def rows(self, query: Prepared, **params: Any) -> Sequence[Row]:
        return await (await self._send(query, params)).fetchall()

    def execute(self, query: Prepared, **params: Any) -> Awaitable[Any]:
        return self._send(query, params)


# What query functions take: a runner, or a SQLAlchemy connection a caller holds (inside a write transaction).
Source = AsyncConnection | Runner


def as_runner(conn: Source) -> Runner:
    """Query functions take either; a caller inside a SQLAlchemy transaction passes its connection."""
    if conn.__class__ is PsycopgRunner:  # the hot path, before an isinstance that goes through `abc`
        return conn
    return AlchemyRunner(conn) if isinstance(conn, AsyncConnection) else conn
