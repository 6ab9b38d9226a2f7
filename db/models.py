"""SQLModel tables and their families (`Base` → table, `Create`, `Update`).

Every row carries `org_id`, and every query in `db/queries` filters by it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from pydantic import field_validator
from sqlalchemy import Column, Index, String, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from db.types import NIL_UUID, JSONValue, UTCDateTime, utcnow


def _id() -> uuid.UUID:
    return uuid.uuid4()


def _time(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _opt_time(**kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kw)


class VariableType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"


class Direction(enum.StrEnum):
    """Which end of a pipeline connection a variable can be: a component reads its inputs and writes its outputs."""

    INPUT = "input"
    OUTPUT = "output"
    STATE = "state"


class ChatbotKind(enum.StrEnum):
    CODE_ASSISTANT = "code_assistant"
    EDUCATION = "education"
    GENERAL = "general"
    SPECIALIZED = "specialized"


class ComponentKind(enum.StrEnum):
    COURSE = "course"
    CHATBOT = "chatbot"


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


# --- organizations and people ---


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = _time()
    # The organization `coursepipeline quickstart` loaded: the API docs take their examples from it alone.
    is_demo: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class OrganizationMember(SQLModel, table=True):
    __tablename__ = "organization_members"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    user_id: str = Field(max_length=200, index=True)
    email: str = Field(max_length=320)
    role: str = Field(default=Role.MEMBER.value, max_length=20)
    created_at: datetime = _time()


class Invitation(SQLModel, table=True):
    """An invitation to join an organization with a role. The invited person signs in with the invited email
    (a one-time link in embedded mode, Supabase sign-up otherwise) and joins at their first request."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_email", "email"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    email: str = Field(max_length=320)  # lower case
    role: str = Field(max_length=20)
    invited_by: str = Field(max_length=220)
    created_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=32)
    # SHA-256 of the secret, hex. The secret itself is never stored.
    key_hash: str = Field(max_length=64, unique=True)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = _time()
    expires_at: datetime | None = _opt_time()
    revoked_at: datetime | None = _opt_time()
    last_used_at: datetime | None = _opt_time()
    # `read` (reads only), `write` (reads and value writes), or null: full access, as the API reference has it.
    scope: str | None = Field(default=None, max_length=20)
    # The courses a key is confined to (their ids as strings), or null: every course of the organization.
    course_ids: Any = Field(default=None, sa_column=Column(JSONValue, nullable=True))


class ApiKeyUsage(SQLModel, table=True):
    """Requests per key and UTC day, and how many of them the rate limiter refused (429)."""

    __tablename__ = "api_key_usage"
    key_id: uuid.UUID = Field(foreign_key="api_keys.id", ondelete="CASCADE", primary_key=True)
    day: date = Field(primary_key=True)
    requests: int = 0
    rate_limited: int = 0


