"""Embedded mode's sign-in: a one-time link, valid for 15 minutes, that signs a browser in as a local user."""

from __future__ import annotations

import secrets
from datetime import timedelta

from access.keys import hash_key
from db.engine import Database
from db.queries import login_links
from db.types import utcnow

LIFETIME = timedelta(minutes=15)


async def create_link(db: Database, email: str, base_url: str) -> str:
    code = secrets.token_urlsafe(32)
    async with db.write() as conn:
        await login_links.insert_link(
            conn, code_hash=hash_key(code), email=email.strip(), expires_at=utcnow() + LIFETIME
        )
    return f"{base_url.rstrip('/')}/login/link?code={code}"


async def redeem(db: Database, code: str) -> str | None:
    if not code or len(code) > 100:
        return None
    async with db.write() as conn:
        return await login_links.consume_link(conn, hash_key(code))
