"""Opaque, tamper-proof page cursors: the position after a page's last row, signed with the server's secret.

A cursor is `base64url(JSON [list, position...] + HMAC-SHA256 tag)`. The list's name is inside, so a cursor of one
list is refused by another; a cursor whose tag does not match (forged, edited, truncated) is refused with 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from schema.errors import BadInput
from schema.scalars import parse_time

TAG_BYTES = 16
MAX_CURSOR_LENGTH = 512


class CursorCodec:
    def __init__(self, secret: str) -> None:
        # A key of its own, derived from the server's secret, so a cursor never carries anything signed for auth.
        self._key = hmac.new(secret.encode(), b"coursepipeline page cursor", hashlib.sha256).digest()

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:TAG_BYTES]

    def encode(self, kind: str, position: Sequence[Any]) -> str:
        parts = [kind, *(v.isoformat() if isinstance(v, datetime) else str(v) for v in position)]
        payload = orjson.dumps(parts)
        return base64.urlsafe_b64encode(payload + self._tag(payload)).rstrip(b"=").decode()

    def decode(self, kind: str, cursor: str) -> list[str]:
        """The position a cursor of list `kind` holds; BadInput if it is not one this server made for that list."""
        try:
            if len(cursor) > MAX_CURSOR_LENGTH:
                raise ValueError
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            payload, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
            if not hmac.compare_digest(tag, self._tag(payload)):
                raise ValueError
            parts = orjson.loads(payload)
        except (ValueError, orjson.JSONDecodeError):
            raise BadInput("cursor is malformed or was not made by this server for this list") from None
        if not isinstance(parts, list) or not parts or parts[0] != kind:
            raise BadInput("cursor belongs to another list")
        return [str(p) for p in parts[1:]]

    def time_and_id(self, kind: str, cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
        """The (time, id) position of a list ordered by a time and then the row's id; None without a cursor."""
        if cursor is None:
            return None
        position = self.decode(kind, cursor)
        try:
            at, row_id = position
            return parse_time(at), uuid.UUID(row_id)
        except ValueError:
            raise BadInput("cursor is malformed") from None
