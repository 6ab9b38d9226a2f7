"""Root query fields. Every one reads the caller's organization from the context; none can see another's rows."""

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from db.queries import (
    api_keys,
    audit,
    chatbots,
    courses,
    learners,
    members,
    organizations,
    pipelines,
    usage,
    values,
    variables,
)
from db.types import utcnow
from execution.rows import Rows
from schema.errors import BadInput
from schema.member_mutations import Invitation, Member, PendingInvitation, invitation, member, pending_invitation
from schema.permissions import ADMIN, DATA, InOrganization, SignedInUser
from schema.types import (
    VARIABLE_VALUE_ROWS,
    ApiKey,
    AuditEntry,
    AuditEntryPage,
    Chatbot,
    ChatbotPage,
    Course,
    CoursePage,
    CourseRun,
    CtxInfo,
    KeyUsageDay,
    Learner,
    LearnerPage,
    Organization,
    Pagination,
    Pipeline,
    PipelinePage,
    Variable,
    VariablePage,
    VariableValuePage,
    check_page,
)


def _pagination(info: CtxInfo, page: courses.Page, kind: str) -> Pagination:
    position = page.next_position
    cursor = info.context.cursors.encode(kind, position) if position is not None else None
    return Pagination(limit=page.limit, offset=page.offset, has_more=page.has_more, next_cursor=cursor)


