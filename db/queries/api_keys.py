"""API key rows. Only the SHA-256 of a secret is ever written here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import ApiKey
from db.queries.common import table
from db.types import utcnow

api_keys = table(ApiKey)
PUBLIC_COLUMNS = (
    api_keys.c.id,
    api_keys.c.org_id,
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.created_by,
    api_keys.c.created_at,
    api_keys.c.scope,
    api_keys.c.course_ids,
    api_keys.c.expires_at,
    api_keys.c.revoked_at,
    api_keys.c.last_used_at,
)


async def insert_key(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    *,
    name: str,
    prefix: str,
    key_hash: str,
    created_by: str | None,
    expires_at: datetime | None,
    scope: str | None = None,
    course_ids: list[str] | None = None,
) -> RowMapping:
    values = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "name": name,
        "prefix": prefix,
        "key_hash": key_hash,
        "created_by": created_by,
        "created_at": utcnow(),
        "expires_at": expires_at,
        "scope": scope,
        "course_ids": course_ids,
    }
    return (await conn.execute(insert(api_keys).values(values).returning(*PUBLIC_COLUMNS))).mappings().one()


async def list_keys(conn: AsyncConnection, org_id: uuid.UUID) -> list[RowMapping]:
    stmt = (
        select(*PUBLIC_COLUMNS).where(api_keys.c.org_id == org_id).order_by(api_keys.c.created_at.desc(), api_keys.c.id)
    )
    return list((await conn.execute(stmt)).mappings())


async def revoke_key(conn: AsyncConnection, org_id: uuid.UUID, key_id: uuid.UUID) -> RowMapping | None:
    """Revokes once; revoking again keeps the first revocation time."""
    await conn.execute(
        update(api_keys)
        .where(api_keys.c.org_id == org_id, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    stmt = select(*PUBLIC_COLUMNS).where(api_keys.c.org_id == org_id, api_keys.c.id == key_id)
    return (await conn.execute(stmt)).mappings().first()


async def find_by_hash(conn: AsyncConnection, key_hash: str) -> RowMapping | None:
    stmt = select(*PUBLIC_COLUMNS, api_keys.c.key_hash).where(api_keys.c.key_hash == key_hash)
    return (await conn.execute(stmt)).mappings().first()


async def touch_last_used(conn: AsyncConnection, key_id: uuid.UUID, when: datetime) -> None:
    await conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=when))


async def shorten_life(
    conn: AsyncConnection, org_id: uuid.UUID, key_id: uuid.UUID, until: datetime
) -> tuple[RowMapping, datetime | None] | None:
    """A rolled key works until `until` (or its own earlier expiry); answers the key as it is now and the expiry it
    had before (its successor keeps that one); None if there is no such active key."""
    stmt = select(*PUBLIC_COLUMNS).where(
        api_keys.c.org_id == org_id, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)
    )
    row = (await conn.execute(stmt.with_for_update())).mappings().first()
    if row is None:
        return None
    expired_at = row["expires_at"]
    if expired_at is None or expired_at > until:
        await conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(expires_at=until))
        row = (await conn.execute(stmt)).mappings().first()
        assert row is not None  # locked above
    return row, expired_at


async def exists(conn: AsyncConnection, org_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    stmt = select(api_keys.c.id).where(api_keys.c.org_id == org_id, api_keys.c.id == key_id)
    return (await conn.execute(stmt)).first() is not None
