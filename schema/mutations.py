"""Root mutations. Each returns its object or a typed error from `schema.errors`; an error means nothing changed."""

import enum
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON

from access import keys
from db import models
from db.queries import api_keys, chatbots, courses, learners, organizations, pipelines, variables
from db.types import NIL_UUID, utcnow
from schema.deletion_mutations import DeletionMutation
from schema.errors import ConflictError, InvalidInputError, NotFoundError
from schema.member_mutations import MemberMutation
from schema.permissions import ADMIN, WRITE, SignedInUser
from schema.pipeline_mutations import PipelineMutation
from schema.types import (
    ApiKey,
    ApiKeyCreated,
    Course,
    CourseRun,
    CtxInfo,
    Enrollment,
    Learner,
    Organization,
    Variable,
    VariableDirection,
    VariableType,
)
from schema.validation import ValueRejected, coerce_value, validated
from schema.value_mutations import ValueMutation
from schema.writes import (
    COURSE_CONFLICT,
    LEARNER_CONFLICT,
    VARIABLE_CONFLICT,
    audited,
    given,
    not_found,
    null_required,
    unique_write,
)

Errors = NotFoundError | InvalidInputError | ConflictError
CoursePayload = Annotated[Course | Errors, strawberry.union("CoursePayload")]
CourseRunPayload = Annotated[CourseRun | Errors, strawberry.union("CourseRunPayload")]
LearnerPayload = Annotated[Learner | Errors, strawberry.union("LearnerPayload")]
EnrollmentPayload = Annotated[Enrollment | Errors, strawberry.union("EnrollmentPayload")]
VariablePayload = Annotated[Variable | Errors, strawberry.union("VariablePayload")]
ApiKeyCreatedPayload = Annotated[ApiKeyCreated | Errors, strawberry.union("ApiKeyCreatedPayload")]
ApiKeyPayload = Annotated[ApiKey | Errors, strawberry.union("ApiKeyPayload")]
OrganizationPayload = Annotated[Organization | Errors, strawberry.union("OrganizationPayload")]


@strawberry.input
class CourseInput:
    name: str
    external_id: str | None = None
    description: str | None = None
    active: bool = True


@strawberry.input
class CourseUpdateInput:
    name: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class CourseRunInput:
    course_id: uuid.UUID
    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@strawberry.input
class LearnerInput:
    email: str
    name: str | None = None
    external_id: str | None = None


@strawberry.input
class LearnerUpdateInput:
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET


@strawberry.input
class EnrollmentInput:
    learner_id: uuid.UUID
    course_id: uuid.UUID
    course_run_id: uuid.UUID | None = None


@strawberry.input(description="A variable of a course, of a chatbot, or (neither given) of the organization.")
class VariableInput:
    name: str
    type: VariableType
    course_id: uuid.UUID | None = None
    chatbot_id: uuid.UUID | None = None
    direction: VariableDirection | None = None  # None: STATE
    description: str | None = None
    active: bool = True
    default_value: JSON | None = None


@strawberry.input
class VariableUpdateInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    default_value: JSON | None = strawberry.UNSET
    direction: VariableDirection | None = strawberry.UNSET


MAX_GRACE_SECONDS = 30 * 86400  # a rolled key's old secret works for at most 30 days


@strawberry.enum(description="READ: queries only. WRITE: queries and value writes (setVariable, setVariables).")
class ApiKeyScope(enum.Enum):
    READ = "read"
    WRITE = "write"


@strawberry.input
class ApiKeyInput:
    name: str
    expires_at: datetime | None = None
    scope: ApiKeyScope | None = strawberry.field(default=None, description="Null: full access.")
    course_ids: list[uuid.UUID] | None = strawberry.field(
        default=None,
        description="Confines the key to these courses: their variables and values, learners' values in them; "
        "every other course, chatbot and pipeline is not found. Null: every course.",
    )


def _check_default(kind: models.VariableType, default: Any) -> tuple[Any, InvalidInputError | None]:
    if default is None:
        return None, None
    try:
        return coerce_value(kind, default)[0], None
    except ValueRejected as exc:
        return None, InvalidInputError(message=f"defaultValue: {exc}", field="defaultValue")


