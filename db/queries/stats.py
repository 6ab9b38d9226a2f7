"""Aggregates computed in SQL, for many variables or courses per statement.

Percentiles use window functions both databases have: each variable's current numbers are ranked once and only the
rows either side of each percentile's position are returned, so at most eight rows per variable reach Python,
which interpolates linearly between them (the same definition as PostgreSQL's percentile_cont).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.queries.common import one_of
from db.queries.learners import enrollments
from db.queries.values import current, history
from db.queries.variables import variables
from db.types import UTCDateTime

PERCENTILES = (25, 50, 75, 90)
DISTRIBUTION_TOP = 50


@dataclass
class Aggregate:
    values_recorded: int = 0
    learners_with_value: int = 0
    first_recorded_at: datetime | None = None
    last_recorded_at: datetime | None = None
    count: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    sum: float | None = None
    stddev: float | None = None
    percentiles: dict[int, float] = field(default_factory=dict)
    distribution: list[tuple[Any, int]] = field(default_factory=list)


def _as_utc(value: Any) -> datetime | None:
    return UTCDateTime().process_result_value(value, None) if value is not None else None


async def aggregates(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    variable_ids: Sequence[uuid.UUID],
    *,
    course_run_id: uuid.UUID | None = None,
    spread: bool = True,
    distribution: bool = True,
) -> list[Aggregate]:
    """`spread` (stddev, percentiles) and `distribution` cost a ranking pass each: callers skip what they don't show."""
    ids = set(variable_ids)
    result = {vid: Aggregate() for vid in ids}

    hist_filter: list[ColumnElement[bool]] = [history.c.org_id == org_id, one_of(conn, history.c.variable_id, ids)]
    cur_filter: list[ColumnElement[bool]] = [current.c.org_id == org_id, one_of(conn, current.c.variable_id, ids)]
    if course_run_id is not None:
        hist_filter.append(history.c.course_run_id == course_run_id)
        cur_filter.append(current.c.run_key == course_run_id)

    recorded = select(
        history.c.variable_id,
        func.count(),
        func.min(history.c.recorded_at),
        func.max(history.c.recorded_at),
    ).where(*hist_filter)
    for vid, count, first, last in await conn.execute(recorded.group_by(history.c.variable_id)):
        agg = result[vid]
        agg.values_recorded, agg.first_recorded_at, agg.last_recorded_at = count, _as_utc(first), _as_utc(last)

    number = current.c.value_number
    summary = select(
        current.c.variable_id,
        func.count(distinct(current.c.learner_id)),
        func.count(number),
        func.min(number),
        func.max(number),
        func.sum(number),
        func.avg(number),
    ).where(*cur_filter)
    for vid, learners, count, low, high, total, mean in await conn.execute(summary.group_by(current.c.variable_id)):
        agg = result[vid]
        agg.learners_with_value, agg.count = learners, count
        if count:
            agg.min, agg.max, agg.sum, agg.mean = float(low), float(high), float(total), float(mean)

    numeric_ids = [vid for vid, agg in result.items() if agg.count]
    # (the summary above always has count/min/max/sum/mean; the rest comes from the passes below)
    if numeric_ids and spread:
        await _spread(conn, cur_filter, result)

    categorical_ids = [vid for vid, agg in result.items() if agg.learners_with_value and not agg.count]
    if categorical_ids and distribution:
        await _distribution(conn, [*cur_filter, one_of(conn, current.c.variable_id, categorical_ids)], result)
    return [result[vid] for vid in variable_ids]


async def _spread(
    conn: AsyncConnection, cur_filter: list[ColumnElement[bool]], result: dict[uuid.UUID, Aggregate]
) -> None:
    """Sample standard deviation (two-pass, so large offsets don't cancel) and the percentiles."""
    number = current.c.value_number
    means = (
        select(current.c.variable_id.label("vid"), func.avg(number).label("mean"))
        .where(*cur_filter, number.is_not(None))
        .group_by(current.c.variable_id)
        .subquery()
    )
    squares = (
        select(means.c.vid, func.sum((number - means.c.mean) * (number - means.c.mean)))
        .join(means, means.c.vid == current.c.variable_id)
        .where(*cur_filter, number.is_not(None))
        .group_by(means.c.vid)
    )
    for vid, sq in await conn.execute(squares):
        n = result[vid].count
        result[vid].stddev = math.sqrt(float(sq) / (n - 1)) if n > 1 else 0.0

    ranked = (
        select(
            current.c.variable_id.label("vid"),
            number.label("x"),
            (func.row_number().over(partition_by=current.c.variable_id, order_by=number) - 1).label("rn"),
            func.count().over(partition_by=current.c.variable_id).label("n"),
        )
        .where(*cur_filter, number.is_not(None))
        .subquery()
    )
    # Integer arithmetic truncates alike on both databases: lo = floor(p * (n - 1) / 100).
    wanted = []
    for p in PERCENTILES:
        lo: ColumnElement[Any] = (literal_column(str(p)) * (ranked.c.n - 1)) // 100
        wanted.append(or_(ranked.c.rn == lo, ranked.c.rn == lo + 1))
    rows = await conn.execute(select(ranked.c.vid, ranked.c.rn, ranked.c.x, ranked.c.n).where(or_(*wanted)))
    by_var: dict[uuid.UUID, dict[int, float]] = {}
    counts: dict[uuid.UUID, int] = {}
    for vid, rn, x, n in rows:
        by_var.setdefault(vid, {})[rn] = float(x)
        counts[vid] = n
    for vid, points in by_var.items():
        n = counts[vid]
        for p in PERCENTILES:
            position = p * (n - 1) / 100
            index = (p * (n - 1)) // 100
            low = points[index]
            high = points.get(index + 1, low)
            result[vid].percentiles[p] = low + (high - low) * (position - index)


