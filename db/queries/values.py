"""Recorded values: the append-only history and the current value per (variable, learner, course run)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import CurrentValue, PipelineConnection, VariableValue
from db.prepared import Prepared, Row, Source, as_runner
from db.queries.common import (
    ByKeys,
    Page,
    bound_values,
    dialect_insert,
    fetch_page,
    group_rows,
    one_of,
    page_of,
    table,
)
from db.queries.courses import runs
from db.queries.learners import learners
from db.queries.variables import variables
from db.types import NIL_UUID, utcnow

history = table(VariableValue)
current = table(CurrentValue)
_connections = table(PipelineConnection)

VALUE_COLUMNS = (
    history.c.id,
    history.c.variable_id,
    history.c.learner_id,
    history.c.course_run_id,
    history.c.value,
    history.c.recorded_at,
)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is a call per field
class NewValue:
    variable_id: uuid.UUID
    learner_id: uuid.UUID
    course_run_id: uuid.UUID | None
    value: Any
    value_number: float | None
    recorded_by_key_id: uuid.UUID | None = None
    recorded_by_user: str | None = None


_HISTORY_COLUMNS = ("id", "org_id", "variable_id", "learner_id", "course_run_id", "value", "value_number",
                    "recorded_at", "recorded_by_key_id", "recorded_by_user")  # fmt: skip
_CURRENT_COLUMNS = ("variable_id", "learner_id", "run_key", "org_id", "course_run_id", "value_id", "value",
                    "value_number", "recorded_at")  # fmt: skip
RECORD = Prepared(lambda dialect: insert(history).values(bound_values(history, _HISTORY_COLUMNS)))
# A value a connection carried: the same row, naming its source value and the connection.
RECORD_CARRIED = Prepared(
    lambda dialect: insert(history).values(
        bound_values(history, (*_HISTORY_COLUMNS, "source_value_id", "connection_id"))
    )
)


def _advance_current(dialect: str) -> Any:
    upsert = dialect_insert(dialect, current).values(bound_values(current, _CURRENT_COLUMNS))
    return upsert.on_conflict_do_update(
        index_elements=["variable_id", "learner_id", "run_key"],
        set_={
            "value_id": upsert.excluded.value_id,
            "value": upsert.excluded.value,
            "value_number": upsert.excluded.value_number,
            "recorded_at": upsert.excluded.recorded_at,
        },
        where=current.c.recorded_at <= upsert.excluded.recorded_at,
    )


ADVANCE_CURRENT = Prepared(_advance_current)


def history_row(org_id: uuid.UUID, new: NewValue, at: datetime) -> dict[str, Any]:
    """A new value's history row (a new id, recorded `at`)."""
    return {"id": uuid.uuid4(), "org_id": org_id, "variable_id": new.variable_id, "learner_id": new.learner_id,
            "course_run_id": new.course_run_id, "value": new.value, "value_number": new.value_number,
            "recorded_at": at, "recorded_by_key_id": new.recorded_by_key_id,
            "recorded_by_user": new.recorded_by_user}  # fmt: skip


def current_row(org_id: uuid.UUID, new: NewValue, recorded: dict[str, Any]) -> dict[str, Any]:
    """The current-value row of a new value whose history row is `recorded`."""
    return {"variable_id": new.variable_id, "learner_id": new.learner_id, "run_key": new.course_run_id or NIL_UUID,
            "org_id": org_id, "course_run_id": new.course_run_id, "value_id": recorded["id"], "value": new.value,
            "value_number": new.value_number, "recorded_at": recorded["recorded_at"]}  # fmt: skip


async def record_value(conn: Source, org_id: uuid.UUID, new_value: NewValue) -> dict[str, Any]:
    """Appends to the history and moves the current value forward, in the caller's transaction.

    The current row only moves to a newer timestamp, so concurrent writers converge on the latest write
    whatever order their upserts land in.
    """
    runner = as_runner(conn)
    row = history_row(org_id, new_value, utcnow())
    await runner.execute(RECORD, **row)
    await runner.execute(ADVANCE_CURRENT, **current_row(org_id, new_value, row))
    return row


