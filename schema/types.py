"""GraphQL object types. Each is built from a database row; nested fields go through the request's DataLoaders."""

import enum
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from db import models
from db.queries.stats import PERCENTILES, Aggregate, CourseStats
from db.types import utcnow
from execution.rows import Row, Rows, row_shape
from schema.context import Context
from schema.errors import BadInput

CtxInfo = Info[Context, None]
T = TypeVar("T")
MAX_LIMIT = 1000

VariableType = strawberry.enum(  # type: ignore[call-overload]  # the functional Enum API, which mypy cannot follow
    enum.Enum("VariableType", {t.name: t.value for t in models.VariableType}),
    description="What a variable holds; REST shows these in lower case.",
)


VariableDirection = strawberry.enum(  # type: ignore[call-overload]  # the functional Enum API, which mypy cannot follow
    enum.Enum("VariableDirection", {t.name: t.value for t in models.Direction}),
    description="INPUT: the component reads it; OUTPUT: the component writes it; STATE: neither end of a connection.",
)
ChatbotKind = strawberry.enum(  # type: ignore[call-overload]  # the functional Enum API, which mypy cannot follow
    enum.Enum("ChatbotKind", {t.name: t.value for t in models.ChatbotKind}),
    description="What a chatbot is for; REST shows these in lower case.",
)
ComponentKind = strawberry.enum(  # type: ignore[call-overload]  # the functional Enum API, which mypy cannot follow
    enum.Enum("ComponentKind", {t.name: t.value for t in models.ComponentKind}),
    description="What a pipeline node is: a course or a chatbot.",
)

# The enum member for each stored type: row shapes look it up, since an Enum call per row costs several times more.
_VARIABLE_TYPES = {member.value: member for member in VariableType}
_DIRECTIONS = {member.value: member for member in VariableDirection}
_CHATBOT_KINDS = {member.value: member for member in ChatbotKind}
_COMPONENT_KINDS = {member.value: member for member in ComponentKind}


def from_row(cls: type[T], row: Row, **overrides: Any) -> T:
    """An object type from a row whose keys are its field names (resolver fields excepted), plus any overrides."""
    shape = row_shape(cls)
    if overrides:
        return cls(**{name: overrides[name] if name in overrides else row[key] for name, key in shape.keys.items()})
    return shape.build(row)


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise BadInput("offset must be 0 or more")


def _selected(info: CtxInfo) -> dict[str, set[str]]:
    """The fields selected under this one, each with the names of its own sub-fields (fragments flattened)."""

    def fields(selections: list[Any]) -> Iterator[Any]:
        for selection in selections:
            if hasattr(selection, "name"):
                yield selection
            else:  # a fragment: its fields count as selected here
                yield from fields(selection.selections)

    out: dict[str, set[str]] = {}
    for field in fields(info.selected_fields[0].selections):
        out.setdefault(field.name, set()).update(f.name for f in fields(field.selections))
    return out


@strawberry.type
class Pagination:
    limit: int
    offset: int
    has_more: bool
    next_cursor: str | None = strawberry.field(
        default=None, description="Pass as `cursor` for the next page (keyset: no duplicate, no gap); null at the end."
    )


@strawberry.type
class Organization:
    id: uuid.UUID
    name: str
    created_at: datetime
    role: str | None = None

    @classmethod
    def from_row(cls, row: Row, role: str | None = None) -> "Organization":
        return from_row(cls, row, role=role)


@strawberry.type
class CourseRun:
    id: uuid.UUID
    course_id: uuid.UUID
    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "CourseRun":
        return from_row(cls, row)


@strawberry.type
class CourseStatistics:
    enrolled_learners: int
    learners_with_values: int
    variables: int
    active_variables: int
    values_recorded: int
    last_activity_at: datetime | None

    @classmethod
    def from_stats(cls, s: CourseStats) -> "CourseStatistics":
        return cls(**vars(s))


