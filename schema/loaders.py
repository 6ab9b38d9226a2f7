"""DataLoaders, made per request: nested fields batch their lookups into one statement per level.

Each batch opens its own connection, so loaders dispatched concurrently by Strawberry never share one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import cached_property
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.prepared import Row
from db.queries import chatbots, courses, learners, pipelines, stats, values, variables
from execution import DataLoader

Batch = Callable[[AsyncConnection, uuid.UUID, Sequence[Any]], Awaitable[Sequence[Any]]]
# The DataLoader class: the engine's, or Strawberry's with the engine off (the same `load`/`load_many`).
MakeLoader = Callable[[Callable[[Any], Awaitable[Sequence[Any]]]], Any]


def _connection(db: Database, prepared: bool) -> AbstractAsyncContextManager[Any]:
    """`prepared`: the batch runs only `Prepared` statements, so it can have the driver's connection."""
    return db.runner() if prepared else db.read()


def _loader(
    make: MakeLoader, db: Database, org_id: uuid.UUID, batch: Batch, *, prepared: bool = False
) -> DataLoader[Any, Any]:
    async def load(keys: Sequence[Any]) -> Sequence[Any]:
        async with _connection(db, prepared) as conn:
            return await batch(conn, org_id, keys)

    return make(load)


def _param_loader(
    make: MakeLoader,
    db: Database,
    org_id: uuid.UUID,
    batch: Callable[[Any, uuid.UUID, list[uuid.UUID], Any], Awaitable[Sequence[Any]]],
    *,
    prepared: bool = False,
) -> DataLoader[tuple[uuid.UUID, Any], Any]:
    """For keys `(id, parameter)`: one statement per distinct parameter in the batch (a page size, a filter)."""

    async def load(keys: Sequence[tuple[uuid.UUID, Any]]) -> list[Any]:
        if len(keys) == 1:  # a request's usual batch: no grouping to do
            ((key_id, param),) = keys
            async with _connection(db, prepared) as conn:
                return list(await batch(conn, org_id, [key_id], param))
        by_param: dict[Any, list[uuid.UUID]] = defaultdict(list)
        for key_id, param in keys:
            by_param[param].append(key_id)
        found: dict[tuple[uuid.UUID, Any], Any] = {}
        async with _connection(db, prepared) as conn:
            for param, ids in by_param.items():
                for key_id, result in zip(ids, await batch(conn, org_id, ids, param), strict=True):
                    found[(key_id, param)] = result
        return [found[key] for key in keys]

    return make(load)


class Loaders:
    """The request's DataLoaders, each made on first use (a REST call needs one or two of the eleven)."""

    def __init__(self, db: Database, org_id: uuid.UUID | None, make: MakeLoader = DataLoader) -> None:
        self.db = db
        self.make = make
        # A user without an organization sees nothing; the nil id matches no row.
        self.org = org_id or uuid.UUID(int=0)

    @cached_property
    def course(self) -> DataLoader[uuid.UUID, Row | None]:
        return _loader(self.make, self.db, self.org, courses.get_courses, prepared=True)

    @cached_property
    def course_run(self) -> DataLoader[uuid.UUID, Row | None]:
        return _loader(self.make, self.db, self.org, courses.get_runs, prepared=True)

    @cached_property
    def learner(self) -> DataLoader[uuid.UUID, Row | None]:
        return _loader(self.make, self.db, self.org, learners.get_learners, prepared=True)

    @cached_property
    def variable(self) -> DataLoader[uuid.UUID, Row | None]:
        return _loader(self.make, self.db, self.org, variables.get_variables, prepared=True)

    @cached_property
    def chatbot(self) -> DataLoader[uuid.UUID, Row | None]:
        return _loader(self.make, self.db, self.org, chatbots.get_chatbots, prepared=True)

    @cached_property
    def value(self) -> DataLoader[uuid.UUID, Row | None]:
        """A recorded value by id, with where it came from (`source_value_id`, `connection_id`)."""
        return _loader(self.make, self.db, self.org, values.get_values, prepared=True)

    @cached_property
    def carried_from(self) -> DataLoader[uuid.UUID, list[Row]]:
        """The values connections recorded from a value, by the source value's id."""
        return _loader(self.make, self.db, self.org, values.carried_from, prepared=True)

    @cached_property
    def variables_by_chatbot(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, variables.variables_by_chatbot, prepared=True)

    @cached_property
    def nodes_by_pipeline(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, pipelines.nodes_by_pipeline, prepared=True)

    @cached_property
    def connections_by_pipeline(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, pipelines.connections_by_pipeline, prepared=True)

    @cached_property
    def connections_from(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, pipelines.connections_from, prepared=True)

    @cached_property
    def connections_into(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, pipelines.connections_into, prepared=True)

    @cached_property
    def runs_by_course(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, courses.runs_by_course)

    @cached_property
    def variables_by_course(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, variables.variables_by_course, prepared=True)

    @cached_property
    def enrollments_by_learner(self) -> DataLoader[uuid.UUID, list[Row]]:
        return _loader(self.make, self.db, self.org, learners.enrollments_by_learner, prepared=True)

    @cached_property
    def course_stats(self) -> DataLoader[uuid.UUID, stats.CourseStats]:
        return _loader(self.make, self.db, self.org, stats.course_stats)

    @cached_property
    def current_by_learner(self) -> DataLoader[tuple[uuid.UUID, uuid.UUID | None], list[Row]]:
        """Keyed by (learner id, course id or None)."""
        return _param_loader(self.make, self.db, self.org, values.current_values_by_learner, prepared=True)

    @cached_property
    def latest_values(self) -> DataLoader[tuple[uuid.UUID, int], list[Row]]:
        """Keyed by (variable id, how many)."""
        return _param_loader(self.make, self.db, self.org, values.latest_values_by_variable)

    @cached_property
    def histogram(self) -> DataLoader[tuple[uuid.UUID, tuple[int, uuid.UUID | None]], list[tuple[float, float, int]]]:
        """Keyed by (variable id, (buckets, course run id or None))."""
        return _param_loader(
            self.make,
            self.db,
            self.org,
            lambda conn, o, ids, p: stats.histograms(conn, o, ids, buckets=p[0], course_run_id=p[1]),
        )

    @cached_property
    def aggregate(self) -> DataLoader[tuple[uuid.UUID, tuple[uuid.UUID | None, bool, bool]], stats.Aggregate]:
        """Keyed by (variable id, (course run id or None, spread wanted, distribution wanted))."""
        return _param_loader(
            self.make,
            self.db,
            self.org,
            lambda conn, o, ids, p: stats.aggregates(conn, o, ids, course_run_id=p[0], spread=p[1], distribution=p[2]),
        )
