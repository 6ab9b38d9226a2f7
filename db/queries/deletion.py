"""Deleting data and erasing a learner, each in the caller's transaction.

A course, run, variable or chatbot that has recorded values is refused (`Refused("conflict")`) unless `force`: then
its values go with it. The foreign keys cascade from the deleted row to its variables, values, current values,
enrolments and connections; pipeline nodes name their component without a foreign key, so they are deleted here.
The row is locked first, so a value written meanwhile either commits before the check sees it or waits and fails.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.idempotency import keys as idempotency_keys
from db.models import ComponentKind
from db.queries.chatbots import chatbots
from db.queries.courses import courses, runs
from db.queries.learners import learners
from db.queries.pipelines import Refused, nodes
from db.queries.values import history
from db.queries.variables import variables


async def _lock(conn: AsyncConnection, table: Any, org_id: uuid.UUID, row_id: uuid.UUID, what: str) -> None:
    found = await conn.execute(
        select(table.c.id).where(table.c.org_id == org_id, table.c.id == row_id).with_for_update()
    )
    if found.first() is None:
        raise Refused("not_found", f"{what} not found", "id")


async def _refuse_if_recorded(conn: AsyncConnection, condition: Any, what: str, force: bool) -> None:
    if not force and (await conn.execute(select(exists().where(condition)))).scalar():
        raise Refused("conflict", f"the {what} has recorded values: delete with force to delete them too", "force")


async def delete_component(
    conn: AsyncConnection, org_id: uuid.UUID, kind: ComponentKind, component_id: uuid.UUID, force: bool
) -> None:
    """A course (with its runs) or a chatbot, with its variables, their values and its places in pipelines."""
    table, owner = (
        (courses, variables.c.course_id) if kind is ComponentKind.COURSE else (chatbots, variables.c.chatbot_id)
    )
    await _lock(conn, table, org_id, component_id, kind.value)
    owned = select(variables.c.id).where(variables.c.org_id == org_id, owner == component_id)
    await _refuse_if_recorded(conn, history.c.variable_id.in_(owned), kind.value, force)
    await conn.execute(
        delete(nodes).where(
            nodes.c.org_id == org_id, nodes.c.component_kind == kind, nodes.c.component_id == component_id
        )
    )
    await conn.execute(delete(table).where(table.c.org_id == org_id, table.c.id == component_id))


async def delete_run(conn: AsyncConnection, org_id: uuid.UUID, run_id: uuid.UUID, force: bool) -> None:
    """A course run, with the values recorded in it and the enrolments in it."""
    await _lock(conn, runs, org_id, run_id, "course run")
    await _refuse_if_recorded(conn, history.c.course_run_id == run_id, "course run", force)
    await conn.execute(delete(runs).where(runs.c.org_id == org_id, runs.c.id == run_id))


async def delete_variable(conn: AsyncConnection, org_id: uuid.UUID, variable_id: uuid.UUID, force: bool) -> None:
    """A variable, with its values and the connections to and from it."""
    await _lock(conn, variables, org_id, variable_id, "variable")
    await _refuse_if_recorded(conn, history.c.variable_id == variable_id, "variable", force)
    await conn.execute(delete(variables).where(variables.c.org_id == org_id, variables.c.id == variable_id))


async def erase_learner(conn: AsyncConnection, org_id: uuid.UUID, learner_id: uuid.UUID) -> bool:
    """Every trace of a learner: the row, and by cascade their values (history and current, carried copies
    included, since they are the learner's too) and enrolments; and the stored answers of idempotent requests
    that named them, answered or not yet (an answer stored later then finds no claim). False when there is no such
    learner in the organization. A write racing the erasure either commits first (and its rows go by cascade) or
    meets the deleted row and is answered 404 (`schema.value_mutations`)."""
    gone = await conn.execute(delete(learners).where(learners.c.org_id == org_id, learners.c.id == learner_id))
    if not gone.rowcount:
        return False
    named = str(learner_id)
    await conn.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.org_id == org_id,
            or_(idempotency_keys.c.response.contains(named), idempotency_keys.c.learner_ids.contains(named)),
        )
    )
    return True