@strawberry.type
class Course:
    id: uuid.UUID
    external_id: str | None
    name: str
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "Course":
        return from_row(cls, row)

    @strawberry.field
    async def variables(self, info: CtxInfo) -> list["Variable"]:
        return [Variable.from_row(r) for r in await info.context.loaders.variables_by_course.load(self.id)]

    @strawberry.field
    async def runs(self, info: CtxInfo) -> list[CourseRun]:
        return [CourseRun.from_row(r) for r in await info.context.loaders.runs_by_course.load(self.id)]

    @strawberry.field
    async def stats(self, info: CtxInfo) -> CourseStatistics:
        return CourseStatistics.from_stats(await info.context.loaders.course_stats.load(self.id))


@strawberry.type(description="An AI chatbot: a component beside courses, with variables of its own.")
class Chatbot:
    id: uuid.UUID
    external_id: str | None
    name: str
    description: str | None
    kind: ChatbotKind  # type: ignore[valid-type]  # made by the functional Enum API
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "Chatbot":
        return CHATBOT_ROWS.build(row)

    @strawberry.field
    async def variables(self, info: CtxInfo) -> list["Variable"]:
        return [Variable.from_row(r) for r in await info.context.loaders.variables_by_chatbot.load(self.id)]


CHATBOT_ROWS = row_shape(Chatbot, lookups={"kind": _CHATBOT_KINDS})


@strawberry.type
class Percentiles:
    p25: float
    p50: float
    p75: float
    p90: float


@strawberry.type
class NumericStats:
    count: int
    min: float
    max: float
    mean: float
    sum: float
    stddev: float
    median: float
    percentiles: Percentiles


@strawberry.type
class DistributionEntry:
    value: JSON
    count: int


@strawberry.type
class HistogramBin:
    lower: float
    upper: float
    count: int


@strawberry.type
class VariableAggregate:
    variable_id: uuid.UUID
    course_run_id: uuid.UUID | None
    values_recorded: int
    learners_with_value: int
    first_recorded_at: datetime | None
    last_recorded_at: datetime | None
    numeric: NumericStats | None
    distribution: list[DistributionEntry] | None

    @classmethod
    def build(cls, variable: "Variable", run_id: uuid.UUID | None, agg: Aggregate) -> "VariableAggregate":
        numeric = None
        distribution = None
        if variable.type == VariableType.NUMBER:
            if agg.count:
                # Percentiles are only computed when selected; unselected ones are never shown.
                p = {q: agg.percentiles.get(q, 0.0) for q in PERCENTILES}
                numeric = NumericStats(
                    count=agg.count,
                    min=agg.min or 0.0,
                    max=agg.max or 0.0,
                    mean=agg.mean or 0.0,
                    sum=agg.sum or 0.0,
                    stddev=agg.stddev or 0.0,
                    median=p[50],
                    percentiles=Percentiles(p25=p[25], p50=p[50], p75=p[75], p90=p[90]),
                )
        else:
            distribution = [DistributionEntry(value=v, count=n) for v, n in agg.distribution]
        return cls(
            variable_id=variable.id,
            course_run_id=run_id,
            values_recorded=agg.values_recorded,
            learners_with_value=agg.learners_with_value,
            first_recorded_at=agg.first_recorded_at,
            last_recorded_at=agg.last_recorded_at,
            numeric=numeric,
            distribution=distribution,
        )


@strawberry.type
class VariableValue:
    id: uuid.UUID
    variable_id: uuid.UUID
    learner_id: uuid.UUID
    course_run_id: uuid.UUID | None
    value: JSON
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "VariableValue":
        return VARIABLE_VALUE_ROWS.build(row)

    @strawberry.field
    async def learner(self, info: CtxInfo) -> Annotated["Learner", strawberry.lazy("schema.types")] | None:
        row = await info.context.loaders.learner.load(self.learner_id)
        return Learner.from_row(row) if row else None

    @strawberry.field(description="The connection that carried this value here; null for a value recorded directly.")
    async def connection_id(self, info: CtxInfo) -> uuid.UUID | None:
        if info.context.confined is not None:  # a key confined to courses sees no pipeline
            return None
        row = await info.context.loaders.value.load(self.id)
        return row["connection_id"] if row else None

    @strawberry.field(description="The value a pipeline copied into this one; null for a value recorded directly.")
    async def source(self, info: CtxInfo) -> "VariableValue | None":
        row = await info.context.loaders.value.load(self.id)
        if row is None or row["source_value_id"] is None or info.context.confined is not None:
            return None  # a key confined to courses sees no pipeline, so not where a carried value came from
        found = await info.context.loaders.value.load(row["source_value_id"])
        return VariableValue.from_row(found) if found else None

    @strawberry.field(description="The values pipelines recorded from this one, in their target variables.")
    def propagated(self, info: CtxInfo) -> list["Propagation"]:
        # Not a coroutine function: a set's own answer (every set's) is known, and returned without awaiting.
        if info.context.confined is not None:  # a key confined to courses sees no pipeline, nor where it carried
            return []
        known = info.context.carried.get(self.id)
        if known is not None:
            return known
        return self._carried(info)  # type: ignore[return-value]  # graphql-core awaits what a resolver returns

    async def _carried(self, info: CtxInfo) -> list["Propagation"]:
        rows = await info.context.loaders.carried_from.load(self.id)
        return [Propagation(variable_id=r["variable_id"], value_id=r["id"], connection_id=r["connection_id"])
                for r in rows]  # fmt: skip