@dataclass(slots=True)
class Carried:
    """A value a connection carries from a source value into its target variable."""

    value: NewValue
    source_value_id: uuid.UUID
    connection_id: uuid.UUID


async def record_carried(
    conn: Source, org_id: uuid.UUID, carried: Sequence[Carried], at: datetime
) -> list[dict[str, Any]]:
    """`record_value` for every value one source value's connections carry, each naming its origin: all the
    history rows in one batch, then all the current values in another. Each copy is recorded `at` its source's
    time, so copies order exactly as their sources do: of concurrent sets of one output, the one that ends
    current there ends current in every input it feeds."""
    runner = as_runner(conn)
    history_rows: list[dict[str, Any]] = []
    current_rows: list[dict[str, Any]] = []
    for item in carried:
        new = item.value
        row = history_row(org_id, new, at)  # a carried value has no course run (`Carried` sets none)
        row["source_value_id"], row["connection_id"] = item.source_value_id, item.connection_id
        history_rows.append(row)
        current_rows.append(current_row(org_id, new, row))
    await runner.execute_many(RECORD_CARRIED, history_rows)
    await runner.execute_many(ADVANCE_CURRENT, current_rows)
    return history_rows


def _values_page(filters: tuple[str, ...], after: bool) -> Prepared:
    """A page of recorded values, newest first, where each of `filters` (columns) equals its parameter."""

    def build(dialect: str) -> Any:
        stmt = select(*VALUE_COLUMNS).where(history.c.org_id == bindparam("org_id"))
        for column in filters:
            stmt = stmt.where(history.c[column] == bindparam(column))
        if after:  # keyset: the values older than the last one of the page before (newest first)
            stmt = stmt.where(
                tuple_(history.c.recorded_at, history.c.id)
                < tuple_(
                    bindparam("after_at", type_=history.c.recorded_at.type),
                    bindparam("after_id", type_=history.c.id.type),
                )
            )
        return (
            stmt.order_by(history.c.recorded_at.desc(), history.c.id.desc())
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )

    return Prepared(build)


# A variable's values, of every learner or one; every value of one learner.
_FILTERS: tuple[tuple[str, ...], ...] = (("variable_id",), ("variable_id", "learner_id"), ("learner_id",))
VALUES_PAGE: dict[tuple[tuple[str, ...], bool], Prepared] = {
    (filters, after): _values_page(filters, after) for filters in _FILTERS for after in (False, True)
}


async def _values(conn: Source, org_id: uuid.UUID, equal: dict[str, uuid.UUID], limit: int, offset: int,
                  after: tuple[Any, ...] | None) -> Page:  # fmt: skip
    params: dict[str, Any] = {"org_id": org_id, **equal, "limit": limit + 1, "offset": offset}
    if after is not None:
        params["after_at"], params["after_id"] = after
    rows = await as_runner(conn).rows(VALUES_PAGE[tuple(equal), after is not None], **params)
    return page_of(rows, limit, offset, order=("recorded_at", "id"))


async def list_values(
    conn: Source,
    org_id: uuid.UUID,
    variable_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    learner_id: uuid.UUID | None = None,
    after: tuple[Any, ...] | None = None,
) -> Page:
    """A page of a variable's values, newest first (`recorded_at`, then `id`), optionally of one learner and
    `after` a (recorded_at, id) position."""
    equal = (
        {"variable_id": variable_id} if learner_id is None else {"variable_id": variable_id, "learner_id": learner_id}
    )
    return await _values(conn, org_id, equal, limit, offset, after)


async def list_learner_values(
    conn: Source,
    org_id: uuid.UUID,
    learner_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
) -> Page:
    """A page of every value recorded for one learner, of any variable, newest first (`recorded_at`, then `id`)."""
    return await _values(conn, org_id, {"learner_id": learner_id}, limit, offset, after)


