"""Mutations of chatbots and pipelines: components, the nodes that place them, and the connections between their
variables. The rules live in `db.queries.pipelines`; a refusal is a typed error and changes nothing."""

import uuid
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection

from db import models
from db.queries import chatbots, pipelines
from db.queries.pipelines import Refused
from schema.errors import ConflictError, InvalidInputError, NotFoundError
from schema.permissions import WRITE
from schema.types import (
    Chatbot,
    ChatbotKind,
    ComponentKind,
    ConnectionCreated,
    CtxInfo,
    Pipeline,
    PipelineNode,
)
from schema.validation import validated
from schema.writes import Errors, audited, given, not_found, null_required, refusal, unique_write

CHATBOT_CONFLICT = ("a chatbot with this externalId exists", "externalId")
ChatbotPayload = Annotated[Chatbot | Errors, strawberry.union("ChatbotPayload")]
PipelinePayload = Annotated[Pipeline | Errors, strawberry.union("PipelinePayload")]
PipelineNodePayload = Annotated[PipelineNode | Errors, strawberry.union("PipelineNodePayload")]
ConnectionPayload = Annotated[ConnectionCreated | Errors, strawberry.union("ConnectionPayload")]


@strawberry.type(description="What a delete removed.")
class Deleted:
    id: uuid.UUID


DeletedPayload = Annotated[Deleted | Errors, strawberry.union("DeletedPayload")]


@strawberry.input
class ChatbotInput:
    name: str
    external_id: str | None = None
    description: str | None = None
    kind: ChatbotKind | None = None  # None: GENERAL
    active: bool = True


@strawberry.input
class ChatbotUpdateInput:
    name: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    kind: ChatbotKind | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class PipelineInput:
    name: str
    description: str | None = None
    active: bool = True


@strawberry.input
class PipelineUpdateInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class PipelineNodeInput:
    pipeline_id: uuid.UUID
    component_kind: ComponentKind
    component_id: uuid.UUID
    x: float = 0.0
    y: float = 0.0


@strawberry.input
class ConnectInput:
    pipeline_id: uuid.UUID
    source_variable_id: uuid.UUID
    target_variable_id: uuid.UUID
    backfill: bool = False


def _pipeline_fields(sent: dict[str, object]) -> dict[str, object] | InvalidInputError:
    fields = dict(sent)
    if "name" in fields:
        name = str(fields["name"] or "").strip()
        if not 1 <= len(name) <= 200:
            return InvalidInputError(message="name must be 1 to 200 characters", field="name")
        fields["name"] = name
    description = fields.get("description")
    if isinstance(description, str) and len(description) > 5000:
        return InvalidInputError(message="description is longer than 5000 characters", field="description")
    return fields


