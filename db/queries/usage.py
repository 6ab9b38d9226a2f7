"""API key usage per UTC day: requests and 429s, added in batches by the serving process."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import ApiKeyUsage
from db.queries.api_keys import api_keys
from db.queries.common import dialect_insert, table

usage = table(ApiKeyUsage)


async def add(conn: AsyncConnection, counts: Mapping[tuple[uuid.UUID, date], tuple[int, int]]) -> None:
    """Adds (requests, rate_limited) to each key's day, in one batched statement, in key order so that two processes
    never deadlock. Counts of keys deleted since (with their organization) are dropped."""
    ids = {key_id for key_id, _ in counts}
    known = set((await conn.execute(select(api_keys.c.id).where(api_keys.c.id.in_(ids)))).scalars())
    rows = [
        {"key_id": key_id, "day": day, "requests": requests, "rate_limited": limited}
        for (key_id, day), (requests, limited) in sorted(counts.items())
        if key_id in known
    ]
    if not rows:
        return
    insert = dialect_insert(conn, usage)
    upsert = insert.on_conflict_do_update(
        index_elements=["key_id", "day"],
        set_={
            "requests": usage.c.requests + insert.excluded.requests,
            "rate_limited": usage.c.rate_limited + insert.excluded.rate_limited,
        },
    )
    await conn.execute(upsert, rows)


async def daily(conn: AsyncConnection, key_id: uuid.UUID, today: date, days: int) -> list[tuple[date, int, int]]:
    """The last `days` days up to `today`, oldest first, with zeros where nothing was counted."""
    first = today - timedelta(days=days - 1)
    stmt = select(usage.c.day, usage.c.requests, usage.c.rate_limited).where(
        usage.c.key_id == key_id, usage.c.day >= first, usage.c.day <= today
    )
    found = {row.day: (row.requests, row.rate_limited) for row in await conn.execute(stmt)}
    return [(d, *found.get(d, (0, 0))) for d in (first + timedelta(days=i) for i in range(days))]
