"""Hot statements: built from Core once, compiled once per dialect, run straight on the driver on PostgreSQL.

The statements behind every `setVariable`, every learner's current values and every page of values run thousands
of times a second with the same shape. A `Prepared` is written in Core, so the SQL has one source; on PostgreSQL,
with the execution engine on, it is compiled once to psycopg's SQL and sent on a psycopg pool's connection
(`execution.statements`), with rows coming back as plain dicts. On SQLite, inside a SQLAlchemy transaction, and
with the engine off, it runs through SQLAlchemy like any other statement; the results have the same keys and the
same values either way (times are aware, in the server's zone on the driver path, in UTC through SQLAlchemy: the
same instants).

A `Runner` is whatever a query function runs its `Prepared` statements on: `Database.runner()` hands one out,
and `as_runner(conn)` wraps a SQLAlchemy connection a caller already holds (a write transaction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from execution.statements import ROW_PREFIX, Compiled, PsycopgRunner, Row, compile_statement

__all__ = ["ROW_PREFIX", "AlchemyRunner", "Prepared", "PsycopgRunner", "Row", "Runner", "Source", "as_runner"]


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
            hit = self._compiled[dialect] = compile_statement(self.statement(dialect.name), dialect)
        return hit

    def alchemy_params(self, dialect: Dialect, params: dict[str, Any]) -> dict[str, Any]:
        """`params` as SQLAlchemy binds them: an INSERT's columns under their `new_` names (see `ROW_PREFIX`)."""
        renamed = self._renamed.get(dialect.name)
        if renamed is None:
            binds = self.statement(dialect.name).compile(dialect=dialect).binds  # type: ignore[attr-defined]  # an Executable compiles to a SQLCompiler, which has them
            renamed = {name.removeprefix(ROW_PREFIX): name for name in binds if name.startswith(ROW_PREFIX)}
            self._renamed[dialect.name] = renamed
        return {renamed.get(key, key): value for key, value in params.items()} if renamed else params


class Runner(Protocol):
    async def rows(self, query: Prepared, **params: Any) -> Sequence[Row]: ...

    def execute(self, query: Prepared, **params: Any) -> Awaitable[Any]: ...

    async def execute_many(self, query: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """`query` once for each of `rows`, sent together where the driver can (psycopg's pipeline)."""


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

    async def execute_many(self, query: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        dialect = self.conn.dialect
        await self.conn.execute(query.statement(dialect.name), [query.alchemy_params(dialect, dict(r)) for r in rows])


# What query functions take: a runner, or a SQLAlchemy connection a caller holds (inside a write transaction).
Source = AsyncConnection | Runner


def as_runner(conn: Source) -> Runner:
    """Query functions take either; a caller inside a SQLAlchemy transaction passes its connection."""
    if conn.__class__ is PsycopgRunner:  # the hot path, before an isinstance that goes through `abc`
        return conn
    return AlchemyRunner(conn) if isinstance(conn, AsyncConnection) else conn