async def list_learner_values_in(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    learner_id: uuid.UUID,
    courses: frozenset[uuid.UUID],
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
) -> Page:
    """`list_learner_values` for a key confined to `courses`: the values of their variables only."""
    visible = select(variables.c.id).where(variables.c.org_id == org_id, variables.c.course_id.in_(courses))
    stmt = select(*VALUE_COLUMNS).where(
        history.c.org_id == org_id, history.c.learner_id == learner_id, history.c.variable_id.in_(visible)
    )
    return await fetch_page(
        conn, stmt, history, limit=limit, offset=offset, after=after, time="recorded_at", newest_first=True
    )


async def latest_values_by_variable(
    conn: AsyncConnection, org_id: uuid.UUID, variable_ids: Sequence[uuid.UUID], limit: int
) -> list[list[Row]]:
    """The newest `limit` values of each variable, in one statement (a window per variable)."""
    ranked = (
        select(
            *VALUE_COLUMNS,
            func.row_number()
            .over(
                partition_by=history.c.variable_id,
                order_by=(history.c.recorded_at.desc(), history.c.id.desc()),
            )
            .label("rank"),
        )
        .where(history.c.org_id == org_id, one_of(conn, history.c.variable_id, variable_ids))
        .subquery()
    )
    stmt = select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.variable_id, ranked.c.rank)
    return group_rows((await conn.execute(stmt)).mappings(), "variable_id", variable_ids)


CURRENT_COLUMNS = (
    current.c.value_id.label("id"),
    current.c.variable_id,
    current.c.learner_id,
    current.c.course_run_id,
    current.c.value,
    current.c.recorded_at,
    variables.c.name.label("variable_name"),
    variables.c.course_id,
    variables.c.type,
)


def _current_by_learner(of_course: bool) -> ByKeys:
    def build(dialect: str, key: Callable[[Any], ColumnElement[bool]]) -> Any:
        stmt = (
            select(*CURRENT_COLUMNS)
            .join(variables, variables.c.id == current.c.variable_id)
            .where(current.c.org_id == bindparam("org_id"), key(current.c.learner_id))
            .order_by(variables.c.name, current.c.run_key, current.c.variable_id)  # a unique order: pages never overlap
        )
        return stmt.where(variables.c.course_id == bindparam("course_id")) if of_course else stmt

    return ByKeys(build)


CURRENT_BY_LEARNER = {of_course: _current_by_learner(of_course) for of_course in (False, True)}


async def current_values_by_learner(
    conn: Source,
    org_id: uuid.UUID,
    learner_ids: Sequence[uuid.UUID],
    course_id: uuid.UUID | None = None,
) -> list[list[Row]]:
    params: dict[str, Any] = {"org_id": org_id}
    if course_id is not None:
        params["course_id"] = course_id
    rows = await CURRENT_BY_LEARNER[course_id is not None].rows(conn, learner_ids, **params)
    return group_rows(rows, "learner_id", learner_ids)


@dataclass(slots=True)
class SetTargets:
    type: str
    active: bool
    course_id: uuid.UUID | None
    learner_exists: bool
    run_course_id: uuid.UUID | None
    feeds: bool  # the variable is the source of a connection in an active pipeline


def _set_targets(with_run: bool) -> Prepared:
    def build(dialect: str) -> Any:
        org = bindparam("org_id", type_=variables.c.org_id.type)
        learner_ok = (
            select(literal(True))
            .where(learners.c.id == bindparam("learner_id"), learners.c.org_id == org)
            .scalar_subquery()
        )
        run_course = (
            select(runs.c.course_id).where(runs.c.id == bindparam("run_id"), runs.c.org_id == org).scalar_subquery()
            if with_run
            else literal(None, type_=variables.c.course_id.type)
        )
        # In the same statement, so that a set whose variable feeds nothing costs no statement more.
        feeds = exists().where(
            _connections.c.source_variable_id == variables.c.id, _connections.c.active_target.is_not(None)
        )
        return select(
            variables.c.type,
            variables.c.active,
            variables.c.course_id,
            learner_ok.label("learner_ok"),
            run_course.label("run_course_id"),
            feeds.label("feeds"),
        ).where(variables.c.id == bindparam("variable_id"), variables.c.org_id == org)

    return Prepared(build)


