"""Turning the `DATABASE_URL` users write into engines, and the `Database` handle the app passes around.

Users write `sqlite:///path.db` or `postgresql://user:pass@host/db`; the app picks the drivers itself:
aiosqlite / psycopg 3 for the server, pysqlite / psycopg 3 for migrations.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import orjson
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from db.idempotency import Claim, released, take_pending
from db.prepared import AlchemyRunner, PsycopgRunner, Runner


def unavailable(exc: BaseException | None) -> bool:
    """Whether an error says the database cannot be reached (down, restarting, connection lost): the caller gets a
    503 with `Retry-After`, not a 500."""
    while exc is not None:
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def missing_reference(exc: BaseException) -> bool:
    """Whether a write failed on a foreign key: a row it names was deleted after its checks read it (a learner
    erased meanwhile). Run again, the write's checks see the deletion and refuse it properly."""
    while exc is not None:
        if isinstance(exc, psycopg.errors.ForeignKeyViolation):
            return True
        if isinstance(exc, sqlite3.IntegrityError) and "FOREIGN KEY" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]  # the chain ends in None
    return False


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
    # SQLite's lower() folds ASCII only; PostgreSQL's folds every letter. Searches compare lower() on both sides, so
    # both databases use one folding: Python's, which is Unicode's, as PostgreSQL's UTF-8 locales are.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _loads(value: Any) -> Any:
    # SQLite's JSON columns have numeric affinity: a stored number comes back already a number.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True, slots=True)
class PoolSizes:
    """Connections a process may hold, per pool (settings `COURSEPIPELINE_DB_*_POOL_SIZE`). The two SQLAlchemy
    pools may open as many again for a burst, so a process holds at most `driver + 2 * (writes + reads)`."""

    driver: int = 10  # the hot `Prepared` statements: every set and the reads of a request (PostgreSQL)
    writes: int = 10  # write transactions through SQLAlchemy
    reads: int = 5  # lists, searches and aggregates


def make_engine(raw_url: str, *, pool_size: int = 10, autocommit: bool = False, prepare: bool = True) -> AsyncEngine:
    """`autocommit` engines serve single-statement reads: no BEGIN/ROLLBACK round trips around them.

    `prepare=False` plans every statement for its own parameters. A prepared statement is planned once for any
    parameters after a few runs (PostgreSQL's generic plan), which suits statements whose cost does not depend on
    them, and not scans whose size does: an aggregate over a variable holding half the table is slower on the
    generic plan (a bitmap index scan) than on its own (a parallel sequential scan)."""
    url = normalize_url(raw_url, asynchronous=True)
    options: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": _loads}
    if autocommit:
        options["isolation_level"] = "AUTOCOMMIT"
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            options["poolclass"] = NullPool
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # A connection the server dropped (a restart) is found and replaced at checkout. The hot statements run on
        # the driver pool instead (`Database.runner()`), whose reads retry once on a fresh connection.
        pool_pre_ping=True,
        pool_recycle=3600,
        # psycopg prepares statements server-side after they have run this many times on a connection.
        connect_args={"prepare_threshold": 2 if prepare else None},
        **options,
    )


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    # JSON through orjson, as the engine does.
    set_json_loads(orjson.loads, conn)
    set_json_dumps(orjson.dumps, conn)


def driver_pool(engine: AsyncEngine, size: int) -> AsyncConnectionPool:
    """A psycopg pool beside the engine's, for `Prepared` statements: autocommit, dict rows, prepared."""
    url = engine.url.set(drivername="postgresql")
    return AsyncConnectionPool(
        url.render_as_string(hide_password=False),
        min_size=1,
        max_size=size,
        open=False,
        configure=_configure,
        # No session settings at connect (no libpq `options`): connection poolers such as PgBouncer refuse them.
        # Times come back aware in the server's zone, which compares and serializes the same.
        kwargs={"autocommit": True, "row_factory": dict_row, "prepare_threshold": 2},
    )