@strawberry.type(description="A value a connection recorded in its target variable.")
class Propagation:
    variable_id: uuid.UUID
    value_id: uuid.UUID
    connection_id: uuid.UUID | None


VARIABLE_VALUE_ROWS = row_shape(VariableValue)


@strawberry.type
class Variable:
    id: uuid.UUID
    course_id: uuid.UUID | None
    chatbot_id: uuid.UUID | None
    name: str
    description: str | None
    type: VariableType  # type: ignore[valid-type]  # made by the functional Enum API
    direction: VariableDirection  # type: ignore[valid-type]  # made by the functional Enum API
    active: bool
    default_value: JSON | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "Variable":
        return VARIABLE_ROWS.build(row)

    @strawberry.field
    async def course(self, info: CtxInfo) -> Course | None:
        if self.course_id is None:
            return None
        row = await info.context.loaders.course.load(self.course_id)
        return Course.from_row(row) if row else None

    @strawberry.field
    async def chatbot(self, info: CtxInfo) -> Chatbot | None:
        if self.chatbot_id is None:
            return None
        row = await info.context.loaders.chatbot.load(self.chatbot_id)
        return Chatbot.from_row(row) if row else None

    @strawberry.field(description="Connections into this input variable, in any pipeline.")
    async def incoming(self, info: CtxInfo) -> list["PipelineConnection"]:
        if info.context.confined is not None:  # pipelines are out of a confined key's sight
            return []
        return [PipelineConnection.from_row(r) for r in await info.context.loaders.connections_into.load(self.id)]

    @strawberry.field(description="Connections from this output variable, in any pipeline.")
    async def outgoing(self, info: CtxInfo) -> list["PipelineConnection"]:
        if info.context.confined is not None:
            return []
        return [PipelineConnection.from_row(r) for r in await info.context.loaders.connections_from.load(self.id)]

    @strawberry.field(description="The newest recorded values, newest first.")
    async def values(self, info: CtxInfo, limit: int = 100) -> Sequence[VariableValue]:
        check_page(limit, 0)
        rows = await info.context.loaders.latest_values.load((self.id, limit))
        return Rows(VARIABLE_VALUE_ROWS, rows)

    @strawberry.field(description="Equal-width bins of the current values of a number variable (1 to 50 bins).")
    async def histogram(
        self, info: CtxInfo, buckets: int = 10, course_run_id: uuid.UUID | None = None
    ) -> list[HistogramBin]:
        if not 1 <= buckets <= 50:
            raise BadInput("buckets must be between 1 and 50")
        if self.type != VariableType.NUMBER:
            return []
        if course_run_id is not None and not await self._holds_run(info, course_run_id):
            return []
        bins = await info.context.loaders.histogram.load((self.id, (buckets, course_run_id)))
        return [HistogramBin(lower=lo, upper=hi, count=n) for lo, hi, n in bins]

    async def _holds_run(self, info: CtxInfo, course_run_id: uuid.UUID) -> bool:
        """Whether the variable may hold values of this run: a run of yours, and of the variable's own course (a
        chatbot's or organization-wide variable takes any course's)."""
        run = await info.context.loaders.course_run.load(course_run_id)
        return run is not None and (self.course_id is None or run["course_id"] == self.course_id)

    @strawberry.field(
        description="Aggregates over current values; null if `courseRunId` names no run of yours, or a run of "
        "another course than the variable's."
    )
    async def aggregate(self, info: CtxInfo, course_run_id: uuid.UUID | None = None) -> VariableAggregate | None:
        if course_run_id is not None and not await self._holds_run(info, course_run_id):
            return None
        wanted = _selected(info)
        spread = bool(wanted.get("numeric", set()) & {"stddev", "median", "percentiles"})
        agg = await info.context.loaders.aggregate.load((self.id, (course_run_id, spread, "distribution" in wanted)))
        return VariableAggregate.build(self, course_run_id, agg)


