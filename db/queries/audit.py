"""The audit log: one row per change of keys, members, pipelines or data, written in the change's own
transaction, so an entry exists exactly when the change committed. Read newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import AuditEntry
from db.queries.common import Page, fetch_page, table
from db.types import utcnow

audit_log = table(AuditEntry)


@dataclass(frozen=True)
class Actor:
    """Who is acting: `key:<id>` or `user:<sub>`, and a person's email for reading the log."""

    id: str
    email: str | None = None


async def record(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        insert(audit_log).values(
            id=uuid.uuid4(),
            org_id=org_id,
            actor=actor.id,
            actor_email=actor.email,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details,
            created_at=utcnow(),
        )
    )


async def list_entries(
    conn: AsyncConnection, org_id: uuid.UUID, *, limit: int, offset: int, after: tuple[Any, ...] | None = None
) -> Page:
    """Newest first; `after` is the last entry's (created_at, id) of the page before."""
    stmt = select(audit_log).where(audit_log.c.org_id == org_id)
    return await fetch_page(conn, stmt, audit_log, limit=limit, offset=offset, after=after, newest_first=True)