@strawberry.type
class PipelineMutation:
    # --- chatbots ---

    @strawberry.mutation(permission_classes=WRITE)
    async def create_chatbot(self, info: CtxInfo, input: ChatbotInput) -> ChatbotPayload:
        sent = given(input)
        sent["kind"] = models.ChatbotKind(input.kind.value) if input.kind else models.ChatbotKind.GENERAL
        data = validated(models.ChatbotCreate, sent)
        if isinstance(data, InvalidInputError):
            return data
        org = info.context.org_id

        async def work(conn: AsyncConnection) -> Chatbot | ConflictError:
            if data.external_id and await chatbots.external_id_taken(conn, org, data.external_id):
                return ConflictError(message=CHATBOT_CONFLICT[0], field=CHATBOT_CONFLICT[1])
            row = await chatbots.insert_chatbot(conn, org, {**data.model_dump(), "kind": data.kind.value})
            return Chatbot.from_row(row)

        return await unique_write(info, CHATBOT_CONFLICT, work)

    @strawberry.mutation(permission_classes=WRITE)
    async def update_chatbot(self, info: CtxInfo, id: uuid.UUID, input: ChatbotUpdateInput) -> ChatbotPayload:
        sent = given(input)
        if sent.get("kind") is not None:
            sent["kind"] = models.ChatbotKind(sent["kind"].value)
        data = null_required(sent, "name", "active", "kind") or validated(models.ChatbotUpdate, sent)
        if isinstance(data, InvalidInputError):
            return data
        fields = data.model_dump(include=set(sent))
        if "kind" in fields:
            fields["kind"] = fields["kind"].value
        org = info.context.org_id

        async def work(conn: AsyncConnection) -> Chatbot | ConflictError | NotFoundError:
            external_id = fields.get("external_id")
            if external_id and await chatbots.external_id_taken(conn, org, external_id, except_id=id):
                return ConflictError(message=CHATBOT_CONFLICT[0], field=CHATBOT_CONFLICT[1])
            row = await chatbots.update_chatbot(conn, org, id, fields)
            return Chatbot.from_row(row) if row else not_found("chatbot", "id")

        return await unique_write(info, CHATBOT_CONFLICT, work)

    # --- pipelines ---

    @strawberry.mutation(permission_classes=WRITE)
    async def create_pipeline(self, info: CtxInfo, input: PipelineInput) -> PipelinePayload:
        fields = _pipeline_fields(given(input))
        if isinstance(fields, InvalidInputError):
            return fields
        try:
            async with info.context.db.write() as conn:
                row = await pipelines.insert_pipeline(conn, info.context.org_id, fields)
                await audited(info, conn, "pipeline.created", "pipeline", row["id"], {"name": row["name"]})
                return Pipeline.from_row(row)
        except Refused as refused:
            return refusal(refused)

    @strawberry.mutation(permission_classes=WRITE, description="Turned back on, a pipeline takes its inputs again.")
    async def update_pipeline(self, info: CtxInfo, id: uuid.UUID, input: PipelineUpdateInput) -> PipelinePayload:
        sent = given(input)
        problem = null_required(sent, "name", "active")
        if problem:
            return problem
        fields = _pipeline_fields(sent)
        if isinstance(fields, InvalidInputError):
            return fields
        try:
            async with info.context.db.write() as conn:
                row = await pipelines.update_pipeline(conn, info.context.org_id, id, fields)
                await audited(info, conn, "pipeline.updated", "pipeline", id, fields)
                return Pipeline.from_row(row)
        except Refused as refused:
            return refusal(refused)

    @strawberry.mutation(permission_classes=WRITE, description="With its nodes and connections; values stay.")
    async def delete_pipeline(self, info: CtxInfo, id: uuid.UUID) -> DeletedPayload:
        async with info.context.db.write() as conn:
            deleted = await pipelines.delete_pipeline(conn, info.context.org_id, id)
            if deleted:
                await audited(info, conn, "pipeline.deleted", "pipeline", id)
        return Deleted(id=id) if deleted else not_found("pipeline", "id")

    @strawberry.mutation(permission_classes=WRITE, description="Places a course or a chatbot in a pipeline.")
    async def add_pipeline_node(self, info: CtxInfo, input: PipelineNodeInput) -> PipelineNodePayload:
        kind = models.ComponentKind(input.component_kind.value)
        try:
            async with info.context.db.write() as conn:
                row = await pipelines.add_node(
                    conn, info.context.org_id, input.pipeline_id, kind, input.component_id, input.x, input.y
                )
                details = {"pipeline_id": str(input.pipeline_id), "component": f"{kind.value}:{input.component_id}"}
                await audited(info, conn, "pipeline.node_added", "pipeline_node", row["id"], details)
        except Refused as refused:
            return refusal(refused)
        return PipelineNode.from_row(row)

    @strawberry.mutation(permission_classes=WRITE, description="Where the editor draws a node.")
    async def move_pipeline_node(self, info: CtxInfo, id: uuid.UUID, x: float, y: float) -> PipelineNodePayload:
        try:
            async with info.context.db.write() as conn:
                return PipelineNode.from_row(await pipelines.move_node(conn, info.context.org_id, id, x, y))
        except Refused as refused:
            return refusal(refused)

    @strawberry.mutation(permission_classes=WRITE, description="With every connection to or from its variables.")
    async def remove_pipeline_node(
        self, info: CtxInfo, id: uuid.UUID, pipeline_id: uuid.UUID | None = None
    ) -> DeletedPayload:
        try:
            async with info.context.db.write() as conn:
                await pipelines.remove_node(conn, info.context.org_id, id, pipeline_id)
                await audited(info, conn, "pipeline.node_removed", "pipeline_node", id)
        except Refused as refused:
            return refusal(refused)
        return Deleted(id=id)

    @strawberry.mutation(
        permission_classes=WRITE,
        description="Connects an output variable to an input variable; with `backfill`, copies the output's current "
        "values to every learner whose input value is older or missing.",
    )
    async def connect_variables(self, info: CtxInfo, input: ConnectInput) -> ConnectionPayload:
        ctx = info.context
        try:
            async with ctx.db.write() as conn:
                done = await pipelines.connect(
                    conn,
                    ctx.org_id,
                    input.pipeline_id,
                    input.source_variable_id,
                    input.target_variable_id,
                    backfill=input.backfill,
                    recorded_by_key_id=ctx.key.key_id if ctx.key else None,
                    recorded_by_user=ctx.user.user_id if ctx.user else None,
                )
                details = {
                    "pipeline_id": str(input.pipeline_id),
                    "source_variable_id": str(input.source_variable_id),
                    "target_variable_id": str(input.target_variable_id),
                    "backfilled": done.backfilled,
                }
                await audited(info, conn, "pipeline.connected", "pipeline_connection", done.row["id"], details)
        except Refused as refused:
            return refusal(refused)
        row = done.row
        return ConnectionCreated(
            id=row["id"],
            pipeline_id=row["pipeline_id"],
            source_variable_id=row["source_variable_id"],
            target_variable_id=row["target_variable_id"],
            created_at=row["created_at"],
            backfilled=done.backfilled,
        )

    @strawberry.mutation(permission_classes=WRITE, description="Values the connection carried stay.")
    async def disconnect_variables(
        self, info: CtxInfo, id: uuid.UUID, pipeline_id: uuid.UUID | None = None
    ) -> DeletedPayload:
        try:
            async with info.context.db.write() as conn:
                await pipelines.disconnect(conn, info.context.org_id, id, pipeline_id)
                await audited(info, conn, "pipeline.disconnected", "pipeline_connection", id)
        except Refused as refused:
            return refusal(refused)
        return Deleted(id=id)
