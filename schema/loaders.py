"""DataLoaders, made per request: nested fields batch their lookups into one statement per level.

Each batch opens its own connection, so loaders dispatched concurrently by Strawberry never share one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.dataloader import DataLoader

from db.engine import Database
from db.queries import courses, learners, stats, values, variables

Batch = Callable[[AsyncConnection, uuid.UUID, Sequence[Any]], Awaitable[Sequence[Any]]]


def _loader(db: Database, org_id: uuid.UUID, batch: Batch, *, prepared: bool = False) -> DataLoader[Any, Any]:
    """`prepared`: `batch` runs only `Prepared` statements, so it can have the driver's connection."""

    async def load(keys: Sequence[Any]) -> Sequence[Any]:
        async with db.runner() if prepared else db.read() as conn:
            return await batch(conn, org_id, keys)

    return DataLoader(load_fn=load)


def _param_loader(
    db: Database,
    org_id: uuid.UUID,
    batch: Callable[[Any, uuid.UUID, list[uuid.UUID], Any], Awaitable[Sequence[Any]]],
    *,
    prepared: bool = False,
) -> DataLoader[tuple[uuid.UUID, Any], Any]:
    """For keys `(id, parameter)`: one statement per distinct parameter in the batch (a page size, a filter)."""

    async def load(keys: Sequence[tuple[uuid.UUID, Any]]) -> list[Any]:
        by_param: dict[Any, list[uuid.UUID]] = defaultdict(list)
        for key_id, param in keys:
            by_param[param].append(key_id)
        found: dict[tuple[uuid.UUID, Any], Any] = {}
        async with db.runner() if prepared else db.read() as conn:
            for param, ids in by_param.items():
                for key_id, result in zip(ids, await batch(conn, org_id, ids, param), strict=True):
                    found[(key_id, param)] = result
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    course: DataLoader[uuid.UUID, RowMapping | None]
    course_run: DataLoader[uuid.UUID, RowMapping | None]
    learner: DataLoader[uuid.UUID, RowMapping | None]
    variable: DataLoader[uuid.UUID, RowMapping | None]
    runs_by_course: DataLoader[uuid.UUID, list[RowMapping]]
    variables_by_course: DataLoader[uuid.UUID, list[RowMapping]]
    enrollments_by_learner: DataLoader[uuid.UUID, list[RowMapping]]
    course_stats: DataLoader[uuid.UUID, stats.CourseStats]
    # keyed by (learner id, course id or None)
    current_by_learner: DataLoader[tuple[uuid.UUID, uuid.UUID | None], list[RowMapping]]
    # keyed by (variable id, how many)
    latest_values: DataLoader[tuple[uuid.UUID, int], list[RowMapping]]
    # keyed by (variable id, (course run id or None, spread wanted, distribution wanted))
    aggregate: DataLoader[tuple[uuid.UUID, tuple[uuid.UUID | None, bool, bool]], stats.Aggregate]


def make_loaders(db: Database, org_id: uuid.UUID | None) -> Loaders:
    # A user without an organization sees nothing; the nil id matches no row.
    org = org_id or uuid.UUID(int=0)
    return Loaders(
        course=_loader(db, org, courses.get_courses, prepared=True),
        course_run=_loader(db, org, courses.get_runs, prepared=True),
        learner=_loader(db, org, learners.get_learners, prepared=True),
        variable=_loader(db, org, variables.get_variables, prepared=True),
        runs_by_course=_loader(db, org, courses.runs_by_course),
        variables_by_course=_loader(db, org, variables.variables_by_course, prepared=True),
        enrollments_by_learner=_loader(db, org, learners.enrollments_by_learner, prepared=True),
        course_stats=_loader(db, org, stats.course_stats),
        current_by_learner=_param_loader(
            db, org, lambda conn, o, ids, course: values.current_values_by_learner(conn, o, ids, course), prepared=True
        ),
        latest_values=_param_loader(
            db, org, lambda conn, o, ids, limit: values.latest_values_by_variable(conn, o, ids, limit)
        ),
        aggregate=_param_loader(
            db,
            org,
            lambda conn, o, ids, p: stats.aggregates(conn, o, ids, course_run_id=p[0], spread=p[1], distribution=p[2]),
        ),
    )
