"""Times are written as ISO 8601 in UTC with a `Z`, whatever zone the driver hands them back in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from schema.scalars import format_time, parse_time


def _expected(value: datetime) -> str:
    """The contract's form, written the plain way: `isoformat()` of the UTC time, "+00:00" as "Z"."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_every_kind_of_utc_time_is_written_as_isoformat_writes_it():
    rng = random.Random(5)
    edges = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
             datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
             datetime(2026, 1, 2, 3, 4, 5, 10, tzinfo=UTC)]  # fmt: skip
    start = datetime(1, 1, 1, tzinfo=UTC)
    spread = [
        start + timedelta(seconds=rng.randrange(315537897599), microseconds=rng.choice([0, rng.randrange(10**6)]))
        for _ in range(20_000)
    ]
    for value in edges + spread:
        assert format_time(value) == _expected(value)


@pytest.mark.parametrize(
    "zone",
    [ZoneInfo("Etc/UTC"), ZoneInfo("UTC"), UTC, timezone(timedelta(0)), ZoneInfo("Europe/London"),
     ZoneInfo("Europe/Paris"), ZoneInfo("America/St_Johns"), timezone(timedelta(hours=-3, minutes=-30))],
)  # fmt: skip
def test_a_time_in_any_zone_is_written_in_utc(zone):
    for month in (1, 7):  # both sides of daylight saving time, where a zone has it
        value = datetime(2026, month, 15, 12, 30, 45, 123456, tzinfo=zone)
        assert format_time(value) == _expected(value)
        assert format_time(value).endswith("Z")
        assert parse_time(format_time(value)) == value


def test_a_zone_that_is_utc_only_in_winter_is_not_taken_for_utc():
    london = ZoneInfo("Europe/London")
    assert format_time(datetime(2026, 1, 5, 12, tzinfo=london)) == "2026-01-05T12:00:00Z"
    assert format_time(datetime(2026, 7, 5, 12, tzinfo=london)) == "2026-07-05T11:00:00Z"
