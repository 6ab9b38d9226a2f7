"""What every mutation shares: which input fields were sent, typed errors, writes that may lose a race, and the
audit entry a change writes in its own transaction."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from access.principal import UserPrincipal
from db.queries import audit
from db.queries.pipelines import Refused
from schema.errors import ConflictError, InvalidInputError, NotFoundError
from schema.types import CtxInfo

Errors = NotFoundError | InvalidInputError | ConflictError


def given(obj: Any) -> dict[str, Any]:
    """The fields of an input that the caller actually sent (so an update can tell null from absent)."""
    return {k: v for k, v in vars(obj).items() if v is not strawberry.UNSET}


def not_found(what: str, field: str | None = None) -> NotFoundError:
    return NotFoundError(message=f"{what} not found", field=field)


def null_required(given: dict[str, Any], *fields: str) -> InvalidInputError | None:
    """An update may leave a required field out, but not set it to null."""
    for name in fields:
        if name in given and given[name] is None:
            return InvalidInputError(message=f"{name} cannot be null", field=name)
    return None


T = TypeVar("T")
COURSE_CONFLICT = ("a course with this externalId exists", "externalId")
LEARNER_CONFLICT = ("a learner with this email exists", "email")
VARIABLE_CONFLICT = ("this component already has a variable with this name", "name")


async def unique_write(
    info: CtxInfo, conflict: tuple[str, str], work: Callable[[AsyncConnection], Awaitable[T]]
) -> T | ConflictError:
    """Runs `work` in a write transaction; a unique index that another writer won first is a conflict, not a 500.

    `work` checks first (the common case, with a clear answer); the index settles races between two writers.
    """
    try:
        async with info.context.db.write() as conn:
            return await work(conn)
    except IntegrityError:
        return ConflictError(message=conflict[0], field=conflict[1])


def refusal(refused: Refused) -> NotFoundError | InvalidInputError | ConflictError:
    """The typed error for a rule the data layer enforced."""
    if refused.kind == "not_found":
        return NotFoundError(message=refused.message, field=refused.field)
    if refused.kind == "conflict":
        return ConflictError(message=refused.message, field=refused.field)
    return InvalidInputError(message=refused.message, field=refused.field)


async def audited(
    info: CtxInfo,
    conn: AsyncConnection,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Records who did `action` to the target, in the caller's transaction: the entry commits with the change."""
    principal = info.context.principal
    email = principal.email if isinstance(principal, UserPrincipal) else None
    await audit.record(
        conn, info.context.org_id, audit.Actor(principal.actor, email), action, target_type, target_id, details
    )
