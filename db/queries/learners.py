"""Learners and their enrollments."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Enrollment, Learner
from db.prepared import Prepared, Row, Source, as_runner
from db.queries.common import (
    Page,
    bound_values,
    dialect_insert,
    fetch_by_ids,
    fetch_children,
    fetch_page,
    table,
)
from db.types import NIL_UUID, utcnow

learners = table(Learner)
enrollments = table(Enrollment)


def _like_pattern(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_learners(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    after: tuple[Any, ...] | None = None,
    search: str | None = None,
) -> Page:
    stmt = select(learners).where(learners.c.org_id == org_id)
    if search:
        pattern = _like_pattern(search)
        stmt = stmt.where(
            or_(
                learners.c.email_normalized.like(pattern, escape="\\"),
                func.lower(learners.c.name).like(pattern, escape="\\"),
            )
        )
    return await fetch_page(conn, stmt, learners, limit=limit, offset=offset, after=after)


async def get_learners(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    return await fetch_by_ids(conn, learners, org_id, ids)


async def get_learner_by_email(conn: AsyncConnection, org_id: uuid.UUID, email: str) -> RowMapping | None:
    stmt = select(learners).where(learners.c.org_id == org_id, learners.c.email_normalized == email.strip().lower())
    return (await conn.execute(stmt)).mappings().first()


async def email_taken(
    conn: AsyncConnection, org_id: uuid.UUID, email: str, *, except_id: uuid.UUID | None = None
) -> bool:
    stmt = select(learners.c.id).where(
        learners.c.org_id == org_id, learners.c.email_normalized == email.strip().lower()
    )
    if except_id is not None:
        stmt = stmt.where(learners.c.id != except_id)
    return (await conn.execute(stmt)).first() is not None


async def insert_learner(conn: AsyncConnection, org_id: uuid.UUID, fields: dict[str, Any]) -> RowMapping:
    values = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "created_at": utcnow(),
        **fields,
        "email_normalized": fields["email"].lower(),
    }
    return (await conn.execute(insert(learners).values(values).returning(learners))).mappings().one()


async def update_learner(
    conn: AsyncConnection, org_id: uuid.UUID, learner_id: uuid.UUID, fields: dict[str, Any]
) -> RowMapping | None:
    if "email" in fields:
        fields = {**fields, "email_normalized": fields["email"].lower()}
    stmt = update(learners).where(learners.c.org_id == org_id, learners.c.id == learner_id)
    if fields:
        stmt = stmt.values(fields)
    else:
        stmt = stmt.values(id=learners.c.id)
    return (await conn.execute(stmt.returning(learners))).mappings().first()


async def enrollments_by_learner(conn: Source, org_id: uuid.UUID, learner_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    return await fetch_children(conn, enrollments, org_id, "learner_id", learner_ids)


_ENROLL_COLUMNS = ("id", "org_id", "learner_id", "course_id", "course_run_id", "run_key", "enrolled_at")
ENROLL = Prepared(
    lambda dialect: (
        dialect_insert(dialect, enrollments)
        .values(bound_values(enrollments, _ENROLL_COLUMNS))
        .on_conflict_do_nothing(index_elements=["learner_id", "course_id", "run_key"])
    )
)


async def ensure_enrolled(
    conn: Source,
    org_id: uuid.UUID,
    *,
    learner_id: uuid.UUID,
    course_id: uuid.UUID,
    course_run_id: uuid.UUID | None,
) -> None:
    """Enrolls unless already enrolled; one statement, nothing read back (the hot path of every set)."""
    await as_runner(conn).execute(
        ENROLL,
        id=uuid.uuid4(),
        org_id=org_id,
        learner_id=learner_id,
        course_id=course_id,
        course_run_id=course_run_id,
        run_key=course_run_id or NIL_UUID,
        enrolled_at=utcnow(),
    )


async def ensure_enrolled_in(
    conn: Source, org_id: uuid.UUID, learner_id: uuid.UUID, course_ids: list[uuid.UUID]
) -> None:
    """`ensure_enrolled` in several courses, with no course run, in one batch."""
    await ensure_enrolled_many(conn, org_id, [(learner_id, course_id, None) for course_id in course_ids])


def _enrolment_order(enrolment: tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]) -> tuple[uuid.UUID, ...]:
    learner_id, course_id, run_id = enrolment
    return learner_id, course_id, run_id or NIL_UUID


async def ensure_enrolled_many(
    conn: Source, org_id: uuid.UUID, enrolments: Iterable[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]]
) -> None:
    """`ensure_enrolled` for each (learner, course, course run), in one batch, in key order (so concurrent batches
    take their locks in the same order)."""
    now = utcnow()
    rows = [{"id": uuid.uuid4(), "org_id": org_id, "learner_id": learner_id, "course_id": course_id,
             "course_run_id": run_id, "run_key": run_id or NIL_UUID, "enrolled_at": now}
            for learner_id, course_id, run_id in sorted(set(enrolments), key=_enrolment_order)]  # fmt: skip
    if rows:
        await as_runner(conn).execute_many(ENROLL, rows)


async def enroll(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    *,
    learner_id: uuid.UUID,
    course_id: uuid.UUID,
    course_run_id: uuid.UUID | None,
) -> RowMapping:
    """Idempotent: enrolling twice in the same course run returns the existing enrollment."""
    run_key = course_run_id or NIL_UUID
    await ensure_enrolled(conn, org_id, learner_id=learner_id, course_id=course_id, course_run_id=course_run_id)
    found = select(enrollments).where(
        enrollments.c.learner_id == learner_id,
        enrollments.c.course_id == course_id,
        enrollments.c.run_key == run_key,
    )
    return (await conn.execute(found)).mappings().one()