class IdempotencyKey(SQLModel, table=True):
    """A caller's `Idempotency-Key`, claimed in the transaction of the write it guards, and the answer to replay.

    The primary key is the claim: two requests racing with one key cannot both commit a write.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires", "expires_at"),)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", primary_key=True)
    caller: str = Field(max_length=220, primary_key=True)  # `key:<id>` or `user:<sub>`
    key: str = Field(max_length=255, primary_key=True)
    fingerprint: str = Field(max_length=64)  # SHA-256 of what was asked: the same key with another body is refused
    status: int | None = None  # null until the answer is stored
    response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The learners the claimed write names (ids joined by commas): erasing one of them removes the claim.
    learner_ids: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who changed keys, members, pipelines or data, what they did to which object, and when. Never a secret and
    never a learner's personal data: an erased learner is recorded without their id."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_time", "org_id", "created_at", "id"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    actor: str = Field(max_length=220)  # `key:<id>` or `user:<sub>`
    actor_email: str | None = Field(default=None, max_length=320)  # a person's, for reading the log
    action: str = Field(max_length=60)  # `<object>.<verb>`, e.g. `api_key.created`
    target_type: str = Field(max_length=40)
    target_id: uuid.UUID | None = None
    details: Any = Field(default=None, sa_column=Column(JSONValue, nullable=True))
    created_at: datetime = _time()


# --- courses ---


class CourseBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    active: bool = True


class CourseCreate(CourseBase):
    pass


class CourseUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    active: bool | None = None


class Course(CourseBase, table=True):
    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("org_id", "external_id", name="uq_courses_org_external_id"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class CourseRunBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    starts_at: datetime | None = _opt_time()
    ends_at: datetime | None = _opt_time()


class CourseRunCreate(CourseRunBase):
    course_id: uuid.UUID


class CourseRun(CourseRunBase, table=True):
    __tablename__ = "course_runs"
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    course_id: uuid.UUID = Field(foreign_key="courses.id", ondelete="CASCADE", index=True)
    created_at: datetime = _time()


# --- chatbots ---


class ChatbotBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    kind: ChatbotKind = Field(default=ChatbotKind.GENERAL, sa_type=String(32))
    active: bool = True


class ChatbotCreate(ChatbotBase):
    pass


class ChatbotUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    kind: ChatbotKind | None = None
    active: bool | None = None


class Chatbot(ChatbotBase, table=True):
    __tablename__ = "chatbots"
    __table_args__ = (UniqueConstraint("org_id", "external_id", name="uq_chatbots_org_external_id"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


# --- learners ---


def _email_shape(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or " " in value:
        raise ValueError("not an email address")
    return value


class LearnerBase(SQLModel):
    email: str = Field(min_length=3, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)

    _email = field_validator("email")(_email_shape)


class LearnerCreate(LearnerBase):
    pass


class LearnerUpdate(SQLModel):
    email: str | None = Field(default=None, min_length=3, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)

    _email = field_validator("email")(_email_shape)


class Learner(LearnerBase, table=True):
    __tablename__ = "learners"
    __table_args__ = (UniqueConstraint("org_id", "email_normalized", name="uq_learners_org_email"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    # lower(email): the portable way to make email unique and indexed case-insensitively on both databases.
    email_normalized: str = Field(max_length=320)
    created_at: datetime = _time()


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("learner_id", "course_id", "run_key", name="uq_enrollments_learner_course_run"),
        Index("ix_enrollments_course", "course_id"),
    )
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    learner_id: uuid.UUID = Field(foreign_key="learners.id", ondelete="CASCADE")
    course_id: uuid.UUID = Field(foreign_key="courses.id", ondelete="CASCADE")
    course_run_id: uuid.UUID | None = Field(default=None, foreign_key="course_runs.id", ondelete="CASCADE")
    run_key: uuid.UUID = Field(default=NIL_UUID)
    enrolled_at: datetime = _time()


# --- variables and values ---


class VariableBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    type: VariableType = Field(default=VariableType.TEXT, sa_type=String(16))
    active: bool = True
    default_value: Any | None = Field(default=None, sa_column=Column(JSONValue, nullable=True))


class VariableCreate(VariableBase):
    course_id: uuid.UUID | None = None
    chatbot_id: uuid.UUID | None = None
    direction: Direction = Direction.STATE


class VariableUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    active: bool | None = None
    default_value: Any | None = None


class Variable(VariableBase, table=True):
    __tablename__ = "variables"
    __table_args__ = (
        UniqueConstraint("org_id", "course_key", "name", name="uq_variables_org_course_name"),
        Index("ix_variables_course", "course_id"),
        Index("ix_variables_chatbot", "chatbot_id"),
    )
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    course_id: uuid.UUID | None = Field(default=None, foreign_key="courses.id", ondelete="CASCADE")
    chatbot_id: uuid.UUID | None = Field(default=None, foreign_key="chatbots.id", ondelete="CASCADE")
    # The owning component's id (its course's or its chatbot's), or the nil id for an organization-wide
    # variable: names are unique per component. Named before chatbots existed; kept so stored data stays valid.
    course_key: uuid.UUID = Field(default=NIL_UUID)
    direction: Direction = Field(
        default=Direction.STATE, sa_type=String(16), sa_column_kwargs={"server_default": "state"}
    )
    created_at: datetime = _time()
    updated_at: datetime = _time()


class VariableValue(SQLModel, table=True):
    """Every value ever recorded: the history, append-only."""

    __tablename__ = "variable_values"
    __table_args__ = (
        # Pages of values: newest first, ties broken by id (see migration 0003).
        Index("ix_values_variable_page", "variable_id", "recorded_at", "id"),
        Index("ix_values_learner_page", "learner_id", "variable_id", "recorded_at", "id"),
        Index("ix_values_org_time", "org_id", "recorded_at"),
        # Only propagated values are in it: a plain set adds no entry.
        Index(
            "ix_values_source",
            "source_value_id",
            postgresql_where=text("source_value_id IS NOT NULL"),
            sqlite_where=text("source_value_id IS NOT NULL"),
        ),
    )
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    variable_id: uuid.UUID = Field(foreign_key="variables.id", ondelete="CASCADE")
    learner_id: uuid.UUID = Field(foreign_key="learners.id", ondelete="CASCADE")
    course_run_id: uuid.UUID | None = Field(default=None, foreign_key="course_runs.id", ondelete="CASCADE")
    value: Any = Field(sa_column=Column(JSONValue, nullable=True))
    # The value as a number for `number` variables, so aggregates run in SQL.
    value_number: float | None = None
    recorded_at: datetime = _time()
    recorded_by_key_id: uuid.UUID | None = None
    recorded_by_user: str | None = Field(default=None, max_length=200)
    # A value a pipeline carried here: the value it copies and the connection that carried it. Provenance, not
    # foreign keys: it outlives a deleted connection, and a set writes no extra index entry for a plain value.
    source_value_id: uuid.UUID | None = None
    connection_id: uuid.UUID | None = None


class CurrentValue(SQLModel, table=True):
    """The latest value per (variable, learner, course run), written in the same transaction as the history."""

    __tablename__ = "current_values"
    __table_args__ = (
        Index("ix_current_learner", "learner_id"),
        Index("ix_current_variable_number", "variable_id", "value_number"),
    )
    variable_id: uuid.UUID = Field(foreign_key="variables.id", ondelete="CASCADE", primary_key=True)
    learner_id: uuid.UUID = Field(foreign_key="learners.id", ondelete="CASCADE", primary_key=True)
    run_key: uuid.UUID = Field(default=NIL_UUID, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    course_run_id: uuid.UUID | None = None
    value_id: uuid.UUID
    value: Any = Field(sa_column=Column(JSONValue, nullable=True))
    value_number: float | None = None
    recorded_at: datetime = _time()


# Lists are paged in creation order within an organization.
_learners, _courses = Learner.__table__, Course.__table__  # type: ignore[attr-defined]  # SQLModel sets it per table class
Index("ix_learners_org_created", _learners.c.org_id, _learners.c.created_at)
Index("ix_courses_org_created", _courses.c.org_id, _courses.c.created_at)


class LoginLink(SQLModel, table=True):
    """A one-time sign-in link for embedded mode: only the SHA-256 of its code is stored."""

    __tablename__ = "login_links"
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=320)
    # An invitation's link accepts that invitation, and no other, when it is used.
    invitation_id: uuid.UUID | None = None
    created_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = _opt_time()


# --- pipelines ---


class Pipeline(SQLModel, table=True):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_pipelines_org_name"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE", index=True)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    active: bool = True
    created_at: datetime = _time()
    updated_at: datetime = _time()


class PipelineNode(SQLModel, table=True):
    """A component (course or chatbot) placed in a pipeline, where the editor draws it."""

    __tablename__ = "pipeline_nodes"
    __table_args__ = (UniqueConstraint("pipeline_id", "component_id", name="uq_pipeline_nodes_component"),)
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    pipeline_id: uuid.UUID = Field(foreign_key="pipelines.id", ondelete="CASCADE")
    component_kind: ComponentKind = Field(sa_type=String(16))
    component_id: uuid.UUID  # a course's or a chatbot's id, by `component_kind`
    x: float = 0.0
    y: float = 0.0
    created_at: datetime = _time()


class PipelineConnection(SQLModel, table=True):
    """One output variable carried into one input variable."""

    __tablename__ = "pipeline_connections"
    __table_args__ = (
        UniqueConstraint("pipeline_id", "source_variable_id", "target_variable_id", name="uq_pipeline_connections"),
        # An input takes one connection among the organization's active pipelines: `active_target` is the target's
        # id while the pipeline is active and null otherwise, and nulls never collide.
        UniqueConstraint("active_target", name="uq_pipeline_connections_active_target"),
        Index("ix_pipeline_connections_source", "source_variable_id"),
        Index("ix_pipeline_connections_target", "target_variable_id"),
    )
    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    pipeline_id: uuid.UUID = Field(foreign_key="pipelines.id", ondelete="CASCADE", index=True)
    source_variable_id: uuid.UUID = Field(foreign_key="variables.id", ondelete="CASCADE")
    target_variable_id: uuid.UUID = Field(foreign_key="variables.id", ondelete="CASCADE")
    active_target: uuid.UUID | None = None
    created_at: datetime = _time()