VARIABLE_ROWS = row_shape(Variable, lookups={"type": _VARIABLE_TYPES, "direction": _DIRECTIONS})


@strawberry.type(description="One output variable carried into one input variable.")
class PipelineConnection:
    id: uuid.UUID
    pipeline_id: uuid.UUID
    source_variable_id: uuid.UUID
    target_variable_id: uuid.UUID
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "PipelineConnection":
        return from_row(cls, row)

    @strawberry.field
    async def source(self, info: CtxInfo) -> Variable | None:
        row = await info.context.loaders.variable.load(self.source_variable_id)
        return Variable.from_row(row) if row else None

    @strawberry.field
    async def target(self, info: CtxInfo) -> Variable | None:
        row = await info.context.loaders.variable.load(self.target_variable_id)
        return Variable.from_row(row) if row else None


@strawberry.type(description="A new connection, with how many current values `backfill` copied (0 without it).")
class ConnectionCreated(PipelineConnection):
    backfilled: int


@strawberry.type(description="A course or a chatbot placed in a pipeline, where the editor draws it.")
class PipelineNode:
    id: uuid.UUID
    pipeline_id: uuid.UUID
    component_kind: ComponentKind  # type: ignore[valid-type]  # made by the functional Enum API
    component_id: uuid.UUID
    x: float
    y: float
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "PipelineNode":
        return from_row(cls, row, component_kind=_COMPONENT_KINDS[row["component_kind"]])

    @strawberry.field(description="The component's name.")
    async def name(self, info: CtxInfo) -> str | None:
        component = await self._component(info)
        return component.name if component else None

    @strawberry.field(description="The component's variables: inputs, outputs and state.")
    async def variables(self, info: CtxInfo) -> list[Variable]:
        loaders = info.context.loaders
        by = loaders.variables_by_course if self._is_course else loaders.variables_by_chatbot
        return [Variable.from_row(r) for r in await by.load(self.component_id)]

    @property
    def _is_course(self) -> bool:
        return self.component_kind is _COMPONENT_KINDS[models.ComponentKind.COURSE.value]

    async def _component(self, info: CtxInfo) -> Course | Chatbot | None:
        if self._is_course:
            row = await info.context.loaders.course.load(self.component_id)
            return Course.from_row(row) if row else None
        row = await info.context.loaders.chatbot.load(self.component_id)
        return Chatbot.from_row(row) if row else None


@strawberry.type(description="A named graph of components and the connections between their variables.")
class Pipeline:
    id: uuid.UUID
    name: str
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "Pipeline":
        return from_row(cls, row)

    @strawberry.field
    async def nodes(self, info: CtxInfo) -> list[PipelineNode]:
        return [PipelineNode.from_row(r) for r in await info.context.loaders.nodes_by_pipeline.load(self.id)]

    @strawberry.field
    async def connections(self, info: CtxInfo) -> list[PipelineConnection]:
        rows = await info.context.loaders.connections_by_pipeline.load(self.id)
        return [PipelineConnection.from_row(r) for r in rows]


@strawberry.type(description="A learner's current value of one variable (in one course run, if any).")
class LearnerVariable:
    value_id: uuid.UUID
    variable_id: uuid.UUID
    name: str
    course_id: uuid.UUID | None
    type: VariableType  # type: ignore[valid-type]  # made by the functional Enum API
    course_run_id: uuid.UUID | None
    value: JSON
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "LearnerVariable":
        return LEARNER_VARIABLE_ROWS.build(row)

    @strawberry.field
    async def variable(self, info: CtxInfo) -> Variable | None:
        row = await info.context.loaders.variable.load(self.variable_id)
        return Variable.from_row(row) if row else None