async def _distribution(
    conn: AsyncConnection, cur_filter: list[ColumnElement[bool]], result: dict[uuid.UUID, Aggregate]
) -> None:
    counted = (
        select(
            current.c.variable_id.label("vid"),
            current.c.value.label("value"),
            func.count().label("n"),
        )
        .where(*cur_filter)
        .group_by(current.c.variable_id, current.c.value)
        .subquery()
    )
    ranked = select(
        counted,
        func.row_number()
        .over(partition_by=counted.c.vid, order_by=(counted.c.n.desc(), counted.c.value))
        .label("rank"),
    ).subquery()
    stmt = (
        select(ranked.c.vid, ranked.c.value, ranked.c.n)
        .where(ranked.c.rank <= DISTRIBUTION_TOP)
        .order_by(ranked.c.vid, ranked.c.rank)
    )
    for vid, value, n in await conn.execute(stmt):
        result[vid].distribution.append((value, n))


@dataclass
class CourseStats:
    enrolled_learners: int = 0
    learners_with_values: int = 0
    variables: int = 0
    active_variables: int = 0
    values_recorded: int = 0
    last_activity_at: datetime | None = None


async def course_stats(conn: AsyncConnection, org_id: uuid.UUID, course_ids: Sequence[uuid.UUID]) -> list[CourseStats]:
    ids = set(course_ids)
    result = {cid: CourseStats() for cid in ids}

    enrolled = (
        select(enrollments.c.course_id, func.count(distinct(enrollments.c.learner_id)))
        .where(enrollments.c.org_id == org_id, one_of(conn, enrollments.c.course_id, ids))
        .group_by(enrollments.c.course_id)
    )
    for cid, n in await conn.execute(enrolled):
        result[cid].enrolled_learners = n

    var_counts = (
        select(variables.c.course_id, func.count(), func.count().filter(variables.c.active.is_(True)))
        .where(variables.c.org_id == org_id, one_of(conn, variables.c.course_id, ids))
        .group_by(variables.c.course_id)
    )
    for cid, n, active in await conn.execute(var_counts):
        result[cid].variables, result[cid].active_variables = n, active

    activity = (
        select(
            variables.c.course_id,
            func.count(),
            func.count(distinct(history.c.learner_id)),
            func.max(history.c.recorded_at),
        )
        .join(variables, and_(variables.c.id == history.c.variable_id))
        .where(history.c.org_id == org_id, one_of(conn, variables.c.course_id, ids))
        .group_by(variables.c.course_id)
    )
    for cid, n, learners, last in await conn.execute(activity):
        stats = result[cid]
        stats.values_recorded, stats.learners_with_values, stats.last_activity_at = n, learners, _as_utc(last)
    return [result[cid] for cid in course_ids]


async def histograms(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    variable_ids: Sequence[uuid.UUID],
    *,
    buckets: int,
    course_run_id: uuid.UUID | None = None,
) -> list[list[tuple[float, float, int]]]:
    """Equal-width bins of each variable's current numbers: (lower, upper, count), the last bin including its upper
    bound; in one statement for every variable.

    Counted in one pass as cumulative sums below each boundary (portable: no width_bucket or floor on SQLite). The
    boundaries are worked out in SQL as in Python, `low + width * i` in doubles, so the bins agree with them."""
    number = current.c.value_number
    filters: list[ColumnElement[bool]] = [
        current.c.org_id == org_id,
        one_of(conn, current.c.variable_id, variable_ids),
        number.is_not(None),
    ]
    if course_run_id is not None:
        filters.append(current.c.run_key == course_run_id)
    span = (
        select(current.c.variable_id, func.min(number).label("low"), func.max(number).label("high"))
        .where(*filters)
        .group_by(current.c.variable_id)
        .subquery("span")
    )
    width = (span.c.high - span.c.low) / literal(float(buckets))
    below = [func.sum(case((number < span.c.low + width * literal(float(i)), 1), else_=0)) for i in range(1, buckets)]
    stmt = (
        select(current.c.variable_id, span.c.low, span.c.high, func.count(), *below)
        .join(span, span.c.variable_id == current.c.variable_id)
        .where(*filters)
        .group_by(current.c.variable_id, span.c.low, span.c.high)
    )
    found = {}
    for variable_id, low, high, total, *counts in (await conn.execute(stmt)).all():
        found[variable_id] = _bins(float(low), float(high), int(total), [int(c or 0) for c in counts], buckets)
    return [found.get(variable_id, []) for variable_id in variable_ids]


def _bins(low: float, high: float, total: int, below: list[int], buckets: int) -> list[tuple[float, float, int]]:
    if low == high:
        return [(low, high, total)]
    width = (high - low) / buckets
    bins = []
    previous = 0
    for i, upto in enumerate([*below, total]):
        bins.append((low + width * i, high if i == buckets - 1 else low + width * (i + 1), upto - previous))
        previous = upto
    return bins