SET_TARGETS = {with_run: _set_targets(with_run) for with_run in (False, True)}


async def set_targets(
    conn: Source,
    org_id: uuid.UUID,
    variable_id: uuid.UUID,
    learner_id: uuid.UUID,
    run_id: uuid.UUID | None,
) -> SetTargets | None:
    """Everything a set needs to check, in one round trip; None if the variable is not the organization's."""
    params: dict[str, Any] = {"org_id": org_id, "variable_id": variable_id, "learner_id": learner_id}
    if run_id is not None:
        params["run_id"] = run_id
    rows = await as_runner(conn).rows(SET_TARGETS[run_id is not None], **params)
    if not rows:
        return None
    row = rows[0]
    return SetTargets(
        type=row["type"],
        active=row["active"],
        course_id=row["course_id"],
        learner_exists=bool(row["learner_ok"]),
        run_course_id=row["run_course_id"],
        feeds=bool(row["feeds"]),
    )


_PROVENANCE_COLUMNS = (*VALUE_COLUMNS, history.c.source_value_id, history.c.connection_id)
_VALUES_BY_ID = ByKeys(
    lambda dialect, key: select(*_PROVENANCE_COLUMNS).where(history.c.org_id == bindparam("org_id"), key(history.c.id))
)
_CARRIED_FROM = ByKeys(
    lambda dialect, key: (
        select(*_PROVENANCE_COLUMNS)
        .where(history.c.org_id == bindparam("org_id"), key(history.c.source_value_id))
        .order_by(history.c.recorded_at, history.c.id)
    )
)