class _Lease:
    """One driver connection for a request's reads: taken on first use, given back when the request ends.

    A request's loaders mostly run one after another; sharing a connection saves a pool checkout per statement.
    Loaders that do run at once simply queue on it (a psycopg connection serializes its own use).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self._taking = asyncio.Lock()

    async def get(self) -> psycopg.AsyncConnection[Any]:
        if self.conn is None:
            async with self._taking:
                if self.conn is None:
                    pool = self.db._pool
                    if pool is None or pool.closed:  # only the first request of a process opens it
                        pool = await self.db._driver_pool()
                    self.conn = await pool.getconn()
        return self.conn

    async def replace(self) -> psycopg.AsyncConnection[Any]:
        """A live connection for one that died. The others idle in the pool died with it (a server restart ends
        them all), so the pool checks them first and discards the dead ones, the one given back included."""
        await self.release()
        assert self.db._pool is not None  # it lent the connection
        await self.db._pool.check()
        return await self.get()

    async def release(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            assert self.db._pool is not None  # it lent the connection
            await self.db._pool.putconn(conn)


_lease: ContextVar[_Lease | None] = ContextVar("coursepipeline_read_lease", default=None)


# The two context managers every request enters, written as classes: a generator-based one costs more a use.
class _Leasing:
    """`Database.request()`: a lease for the request's reads, given back when it ends."""

    def __init__(self, db: Database) -> None:
        self.lease = _Lease(db)

    async def __aenter__(self) -> None:
        self.token = _lease.set(self.lease)

    async def __aexit__(self, *exc: object) -> None:
        _lease.reset(self.token)
        if self.lease.conn is not None:  # a request that only wrote never took one
            await self.lease.release()


class _LeasedRunner:
    """`Database.runner()` inside a request: the request's leased connection."""

    def __init__(self, lease: _Lease) -> None:
        self.lease = lease

    async def __aenter__(self) -> Runner:
        lease = self.lease
        conn = lease.conn or await lease.get()  # held after the request's first statement: no coroutine then
        db = lease.db
        return PsycopgRunner(conn, db.dialect, db._recorders, lease.replace)

    async def __aexit__(self, *exc: object) -> None:
        pass


class _PooledRunner:
    """`Database.runner()` on a connection of its own from the pool, in a transaction if asked (every set's)."""

    def __init__(self, db: Database, transaction: bool, learner_ids: Sequence[uuid.UUID]) -> None:
        self.db = db
        self.transaction = transaction
        self.learner_ids = learner_ids
        self.claim: Claim | None = None

    async def __aenter__(self) -> Runner:
        db = self.db
        pool = db._pool
        if pool is None or pool.closed:  # only the first use in a process opens it
            pool = await db._driver_pool()
        self.pool = pool
        self.conn = conn = await pool.getconn()
        runner = PsycopgRunner(conn, db.dialect, db._recorders)
        if self.transaction:
            self.tx = conn.transaction()
            try:
                await self.tx.__aenter__()
            except psycopg.OperationalError:
                # The server ended the idle connection (a restart): BEGIN did nothing, so it is sent once more on a
                # fresh one, and no caller sees the restart. (`_give_back` has the pool drop the dead ones.)
                await self._give_back()
                self.conn = conn = await pool.getconn()
                runner = PsycopgRunner(conn, db.dialect, db._recorders)
                self.tx = conn.transaction()
                try:
                    await self.tx.__aenter__()
                except BaseException:
                    await self._give_back()
                    raise
            except BaseException:
                await self._give_back()
                raise
            try:
                self.claim = await take_pending(runner, self.learner_ids)
            except BaseException as exc:
                await self.__aexit__(type(exc), exc, exc.__traceback__)
                raise
        return runner

    async def __aexit__(self, *exc: Any) -> None:
        try:
            if self.transaction:
                await self.tx.__aexit__(*exc)  # commits, or rolls back on an exception, which goes on
        except BaseException:
            released(self.claim)  # the commit failed: nothing was kept
            raise
        else:
            if exc[0] is not None:
                released(self.claim)
        finally:
            await self._give_back()

    async def _give_back(self) -> None:
        broken = self.conn.broken
        await self.pool.putconn(self.conn)
        if broken:  # the server restarted: the idle connections died too, and the pool drops them now
            await self.pool.check()


_NOTHING = nullcontext()


