"""Scalars: times as ISO 8601 in UTC with a `Z`, as the REST contract shows them."""

from datetime import UTC, datetime, timedelta

import strawberry

ZERO = timedelta(0)


def format_time(value: datetime) -> str:
    # Times come back in the database server's zone on the driver path: usually UTC under another name.
    if value.tzinfo is not UTC and value.utcoffset() != ZERO:
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a time needs a zone, e.g. 2026-11-26T17:00:00Z")
    return parsed.astimezone(UTC)


DateTime = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 time; answered in UTC, e.g. 2026-11-26T17:00:00Z.",
    serialize=format_time,
    parse_value=parse_time,
)