async def get_values(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    """Recorded values by id, each with its provenance (null for a value recorded directly)."""
    found = {row["id"]: row for row in await _VALUES_BY_ID.rows(conn, ids, org_id=org_id)}
    return [found.get(i) for i in ids]


async def carried_from(conn: Source, org_id: uuid.UUID, source_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    """The values connections recorded from each source value, oldest first."""
    return group_rows(await _CARRIED_FROM.rows(conn, source_ids, org_id=org_id), "source_value_id", source_ids)


# --- compare-and-set ---

_CLAIM_CURRENT = Prepared(
    lambda dialect: (
        dialect_insert(dialect, current)
        .values(bound_values(current, _CURRENT_COLUMNS))
        .on_conflict_do_nothing(index_elements=["variable_id", "learner_id", "run_key"])
        .returning(current.c.value_id)
    )
)
_REPLACE_CURRENT = Prepared(
    lambda dialect: (
        update(current)
        .where(
            current.c.variable_id == bindparam("key_variable_id"),
            current.c.learner_id == bindparam("key_learner_id"),
            current.c.run_key == bindparam("key_run_key"),
            current.c.value_id == bindparam("expected_value_id"),
        )
        .values(bound_values(current, ("value_id", "value", "value_number", "recorded_at")))
        .returning(current.c.value_id)
    )
)


async def record_value_if_current(
    conn: Source, org_id: uuid.UUID, new_value: NewValue, expected_value_id: uuid.UUID | None
) -> dict[str, Any] | None:
    """`record_value`, only if the current value of (variable, learner, run) is `expected_value_id` (None: there is
    none yet); None, having written nothing, otherwise. The condition is part of the write itself (an UPDATE's
    WHERE, or an insert that yields to the unique key), so two writers expecting the same value cannot both win;
    the history row follows only a won current row."""
    runner = as_runner(conn)
    row = history_row(org_id, new_value, utcnow())
    new_current = current_row(org_id, new_value, row)
    if expected_value_id is None:
        won = await runner.rows(_CLAIM_CURRENT, **new_current)
    else:
        won = await runner.rows(
            _REPLACE_CURRENT,
            key_variable_id=new_current["variable_id"],
            key_learner_id=new_current["learner_id"],
            key_run_key=new_current["run_key"],
            expected_value_id=expected_value_id,
            **{name: new_current[name] for name in ("value_id", "value", "value_number", "recorded_at")},
        )
    if not won:
        return None
    await runner.execute(RECORD, **row)
    return row


_CURRENT_ONE = Prepared(
    lambda dialect: select(
        current.c.value_id.label("id"),
        current.c.variable_id,
        current.c.learner_id,
        current.c.course_run_id,
        current.c.value,
        current.c.recorded_at,
    ).where(
        current.c.org_id == bindparam("org_id"),
        current.c.variable_id == bindparam("variable_id"),
        current.c.learner_id == bindparam("learner_id"),
        current.c.run_key == bindparam("run_key"),
    )
)


async def current_value(
    conn: Source, org_id: uuid.UUID, variable_id: uuid.UUID, learner_id: uuid.UUID, run_id: uuid.UUID | None
) -> Row | None:
    """The current value of (variable, learner, run), shaped as a recorded value; None if there is none."""
    rows = await as_runner(conn).rows(
        _CURRENT_ONE, org_id=org_id, variable_id=variable_id, learner_id=learner_id, run_key=run_id or NIL_UUID
    )
    return rows[0] if rows else None


# --- batches ---


async def record_values(conn: Source, org_id: uuid.UUID, news: Sequence[NewValue]) -> list[dict[str, Any]]:
    """`record_value` for many values at once: the history rows in one batch, the current values in another (the
    last of several for one (variable, learner, run) wins, as if they had been sent one after another)."""
    now = utcnow()
    history_rows: list[dict[str, Any]] = []
    latest: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    for new in news:
        row = history_row(org_id, new, now)
        history_rows.append(row)
        new_current = current_row(org_id, new, row)
        latest[(new.variable_id, new.learner_id, new_current["run_key"])] = new_current
    runner = as_runner(conn)
    await runner.execute_many(RECORD, history_rows)
    # In key order: two batches touching the same current values lock them in the same order, never in a cycle.
    await runner.execute_many(ADVANCE_CURRENT, [latest[k] for k in sorted(latest)])
    return history_rows


@dataclass(slots=True)
class BatchTargets:
    """What a batch of sets needs to check, read in three statements whatever its size."""

    variables: dict[uuid.UUID, Row]  # id -> type, active, course_id, feeds
    learners: set[uuid.UUID]
    run_courses: dict[uuid.UUID, uuid.UUID]  # course run id -> its course


_BATCH_VARIABLES = ByKeys(
    lambda dialect, key: select(
        variables.c.id,
        variables.c.type,
        variables.c.active,
        variables.c.course_id,
        exists()
        .where(_connections.c.source_variable_id == variables.c.id, _connections.c.active_target.is_not(None))
        .label("feeds"),
    ).where(variables.c.org_id == bindparam("org_id"), key(variables.c.id))
)
_BATCH_LEARNERS = ByKeys(
    lambda dialect, key: select(learners.c.id).where(learners.c.org_id == bindparam("org_id"), key(learners.c.id))
)
_BATCH_RUNS = ByKeys(
    lambda dialect, key: select(runs.c.id, runs.c.course_id).where(runs.c.org_id == bindparam("org_id"), key(runs.c.id))
)


async def batch_targets(
    conn: Source,
    org_id: uuid.UUID,
    variable_ids: Sequence[uuid.UUID],
    learner_ids: Sequence[uuid.UUID],
    run_ids: Sequence[uuid.UUID],
) -> BatchTargets:
    found_variables = await _BATCH_VARIABLES.rows(conn, variable_ids, org_id=org_id)
    found_learners = await _BATCH_LEARNERS.rows(conn, learner_ids, org_id=org_id)
    found_runs = await _BATCH_RUNS.rows(conn, run_ids, org_id=org_id) if run_ids else []
    return BatchTargets(
        variables={row["id"]: row for row in found_variables},
        learners={row["id"] for row in found_learners},
        run_courses={row["id"]: row["course_id"] for row in found_runs},
    )