class Database:
    """The engine plus the ways the app touches it: short reads, serialized-where-needed writes, and `runner()`
    for the hot `Prepared` statements.

    Each read or write checks out its own connection, except `runner()` reads inside `request()`, which share
    the request's one (see `_Lease`). SQLite allows one writer at a time; a process-wide lock queues writers here
    rather than failing with "database is locked" (the busy timeout still covers other processes).
    """

    def __init__(
        self, engine: AsyncEngine, read_engine: AsyncEngine | None = None, pool_size: int = 10, *, fast: bool = True
    ) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine
        self.dialect = engine.dialect  # read once: the async engine reaches it through two proxy layers
        self.is_sqlite = self.dialect.name == "sqlite"
        # SQLite's writers queue on a lock per event loop: an asyncio lock serves one loop only, and a test
        # client (or an embedding app) may drive this handle from a second; between loops the busy timeout serves.
        self._write_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] | None = (
            WeakKeyDictionary() if self.is_sqlite else None
        )
        # Without the execution engine (`fast=False`) every statement goes through SQLAlchemy.
        self._pool = None if self.is_sqlite or not fast else driver_pool(engine, pool_size)
        self._pool_opened = asyncio.Lock()
        self._recorders: list[list[str]] = []

    @classmethod
    def from_url(cls, raw_url: str, *, fast: bool = True, pools: PoolSizes | None = None) -> Database:
        pools = pools or PoolSizes()
        # The autocommit engine serves only the reads that are not `Prepared` (lists, search, aggregates): reads
        # whose cost follows their parameters, so each gets a plan of its own (see `make_engine`).
        read_engine = make_engine(raw_url, pool_size=pools.reads, autocommit=True, prepare=False)
        return cls(make_engine(raw_url, pool_size=pools.writes), read_engine, pools.driver, fast=fast)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.read_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self, learner_ids: Sequence[uuid.UUID] = ()) -> AsyncIterator[AsyncConnection]:
        """A write transaction. Its first statement claims the request's idempotency key, if it has one, naming
        the learners the write is about (`db.idempotency`)."""
        claim = None
        try:
            async with self._writing(), self.engine.begin() as conn:
                claim = await take_pending(conn, learner_ids)
                yield conn
        except BaseException:
            released(claim)
            raise

    def _writing(self) -> AbstractAsyncContextManager[Any]:
        """SQLite's writers queue here, one at a time, in this event loop."""
        locks = self._write_locks
        if locks is None:
            return _NOTHING
        loop = asyncio.get_running_loop()
        lock = locks.get(loop)
        if lock is None:
            lock = locks[loop] = asyncio.Lock()
        return lock

    async def _driver_pool(self) -> AsyncConnectionPool:
        assert self._pool is not None
        if self._pool.closed:
            async with self._pool_opened:
                if self._pool.closed:
                    await self._pool.open()
        return self._pool

    def runner(
        self, *, transaction: bool = False, learner_ids: Sequence[uuid.UUID] = ()
    ) -> AbstractAsyncContextManager[Runner]:
        """Somewhere to run `Prepared` statements: a psycopg connection on PostgreSQL, SQLAlchemy's on SQLite.
        With `transaction`, everything run on it commits together or not at all (and `learner_ids` are the
        learners it writes about, as for `write()`)."""
        lease = _lease.get()
        if lease is not None and lease.db is self and not transaction:
            return _LeasedRunner(lease)  # the commonest case, and the cheapest: nothing to give back
        if self._pool is None:
            return self._alchemy_runner(transaction, learner_ids)
        return _PooledRunner(self, transaction, learner_ids)

    @asynccontextmanager
    async def _alchemy_runner(self, transaction: bool, learner_ids: Sequence[uuid.UUID]) -> AsyncIterator[Runner]:
        async with self.write(learner_ids) if transaction else self.read() as conn:
            yield AlchemyRunner(conn)

    def request(self) -> AbstractAsyncContextManager[None]:
        """Within, the reads of `runner()` share one connection (see `_Lease`); a request's work runs inside."""
        return _Leasing(self) if self._pool is not None else _NOTHING

    def driver_pool_stats(self) -> dict[str, int] | None:
        """The driver pool's counters (`pool_size`, `pool_available`, `requests_waiting`, ...), or None without one."""
        return None if self._pool is None or self._pool.closed else self._pool.get_stats()

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self.engine,) if self.read_engine is self.engine else (self.engine, self.read_engine)

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """Every SQL statement sent while inside, in order (for tests and the benchmark's statement count)."""
        seen: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        for engine in self.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", record)
        self._recorders.append(seen)
        try:
            yield seen
        finally:
            self._recorders.remove(seen)
            for engine in self.engines:
                event.remove(engine.sync_engine, "before_cursor_execute", record)

    async def drop_dead_connections(self) -> None:
        """Discards pooled connections the server ended (a restart ends them all); the pools stay open."""
        if self._pool is not None and not self._pool.closed:
            await self._pool.check()
        await self.engine.dispose()
        await self.read_engine.dispose()

    async def dispose(self) -> None:
        if self._pool is not None and not self._pool.closed:
            await self._pool.close()
        await self.engine.dispose()
        await self.read_engine.dispose()
