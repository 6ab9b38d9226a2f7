"""Recorded values: the append-only history and the current value per (variable, learner, course run)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, literal, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import CurrentValue, VariableValue
from db.queries.common import Page, dialect_insert, fetch_page, group_rows, one_of, table
from db.queries.courses import runs
from db.queries.learners import learners
from db.queries.variables import variables
from db.types import NIL_UUID, utcnow

history = table(VariableValue)
current = table(CurrentValue)

VALUE_COLUMNS = (
    history.c.id,
    history.c.variable_id,
    history.c.learner_id,
    history.c.course_run_id,
    history.c.value,
    history.c.recorded_at,
)


@dataclass(frozen=True)
class NewValue:
    variable_id: uuid.UUID
    learner_id: uuid.UUID
    course_run_id: uuid.UUID | None
    value: Any
    value_number: float | None
    recorded_by_key_id: uuid.UUID | None = None
    recorded_by_user: str | None = None


async def record_value(conn: AsyncConnection, org_id: uuid.UUID, new: NewValue) -> dict[str, Any]:
    """Appends to the history and moves the current value forward, in the caller's transaction.

    The current row only moves to a newer timestamp, so concurrent writers converge on the latest write
    whatever order their upserts land in.
    """
    row = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "variable_id": new.variable_id,
        "learner_id": new.learner_id,
        "course_run_id": new.course_run_id,
        "value": new.value,
        "value_number": new.value_number,
        "recorded_at": utcnow(),
        "recorded_by_key_id": new.recorded_by_key_id,
        "recorded_by_user": new.recorded_by_user,
    }
    await conn.execute(insert(history).values(row))
    upsert = dialect_insert(conn, current).values(
        variable_id=new.variable_id,
        learner_id=new.learner_id,
        run_key=new.course_run_id or NIL_UUID,
        org_id=org_id,
        course_run_id=new.course_run_id,
        value_id=row["id"],
        value=new.value,
        value_number=new.value_number,
        recorded_at=row["recorded_at"],
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=["variable_id", "learner_id", "run_key"],
        set_={
            "value_id": upsert.excluded.value_id,
            "value": upsert.excluded.value,
            "value_number": upsert.excluded.value_number,
            "recorded_at": upsert.excluded.recorded_at,
        },
        where=current.c.recorded_at <= upsert.excluded.recorded_at,
    )
    await conn.execute(upsert)
    return row


async def list_values(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    variable_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    learner_id: uuid.UUID | None = None,
) -> Page:
    stmt = select(*VALUE_COLUMNS).where(history.c.org_id == org_id, history.c.variable_id == variable_id)
    if learner_id is not None:
        stmt = stmt.where(history.c.learner_id == learner_id)
    stmt = stmt.order_by(history.c.recorded_at.desc(), history.c.id.desc())
    return await fetch_page(conn, stmt, limit, offset)


async def latest_values_by_variable(
    conn: AsyncConnection, org_id: uuid.UUID, variable_ids: Sequence[uuid.UUID], limit: int
) -> list[list[RowMapping]]:
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


async def current_values_by_learner(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    learner_ids: Sequence[uuid.UUID],
    course_id: uuid.UUID | None = None,
) -> list[list[RowMapping]]:
    stmt = (
        select(*CURRENT_COLUMNS)
        .join(variables, variables.c.id == current.c.variable_id)
        .where(current.c.org_id == org_id, one_of(conn, current.c.learner_id, learner_ids))
        .order_by(variables.c.name, current.c.run_key)
    )
    if course_id is not None:
        stmt = stmt.where(variables.c.course_id == course_id)
    return group_rows((await conn.execute(stmt)).mappings(), "learner_id", learner_ids)


@dataclass(frozen=True)
class SetTargets:
    type: str
    active: bool
    course_id: uuid.UUID | None
    learner_exists: bool
    run_course_id: uuid.UUID | None


async def set_targets(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    variable_id: uuid.UUID,
    learner_id: uuid.UUID,
    run_id: uuid.UUID | None,
) -> SetTargets | None:
    """Everything a set needs to check, in one round trip; None if the variable is not the organization's."""
    learner_ok = select(literal(True)).where(learners.c.id == learner_id, learners.c.org_id == org_id).scalar_subquery()
    run_course = (
        select(runs.c.course_id).where(runs.c.id == run_id, runs.c.org_id == org_id).scalar_subquery()
        if run_id is not None
        else literal(None, type_=variables.c.course_id.type)
    )
    stmt = select(
        variables.c.type,
        variables.c.active,
        variables.c.course_id,
        learner_ok.label("learner_ok"),
        run_course.label("run_course_id"),
    ).where(variables.c.id == variable_id, variables.c.org_id == org_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return SetTargets(
        type=row.type,
        active=row.active,
        course_id=row.course_id,
        learner_exists=bool(row.learner_ok),
        run_course_id=row.run_course_id,
    )
