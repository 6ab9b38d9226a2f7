"""Reading and checking path, query and body parameters; anything malformed is a 400 with the error body."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request

from access.errors import APIError
from access.middleware import BODY_KEY
from schema.scalars import parse_time

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1  # GraphQL's Int, which carries it to the schema


def bad(message: str) -> APIError:
    return APIError(400, message, code="invalid_parameter")


# The canonical form, which nearly every caller sends, is checked without building the UUID: the GraphQL layer's
# UUID scalar parses the text anyway, so parsing and re-formatting it here would be done twice. Other forms go
# through `uuid.UUID`.
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def as_id(value: Any, name: str) -> str:
    """The text of a UUID the caller sent, checked, for a GraphQL variable of type UUID."""
    if isinstance(value, str):
        if _CANONICAL_UUID.fullmatch(value):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise bad(f"{name} must be a UUID")


_NO_QUERY: Mapping[str, str] = {}


def _query(request: Request) -> Mapping[str, str]:
    # Most calls send no query string; Starlette would still parse the empty one into a QueryParams.
    return request.query_params if request.scope["query_string"] else _NO_QUERY


def path_id(request: Request, name: str) -> str:
    return as_id(request.path_params[name], name)


def query_id(request: Request, name: str) -> str | None:
    value = _query(request).get(name)
    return None if value is None else as_id(value, name)  # an empty one is malformed, not absent


def query_int(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = _query(request).get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"{name} must be a whole number") from None
    if value < low or (high is not None and value > high):
        raise bad(f"{name} must be between {low} and {high}" if high is not None else f"{name} must be {low} or more")
    return value


MAX_CURSOR = 512


def page(request: Request) -> dict[str, Any]:
    """`limit`, `offset` and `cursor` (a `next_cursor` the list answered; checked by the schema, which signed it)."""
    cursor = _query(request).get("cursor")
    if cursor is not None and not 0 < len(cursor) <= MAX_CURSOR:
        raise bad(f"cursor must be 1 to {MAX_CURSOR} characters")
    return {
        "limit": query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        "offset": query_int(request, "offset", 0, 0, MAX_OFFSET),
        "cursor": cursor,
    }


def query_bool(request: Request, name: str) -> bool | None:
    raw = _query(request).get(name)
    if raw in (None, ""):
        return None
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise bad(f"{name} must be true or false")
    return lowered == "true"


def query_text(request: Request, name: str, max_length: int = 200) -> str | None:
    raw = _query(request).get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > max_length:
        raise bad(f"{name} is longer than {max_length} characters")
    return raw.strip()


async def json_object(request: Request) -> dict[str, Any]:
    body = request.scope.get(BODY_KEY)
    if body is None:
        body = await request.body()
    if not body:
        raise APIError(400, "The request needs a JSON body.", code="invalid_json")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise APIError(400, "The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise APIError(400, "The request body must be a JSON object.", code="invalid_json")
    return data


def body_text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{name} is required and must be a non-empty string")
    return value


def body_id(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise bad(f"{name} is required")
        return None
    return as_id(value, name)


def body_time(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"{name} must be an ISO 8601 time, e.g. 2026-12-31T23:59:59Z")
    try:
        return parse_time(value)
    except ValueError:
        raise bad(f"{name} must be an ISO 8601 time with a zone, e.g. 2026-12-31T23:59:59Z") from None
