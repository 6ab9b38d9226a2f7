"""Scalars: times as ISO 8601 in UTC with a `Z`, as the REST contract shows them."""

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError, StringValueNode, ValueNode

from execution import Inline

ZERO = timedelta(0)
# Whether a zone's offset is always zero (UTC under other names, such as a server's "Etc/UTC"), by zone object.
# Generated leaf code reads it too (`inline_serializers`), to write such a time out without calling `format_time`.
ALWAYS_UTC: dict[tzinfo | None, bool] = {UTC: True}
# orjson writes what `isoformat()` writes with "Z" for the zero offset (checked over every kind of value in
# tests/test_scalars.py), and faster: times are a list of rows' commonest field.
UTC_TIME_OPTION = orjson.OPT_UTC_Z


def _fixed_utc(zone: tzinfo | None) -> bool:
    try:
        fixed = zone is not None and zone.utcoffset(None) == ZERO  # None for a zone whose offset varies
    except Exception:  # a zone implementation that wants a datetime here
        fixed = False
    if len(ALWAYS_UTC) < 64:  # zones are few; a stream of new zone objects must not grow this
        ALWAYS_UTC[zone] = fixed
    return fixed


def format_time(value: datetime) -> str:
    # Times come back in the database server's zone on the driver path: usually UTC under another name.
    zone = value.tzinfo
    utc = ALWAYS_UTC.get(zone)
    if utc is None:
        utc = _fixed_utc(zone)
    if not utc and value.utcoffset() != ZERO:
        value = value.astimezone(UTC)
    return orjson.dumps(value, option=UTC_TIME_OPTION)[1:-1].decode()


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a time needs a zone, e.g. 2026-11-26T17:00:00Z")
    return parsed.astimezone(UTC)


def parse_time_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> datetime:
    """A time written in the document itself: refused as a bad input, like a time sent as a variable."""
    if not isinstance(node, StringValueNode):
        raise GraphQLError("DateTime takes an ISO 8601 string, e.g. 2026-11-26T17:00:00Z", node)
    try:
        return parse_time(node.value)
    except ValueError as exc:
        raise GraphQLError(f"DateTime: {exc}", node) from None


DateTime = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 time; answered in UTC, e.g. 2026-11-26T17:00:00Z.",
    serialize=format_time,
    parse_value=parse_time,
    parse_literal=parse_time_literal,
)


def inline_serializers() -> dict[Any, Inline]:
    """For the execution engine: a time in a zone known to be UTC is written as `format_time` writes it."""
    code = "dumps(v, option=Z)[1:-1].decode() if utc.get(v.tzinfo) else {call}(v)"
    return {format_time: Inline(code, {"dumps": orjson.dumps, "Z": UTC_TIME_OPTION, "utc": ALWAYS_UTC})}