def _after(info: CtxInfo, kind: str, cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    return info.context.cursors.time_and_id(kind, cursor)


Cursor = Annotated[
    str | None,
    strawberry.argument(description="A `pagination.nextCursor` of this list: the page after it, then `offset` on."),
]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=DATA)
    async def courses(
        self, info: CtxInfo, limit: int = 100, offset: int = 0, active: bool | None = None, cursor: Cursor = None
    ) -> CoursePage:
        check_page(limit, offset)
        after = _after(info, "courses", cursor)
        async with info.context.db.read() as conn:
            page = await courses.list_courses(
                conn,
                info.context.org_id,
                limit=limit,
                offset=offset,
                active=active,
                after=after,
                only=info.context.confined,
            )
        return CoursePage(data=[Course.from_row(r) for r in page.rows], pagination=_pagination(info, page, "courses"))

    @strawberry.field(permission_classes=DATA)
    async def course(self, info: CtxInfo, id: uuid.UUID) -> Course | None:
        row = await info.context.loaders.course.load(id)
        return Course.from_row(row) if row and info.context.sees_course(row["id"]) else None

    @strawberry.field(permission_classes=DATA)
    async def course_by_external_id(self, info: CtxInfo, external_id: str) -> Course | None:
        async with info.context.db.read() as conn:
            row = await courses.get_course_by_external_id(conn, info.context.org_id, external_id)
        return Course.from_row(row) if row and info.context.sees_course(row["id"]) else None

    @strawberry.field(permission_classes=DATA)
    async def course_run(self, info: CtxInfo, id: uuid.UUID) -> CourseRun | None:
        row = await info.context.loaders.course_run.load(id)
        return CourseRun.from_row(row) if row and info.context.sees_course(row["course_id"]) else None

    @strawberry.field(permission_classes=DATA)
    async def chatbots(
        self, info: CtxInfo, limit: int = 100, offset: int = 0, active: bool | None = None, cursor: Cursor = None
    ) -> ChatbotPage:
        check_page(limit, offset)
        after = _after(info, "chatbots", cursor)
        if info.context.confined is not None:  # a key confined to courses sees no chatbot
            return ChatbotPage(data=[], pagination=Pagination(limit=limit, offset=offset, has_more=False))
        async with info.context.db.read() as conn:
            page = await chatbots.list_chatbots(
                conn, info.context.org_id, limit=limit, offset=offset, active=active, after=after
            )
        data = [Chatbot.from_row(r) for r in page.rows]
        return ChatbotPage(data=data, pagination=_pagination(info, page, "chatbots"))

    @strawberry.field(permission_classes=DATA)
    async def chatbot(self, info: CtxInfo, id: uuid.UUID) -> Chatbot | None:
        row = await info.context.loaders.chatbot.load(id)
        return Chatbot.from_row(row) if row and info.context.confined is None else None

    @strawberry.field(permission_classes=DATA)
    async def chatbot_by_external_id(self, info: CtxInfo, external_id: str) -> Chatbot | None:
        async with info.context.db.read() as conn:
            row = await chatbots.get_chatbot_by_external_id(conn, info.context.org_id, external_id)
        return Chatbot.from_row(row) if row and info.context.confined is None else None

    @strawberry.field(permission_classes=DATA)
    async def pipelines(self, info: CtxInfo, limit: int = 100, offset: int = 0, cursor: Cursor = None) -> PipelinePage:
        check_page(limit, offset)
        after = _after(info, "pipelines", cursor)
        if info.context.confined is not None:  # nor any pipeline
            return PipelinePage(data=[], pagination=Pagination(limit=limit, offset=offset, has_more=False))
        async with info.context.db.read() as conn:
            page = await pipelines.list_pipelines(conn, info.context.org_id, limit=limit, offset=offset, after=after)
        data = [Pipeline.from_row(r) for r in page.rows]
        return PipelinePage(data=data, pagination=_pagination(info, page, "pipelines"))

    @strawberry.field(permission_classes=DATA)
    async def pipeline(self, info: CtxInfo, id: uuid.UUID) -> Pipeline | None:
        async with info.context.db.runner() as conn:
            row = (await pipelines.get_pipelines(conn, info.context.org_id, [id]))[0]
        return Pipeline.from_row(row) if row and info.context.confined is None else None

    @strawberry.field(permission_classes=DATA, description="Learners; `search` matches name or email, any case.")
    async def learners(
        self, info: CtxInfo, limit: int = 100, offset: int = 0, search: str | None = None, cursor: Cursor = None
    ) -> LearnerPage:
        check_page(limit, offset)
        after = _after(info, "learners", cursor)
        async with info.context.db.read() as conn:
            page = await learners.list_learners(
                conn, info.context.org_id, limit=limit, offset=offset, search=search, after=after
            )
        data = [Learner.from_row(r) for r in page.rows]
        return LearnerPage(data=data, pagination=_pagination(info, page, "learners"))

    @strawberry.field(permission_classes=DATA)
    async def learner(self, info: CtxInfo, id: uuid.UUID) -> Learner | None:
        row = await info.context.loaders.learner.load(id)
        return Learner.from_row(row) if row else None

    @strawberry.field(permission_classes=DATA)
    async def learner_by_email(self, info: CtxInfo, email: str) -> Learner | None:
        async with info.context.db.read() as conn:
            row = await learners.get_learner_by_email(conn, info.context.org_id, email)
        return Learner.from_row(row) if row else None

    @strawberry.field(permission_classes=DATA)
    async def variables(
        self,
        info: CtxInfo,
        course_id: uuid.UUID | None = None,
        active: bool | None = None,
        limit: int = 100,
        offset: int = 0,
        chatbot_id: uuid.UUID | None = None,
        cursor: Cursor = None,
    ) -> VariablePage:
        check_page(limit, offset)
        after = _after(info, "variables", cursor)
        async with info.context.db.read() as conn:
            page = await variables.list_variables(
                conn,
                info.context.org_id,
                limit=limit,
                offset=offset,
                course_id=course_id,
                chatbot_id=chatbot_id,
                active=active,
                after=after,
                only_courses=info.context.confined,
            )
        data = [Variable.from_row(r) for r in page.rows]
        return VariablePage(data=data, pagination=_pagination(info, page, "variables"))

    @strawberry.field(permission_classes=DATA)
    async def variable(self, info: CtxInfo, id: uuid.UUID) -> Variable | None:
        row = await info.context.loaders.variable.load(id)
        return Variable.from_row(row) if row and info.context.sees_course(row["course_id"]) else None

    @strawberry.field(permission_classes=DATA, description="Recorded values, newest first; null if no such variable.")
    async def variable_values(
        self,
        info: CtxInfo,
        variable_id: uuid.UUID,
        learner_id: uuid.UUID | None = None,
        limit: int = 100,
        offset: int = 0,
        cursor: Cursor = None,
    ) -> VariableValuePage | None:
        check_page(limit, offset)
        after = _after(info, "values", cursor)
        variable = await info.context.loaders.variable.load(variable_id)
        if variable is None or not info.context.sees_course(variable["course_id"]):
            return None
        async with info.context.db.runner() as conn:
            page = await values.list_values(
                conn, info.context.org_id, variable_id, limit=limit, offset=offset, learner_id=learner_id, after=after
            )
        pagination = _pagination(info, page, "values")
        return VariableValuePage(data=Rows(VARIABLE_VALUE_ROWS, page.rows), pagination=pagination)

    @strawberry.field(
        permission_classes=DATA,
        description="Every value recorded for a learner, of any variable, newest first; null if no such learner.",
    )
    async def learner_values(
        self, info: CtxInfo, learner_id: uuid.UUID, limit: int = 100, offset: int = 0, cursor: Cursor = None
    ) -> VariableValuePage | None:
        check_page(limit, offset)
        after = _after(info, "learner-values", cursor)
        if await info.context.loaders.learner.load(learner_id) is None:
            return None
        confined = info.context.confined
        if confined is None:
            async with info.context.db.runner() as conn:
                page = await values.list_learner_values(
                    conn, info.context.org_id, learner_id, limit=limit, offset=offset, after=after
                )
        else:
            async with info.context.db.read() as conn:
                page = await values.list_learner_values_in(
                    conn, info.context.org_id, learner_id, confined, limit=limit, offset=offset, after=after
                )
        pagination = _pagination(info, page, "learner-values")
        return VariableValuePage(data=Rows(VARIABLE_VALUE_ROWS, page.rows), pagination=pagination)

    @strawberry.field(permission_classes=[SignedInUser, InOrganization], description="Oldest first.")
    async def members(self, info: CtxInfo) -> list[Member]:
        async with info.context.db.read() as conn:
            return [member(r) for r in await members.list_members(conn, info.context.org_id)]

    @strawberry.field(permission_classes=ADMIN, description="Not yet accepted and not expired, newest first.")
    async def invitations(self, info: CtxInfo) -> list[Invitation]:
        async with info.context.db.read() as conn:
            return [invitation(r) for r in await members.list_invitations(conn, info.context.org_id)]

    @strawberry.field(permission_classes=ADMIN, description="Requests and 429s per UTC day, oldest first.")
    async def api_key_usage(self, info: CtxInfo, id: uuid.UUID, days: int = 30) -> list[KeyUsageDay] | None:
        if not 1 <= days <= 90:
            raise BadInput("days must be between 1 and 90")
        await info.context.flush_usage()  # this process's latest counts first
        async with info.context.db.read() as conn:
            if not await api_keys.exists(conn, info.context.org_id, id):
                return None
            rows = await usage.daily(conn, id, utcnow().date(), days)
        return [KeyUsageDay(day=d, requests=r, rate_limited=limited) for d, r, limited in rows]

    @strawberry.field(permission_classes=ADMIN, description="Changes of keys, pipelines and data, newest first.")
    async def audit_log(
        self, info: CtxInfo, limit: int = 100, offset: int = 0, cursor: Cursor = None
    ) -> AuditEntryPage:
        check_page(limit, offset)
        after = _after(info, "audit_log", cursor)
        async with info.context.db.read() as conn:
            page = await audit.list_entries(conn, info.context.org_id, limit=limit, offset=offset, after=after)
        data = [AuditEntry.from_row(r) for r in page.rows]
        return AuditEntryPage(data=data, pagination=_pagination(info, page, "audit_log"))

    @strawberry.field(permission_classes=ADMIN)
    async def api_keys(self, info: CtxInfo) -> list[ApiKey]:
        async with info.context.db.read() as conn:
            rows = await api_keys.list_keys(conn, info.context.org_id)
        return [ApiKey.from_row(r) for r in rows]

    @strawberry.field(
        permission_classes=[SignedInUser],
        description="Invitations of the signed-in person's email that wait for them (`acceptInvitation`).",
    )
    async def my_invitations(self, info: CtxInfo) -> list[PendingInvitation]:
        user = info.context.user
        if user is None or user.email is None:
            return []
        async with info.context.db.read() as conn:
            return [pending_invitation(r) for r in await members.pending_for(conn, user.email)]

    @strawberry.field(description="The organizations the signed-in user belongs to; an API key sees its own.")
    async def organizations(self, info: CtxInfo) -> list[Organization]:
        principal = info.context.principal
        async with info.context.db.read() as conn:
            if info.context.user is not None:
                mine = await organizations.memberships(conn, info.context.user.user_id)
                rows = await organizations.get_organizations(conn, [m["org_id"] for m in mine])
                return [Organization.from_row(r, m["role"]) for r, m in zip(rows, mine, strict=True) if r]
            rows = await organizations.get_organizations(conn, [principal.org_id] if principal.org_id else [])
        return [Organization.from_row(r) for r in rows if r]
