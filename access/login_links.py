"""Embedded mode's sign-in: a one-time link, valid for 15 minutes, that signs a browser in as a local user."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from access.keys import hash_key
from access.tokens import local_user_id
from db.engine import Database
from db.queries import login_links, members
from db.types import utcnow

LIFETIME = timedelta(minutes=15)


async def create_link(db: Database, email: str, base_url: str) -> str:
    code = secrets.token_urlsafe(32)
    async with db.write() as conn:
        await login_links.insert_link(
            conn, code_hash=hash_key(code), email=email.strip(), expires_at=utcnow() + LIFETIME
        )
    return f"{base_url.rstrip('/')}/login/link?code={code}"


@dataclass(frozen=True, slots=True)
class Redeemed:
    email: str
    joined: uuid.UUID | None  # the organization an invitation's link made the person a member of


async def redeem(db: Database, code: str) -> Redeemed | None:
    """Uses a link up. An invitation's link also accepts that invitation, and no other (`members.join`)."""
    if not code or len(code) > 100:
        return None
    async with db.write() as conn:
        link = await login_links.consume_link(conn, hash_key(code))
        if link is None:
            return None
        joined = None
        if link["invitation_id"] is not None:
            accepted = await members.join(conn, link["invitation_id"], local_user_id(link["email"]), link["email"])
            joined = accepted["org_id"] if accepted is not None else None
        return Redeemed(link["email"], joined)
