"""Deleting courses, runs, variables and chatbots, and erasing a learner. The data layer (`db.queries.deletion`)
does it in one transaction; a refusal (not found, or values recorded without `force`) is a typed error and changes
nothing."""

import uuid
from collections.abc import Awaitable, Callable

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import ComponentKind
from db.queries import deletion
from db.queries.pipelines import Refused
from schema.permissions import WRITE
from schema.pipeline_mutations import Deleted, DeletedPayload
from schema.types import CtxInfo
from schema.writes import audited, not_found, refusal


async def _deleted(
    info: CtxInfo, id: uuid.UUID, what: str, force: bool, work: Callable[[AsyncConnection], Awaitable[object]]
) -> DeletedPayload:
    try:
        async with info.context.db.write() as conn:
            await work(conn)
            await audited(info, conn, f"{what}.deleted", what, id, {"force": force})
    except Refused as refused:
        return refusal(refused)
    return Deleted(id=id)


@strawberry.type
class DeletionMutation:
    @strawberry.mutation(permission_classes=WRITE, description="With its runs, variables, values and pipeline nodes.")
    async def delete_course(self, info: CtxInfo, id: uuid.UUID, force: bool = False) -> DeletedPayload:
        org = info.context.org_id
        return await _deleted(
            info, id, "course", force, lambda c: deletion.delete_component(c, org, ComponentKind.COURSE, id, force)
        )

    @strawberry.mutation(permission_classes=WRITE, description="With its values and enrolments.")
    async def delete_course_run(self, info: CtxInfo, id: uuid.UUID, force: bool = False) -> DeletedPayload:
        org = info.context.org_id
        return await _deleted(info, id, "course_run", force, lambda c: deletion.delete_run(c, org, id, force))

    @strawberry.mutation(permission_classes=WRITE, description="With its values and connections.")
    async def delete_variable(self, info: CtxInfo, id: uuid.UUID, force: bool = False) -> DeletedPayload:
        org = info.context.org_id
        return await _deleted(info, id, "variable", force, lambda c: deletion.delete_variable(c, org, id, force))

    @strawberry.mutation(permission_classes=WRITE, description="With its variables, values and pipeline nodes.")
    async def delete_chatbot(self, info: CtxInfo, id: uuid.UUID, force: bool = False) -> DeletedPayload:
        org = info.context.org_id
        return await _deleted(
            info, id, "chatbot", force, lambda c: deletion.delete_component(c, org, ComponentKind.CHATBOT, id, force)
        )

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Erases the learner irreversibly: their values (history, current and carried copies), "
        "enrolments and every stored answer that named them, in one transaction (GDPR Art. 17).",
    )
    async def erase_learner(self, info: CtxInfo, id: uuid.UUID) -> DeletedPayload:
        async with info.context.db.write() as conn:
            erased = await deletion.erase_learner(conn, info.context.org_id, id)
            if erased:  # without the learner's id: the log must not keep what erasure removed
                await audited(info, conn, "learner.erased", "learner", None)
        return Deleted(id=id) if erased else not_found("learner", "id")
