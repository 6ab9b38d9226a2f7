"""One `Database` driven from two event loops (a test client's and the app's, or an embedding app's): SQLite's
writers queue on a lock of their own loop, so neither loop meets a lock bound to the other."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import text

from db.engine import Database


async def _contended_writes(db: Database) -> None:
    async def write(i: int) -> None:
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:i)"), {"i": i})
            await asyncio.sleep(0.01)  # held a while, so the others wait on the lock

    await asyncio.gather(*[write(i) for i in range(5)])


def test_sqlite_writes_from_two_event_loops_queue_without_error(tmp_path: Path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'loops.db'}")

    async def first() -> None:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (i INTEGER)"))
        await _contended_writes(db)

    asyncio.run(first())
    failures: list[BaseException] = []

    def second() -> None:  # another loop, in another thread, as Starlette's test client runs an app
        try:
            asyncio.run(_contended_writes(db))
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join()
    assert failures == []

    async def count() -> int:
        async with db.read() as conn:
            found = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        await db.dispose()
        return int(found)

    assert asyncio.run(count()) == 10
