"""Turning the `DATABASE_URL` users write into engines, and the `Database` handle the app passes around.

Users write `sqlite:///path.db` or `postgresql://user:pass@host/db`; the app picks the drivers itself:
aiosqlite / psycopg 3 for the server, pysqlite / psycopg 3 for migrations.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool


def normalize_url(raw: str, *, asynchronous: bool) -> URL:
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite" if asynchronous else "sqlite")
    raise ValueError(f"unsupported DATABASE_URL scheme {url.drivername!r}: use sqlite:/// or postgresql://")


def sqlite_path(raw: str) -> str | None:
    url = make_url(raw)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; busy_timeout makes a second process wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(raw_url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = normalize_url(raw_url, asynchronous=True)
    if url.get_backend_name() == "sqlite":
        in_memory = url.database in (None, "", ":memory:")
        engine = create_async_engine(url, poolclass=NullPool) if in_memory else create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # psycopg prepares statements server-side after they have run this many times on a connection.
        connect_args={"prepare_threshold": 2},
    )


class Database:
    """The engine plus the two ways the app touches it: short reads and serialized-where-needed writes.

    Each read or write checks out its own connection, so concurrently resolved GraphQL fields never share one.
    SQLite allows one writer at a time; a process-wide lock queues writers here rather than failing with
    "database is locked" (the busy timeout still covers other processes).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @classmethod
    def from_url(cls, raw_url: str) -> Database:
        return cls(make_engine(raw_url))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