LEARNER_VARIABLE_ROWS = row_shape(
    LearnerVariable, renames={"value_id": "id", "name": "variable_name"}, lookups={"type": _VARIABLE_TYPES}
)


@strawberry.type
class Enrollment:
    id: uuid.UUID
    learner_id: uuid.UUID
    course_id: uuid.UUID
    course_run_id: uuid.UUID | None
    enrolled_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "Enrollment":
        return from_row(cls, row)

    @strawberry.field
    async def course(self, info: CtxInfo) -> Course | None:
        row = await info.context.loaders.course.load(self.course_id)
        return Course.from_row(row) if row else None


@strawberry.type
class Learner:
    id: uuid.UUID
    email: str
    name: str | None
    external_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "Learner":
        return from_row(cls, row)

    @strawberry.field
    async def enrollments(self, info: CtxInfo) -> list[Enrollment]:
        rows = await info.context.loaders.enrollments_by_learner.load(self.id)
        return [Enrollment.from_row(r) for r in rows if info.context.sees_course(r["course_id"])]

    @strawberry.field(description="Courses the learner is enrolled in (once per course, whatever the runs).")
    async def courses(self, info: CtxInfo) -> list[Course]:
        rows = await info.context.loaders.enrollments_by_learner.load(self.id)
        course_ids = list(dict.fromkeys(r["course_id"] for r in rows if info.context.sees_course(r["course_id"])))
        found = await info.context.loaders.course.load_many(course_ids)
        return [Course.from_row(r) for r in found if r]

    @strawberry.field(description="Current values, optionally of one course's variables; null if no such course.")
    async def variables(self, info: CtxInfo, course_id: uuid.UUID | None = None) -> Sequence[LearnerVariable] | None:
        if course_id is not None and (
            not info.context.sees_course(course_id) or await info.context.loaders.course.load(course_id) is None
        ):
            return None
        rows = await info.context.loaders.current_by_learner.load((self.id, course_id))
        confined = info.context.confined
        if confined is not None:  # a confined key: its courses' variables only
            rows = [r for r in rows if r["course_id"] in confined]
        return Rows(LEARNER_VARIABLE_ROWS, rows)


@strawberry.type
class ApiKey:
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    scope: str | None = strawberry.field(
        description="`read` (queries and GET only), `write` (reads and value writes), or null: full access."
    )
    course_ids: list[uuid.UUID] | None = strawberry.field(
        description="The courses the key is confined to, or null: every course."
    )

    @classmethod
    def from_row(cls, row: Row) -> "ApiKey":
        return from_row(cls, row)

    @strawberry.field
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= utcnow():
            return "expired"
        return "active"


@strawberry.type(description="A new API key. `key` is the secret, shown this once and never again.")
class ApiKeyCreated(ApiKey):
    key: str


@strawberry.type(description="Requests with a key on one UTC day, and how many the rate limit refused (429).")
class KeyUsageDay:
    day: date
    requests: int
    rate_limited: int


@strawberry.type
class CoursePage:
    data: list[Course]
    pagination: Pagination


@strawberry.type
class LearnerPage:
    data: list[Learner]
    pagination: Pagination


@strawberry.type
class ChatbotPage:
    data: list[Chatbot]
    pagination: Pagination


@strawberry.type(description="A change of keys, pipelines or data: who (`actor`: key:<id> or user:<id>), what, when.")
class AuditEntry:
    id: uuid.UUID
    actor: str
    actor_email: str | None
    action: str
    target_type: str
    target_id: uuid.UUID | None
    details: JSON | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> "AuditEntry":
        return from_row(cls, row)


@strawberry.type
class AuditEntryPage:
    data: list[AuditEntry]
    pagination: Pagination


@strawberry.type
class PipelinePage:
    data: list[Pipeline]
    pagination: Pagination


@strawberry.type
class VariablePage:
    data: list[Variable]
    pagination: Pagination


@strawberry.type
class VariableValuePage:
    data: Sequence[VariableValue]
    pagination: Pagination