@strawberry.type
class Mutation(ValueMutation, PipelineMutation, DeletionMutation, MemberMutation):
    @strawberry.mutation(permission_classes=[SignedInUser])
    async def create_organization(self, info: CtxInfo, name: str) -> OrganizationPayload:
        name = name.strip()
        if not 1 <= len(name) <= 200:
            return InvalidInputError(message="name must be 1 to 200 characters", field="name")
        user = info.context.user
        assert user is not None
        async with info.context.db.write() as conn:
            row = await organizations.create_organization(
                conn, name, owner_user_id=user.user_id, owner_email=user.email or ""
            )
        return Organization.from_row(row, models.Role.OWNER.value)

    # --- courses ---

    @strawberry.mutation(permission_classes=WRITE)
    async def create_course(self, info: CtxInfo, input: CourseInput) -> CoursePayload:
        data = validated(models.CourseCreate, given(input))
        if isinstance(data, InvalidInputError):
            return data
        org = info.context.org_id

        async def work(conn: AsyncConnection) -> Course | ConflictError:
            if data.external_id and await courses.external_id_taken(conn, org, data.external_id):
                return ConflictError(message=COURSE_CONFLICT[0], field=COURSE_CONFLICT[1])
            return Course.from_row(await courses.insert_course(conn, org, data.model_dump()))

        return await unique_write(info, COURSE_CONFLICT, work)

    @strawberry.mutation(permission_classes=WRITE)
    async def update_course(self, info: CtxInfo, id: uuid.UUID, input: CourseUpdateInput) -> CoursePayload:
        sent = given(input)
        data = null_required(sent, "name", "active") or validated(models.CourseUpdate, sent)
        if isinstance(data, InvalidInputError):
            return data
        org = info.context.org_id
        fields = data.model_dump(include=set(sent))

        async def work(conn: AsyncConnection) -> Course | ConflictError | NotFoundError:
            external_id = fields.get("external_id")
            if external_id and await courses.external_id_taken(conn, org, external_id, except_id=id):
                return ConflictError(message=COURSE_CONFLICT[0], field=COURSE_CONFLICT[1])
            row = await courses.update_course(conn, org, id, fields)
            return Course.from_row(row) if row else not_found("course", "id")

        return await unique_write(info, COURSE_CONFLICT, work)

    @strawberry.mutation(permission_classes=WRITE)
    async def create_course_run(self, info: CtxInfo, input: CourseRunInput) -> CourseRunPayload:
        data = validated(models.CourseRunCreate, given(input))
        if isinstance(data, InvalidInputError):
            return data
        if data.starts_at and data.ends_at and data.ends_at < data.starts_at:
            return InvalidInputError(message="endsAt is before startsAt", field="endsAt")
        org = info.context.org_id
        async with info.context.db.write() as conn:
            if (await courses.get_courses(conn, org, [data.course_id]))[0] is None:
                return not_found("course", "courseId")
            row = await courses.insert_run(conn, org, data.model_dump())
        return CourseRun.from_row(row)

    # --- learners ---

    @strawberry.mutation(permission_classes=WRITE)
    async def create_learner(self, info: CtxInfo, input: LearnerInput) -> LearnerPayload:
        data = validated(models.LearnerCreate, given(input))
        if isinstance(data, InvalidInputError):
            return data
        org = info.context.org_id

        async def work(conn: AsyncConnection) -> Learner | ConflictError:
            if await learners.email_taken(conn, org, data.email):
                return ConflictError(message=LEARNER_CONFLICT[0], field=LEARNER_CONFLICT[1])
            return Learner.from_row(await learners.insert_learner(conn, org, data.model_dump()))

        return await unique_write(info, LEARNER_CONFLICT, work)

    @strawberry.mutation(permission_classes=WRITE)
    async def update_learner(self, info: CtxInfo, id: uuid.UUID, input: LearnerUpdateInput) -> LearnerPayload:
        sent = given(input)
        data = null_required(sent, "email") or validated(models.LearnerUpdate, sent)
        if isinstance(data, InvalidInputError):
            return data
        org = info.context.org_id
        fields = data.model_dump(include=set(sent))

        async def work(conn: AsyncConnection) -> Learner | ConflictError | NotFoundError:
            if "email" in fields and await learners.email_taken(conn, org, fields["email"], except_id=id):
                return ConflictError(message=LEARNER_CONFLICT[0], field=LEARNER_CONFLICT[1])
            row = await learners.update_learner(conn, org, id, fields)
            return Learner.from_row(row) if row else not_found("learner", "id")

        return await unique_write(info, LEARNER_CONFLICT, work)

    @strawberry.mutation(permission_classes=WRITE)
    async def enroll_learner(self, info: CtxInfo, input: EnrollmentInput) -> EnrollmentPayload:
        org = info.context.org_id
        async with info.context.db.write() as conn:
            if (await learners.get_learners(conn, org, [input.learner_id]))[0] is None:
                return not_found("learner", "learnerId")
            if (await courses.get_courses(conn, org, [input.course_id]))[0] is None:
                return not_found("course", "courseId")
            if input.course_run_id is not None:
                run = (await courses.get_runs(conn, org, [input.course_run_id]))[0]
                if run is None:
                    return not_found("course run", "courseRunId")
                if run["course_id"] != input.course_id:
                    return InvalidInputError(message="the course run belongs to another course", field="courseRunId")
            row = await learners.enroll(
                conn, org, learner_id=input.learner_id, course_id=input.course_id, course_run_id=input.course_run_id
            )
        return Enrollment.from_row(row)

    # --- variables ---

    @strawberry.mutation(permission_classes=WRITE)
    async def create_variable(self, info: CtxInfo, input: VariableInput) -> VariablePayload:
        sent = given(input)
        sent["type"] = models.VariableType(input.type.value)
        sent["direction"] = models.Direction(input.direction.value) if input.direction else models.Direction.STATE
        data = validated(models.VariableCreate, sent)
        if isinstance(data, InvalidInputError):
            return data
        if data.course_id and data.chatbot_id:
            return InvalidInputError(
                message="a variable belongs to a course or to a chatbot, not both", field="chatbotId"
            )
        if data.direction is not models.Direction.STATE and not (data.course_id or data.chatbot_id):
            return InvalidInputError(message="an input or output belongs to a course or a chatbot", field="direction")
        default, problem = _check_default(data.type, data.default_value)
        if problem:
            return problem
        org = info.context.org_id
        fields = {
            **data.model_dump(),
            "type": data.type.value,
            "direction": data.direction.value,
            "default_value": default,
        }

        async def work(conn: AsyncConnection) -> Variable | ConflictError | NotFoundError:
            if data.course_id and (await courses.get_courses(conn, org, [data.course_id]))[0] is None:
                return not_found("course", "courseId")
            if data.chatbot_id and (await chatbots.get_chatbots(conn, org, [data.chatbot_id]))[0] is None:
                return not_found("chatbot", "chatbotId")
            if await variables.name_taken(conn, org, data.course_id or data.chatbot_id, data.name):
                return ConflictError(message=VARIABLE_CONFLICT[0], field=VARIABLE_CONFLICT[1])
            return Variable.from_row(await variables.insert_variable(conn, org, fields))

        return await unique_write(info, VARIABLE_CONFLICT, work)

    @strawberry.mutation(permission_classes=WRITE)
    async def update_variable(self, info: CtxInfo, id: uuid.UUID, input: VariableUpdateInput) -> VariablePayload:
        sent = given(input)
        direction = sent.pop("direction", None)
        data = null_required(sent, "name", "active") or validated(models.VariableUpdate, sent)
        if isinstance(data, InvalidInputError):
            return data
        fields = data.model_dump(include=set(sent))
        if direction is not None:
            fields["direction"] = direction.value
        org = info.context.org_id

        async def work(conn: AsyncConnection) -> Variable | ConflictError | NotFoundError | InvalidInputError:
            current = (await variables.get_variables(conn, org, [id]))[0]
            if current is None:
                return not_found("variable", "id")
            if "direction" in fields and fields["direction"] != current["direction"]:
                if fields["direction"] != models.Direction.STATE.value and current["course_key"] == NIL_UUID:
                    return InvalidInputError(
                        message="an input or output belongs to a course or a chatbot", field="direction"
                    )
                linked = (
                    await pipelines.connections_from(conn, org, [id]),
                    await pipelines.connections_into(conn, org, [id]),
                )
                if any(group[0] for group in linked):
                    return ConflictError(message="the variable is connected: disconnect it first", field="direction")
            if "default_value" in fields:
                kind = models.VariableType(current["type"])
                fields["default_value"], problem = _check_default(kind, fields["default_value"])
                if problem:
                    return problem
            if "name" in fields and await variables.name_taken(
                conn, org, current["course_id"] or current["chatbot_id"], fields["name"], except_id=id
            ):
                return ConflictError(message=VARIABLE_CONFLICT[0], field=VARIABLE_CONFLICT[1])
            row = await variables.update_variable(conn, org, id, fields)
            assert row is not None  # the row was read in this transaction
            return Variable.from_row(row)

        return await unique_write(info, VARIABLE_CONFLICT, work)

    # --- API keys ---

    @strawberry.mutation(permission_classes=ADMIN)
    async def create_api_key(self, info: CtxInfo, input: ApiKeyInput) -> ApiKeyCreatedPayload:
        name = input.name.strip()
        if not 1 <= len(name) <= 200:
            return InvalidInputError(message="name must be 1 to 200 characters", field="name")
        if input.expires_at is not None and input.expires_at <= utcnow():
            return InvalidInputError(message="expiresAt must be in the future", field="expiresAt")
        new = keys.generate()
        user = info.context.user
        confined = sorted({str(c) for c in input.course_ids}) if input.course_ids is not None else None
        if confined is not None and not 1 <= len(confined) <= 100:
            return InvalidInputError(message="courseIds must name 1 to 100 courses", field="courseIds")
        async with info.context.db.write() as conn:
            if confined is not None:
                known = await courses.existing_ids(conn, info.context.org_id, [uuid.UUID(c) for c in confined])
                if len(known) != len(confined):
                    return InvalidInputError(message="courseIds names a course that does not exist", field="courseIds")
            row = await api_keys.insert_key(
                conn,
                info.context.org_id,
                name=name,
                prefix=new.prefix,
                key_hash=new.hash,
                created_by=user.user_id if user else None,
                expires_at=input.expires_at,
                scope=input.scope.value if input.scope else None,
                course_ids=confined,
            )
            details = {"name": name, "prefix": new.prefix, "scope": row["scope"], "course_ids": confined}
            await audited(info, conn, "api_key.created", "api_key", row["id"], details)
        public = ApiKey.from_row(row)
        return ApiKeyCreated(**vars(public), key=new.secret)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="A new secret for the key's integration (same name and scope); the old one keeps working for "
        "`graceSeconds` (default 24 hours, at most 30 days), then expires.",
    )
    async def roll_api_key(self, info: CtxInfo, id: uuid.UUID, grace_seconds: int = 86400) -> ApiKeyCreatedPayload:
        if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            return InvalidInputError(
                message=f"graceSeconds must be 0 to {MAX_GRACE_SECONDS} (30 days)", field="graceSeconds"
            )
        new = keys.generate()
        user = info.context.user
        async with info.context.db.write() as conn:
            shortened = await api_keys.shorten_life(
                conn, info.context.org_id, id, utcnow() + timedelta(seconds=grace_seconds)
            )
            if shortened is None:
                return not_found("API key", "id")
            old, expires_at = shortened
            row = await api_keys.insert_key(
                conn,
                info.context.org_id,
                name=old["name"],
                prefix=new.prefix,
                key_hash=new.hash,
                created_by=user.user_id if user else None,
                expires_at=expires_at,  # an expiring key stays expiring: a roll renews the secret, not the term
                scope=old["scope"],
                course_ids=old["course_ids"],
            )
            details = {
                "name": old["name"],
                "new_key_id": str(row["id"]),
                "old_key_expires_at": old["expires_at"].isoformat(),
            }
            await audited(info, conn, "api_key.rolled", "api_key", id, details)
        info.context.forget_key(id)  # this process sees the old key's new expiry at once
        return ApiKeyCreated(**vars(ApiKey.from_row(row)), key=new.secret)

    @strawberry.mutation(permission_classes=ADMIN)
    async def revoke_api_key(self, info: CtxInfo, id: uuid.UUID) -> ApiKeyPayload:
        async with info.context.db.write() as conn:
            row = await api_keys.revoke_key(conn, info.context.org_id, id)
            if row is not None:
                await audited(info, conn, "api_key.revoked", "api_key", id, {"name": row["name"]})
        if row is None:
            return not_found("API key", "id")
        info.context.forget_key(row["id"])
        return ApiKey.from_row(row)
