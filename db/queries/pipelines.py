"""Pipelines: components placed as nodes, connections from output variables to input variables, and the values
they carry.

Every connection rule is checked here, inside the caller's transaction, and the two "at most one" rules are also
unique indexes, so two requests racing cannot both pass: an input takes one connection among the organization's
active pipelines (`active_target`), and a pipeline holds a connection once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String

from db.models import ComponentKind, Direction, Pipeline, PipelineConnection, PipelineNode, VariableType
from db.prepared import Prepared, Row, Source, as_runner
from db.queries.chatbots import chatbots
from db.queries.common import ByKeys, Page, dialect_insert, fetch_by_ids, fetch_page, group_rows, table
from db.queries.courses import courses
from db.queries.learners import enrollments
from db.queries.values import current, history
from db.queries.variables import variables
from db.types import NIL_UUID, utcnow

pipelines = table(Pipeline)
nodes = table(PipelineNode)
connections = table(PipelineConnection)


class Refused(Exception):
    """A rule refused the change; nothing was written. `kind` is `not_found`, `invalid` or `conflict`."""

    def __init__(self, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


# --- pipelines ---


async def list_pipelines(
    conn: AsyncConnection, org_id: uuid.UUID, *, limit: int, offset: int, after: tuple[Any, ...] | None = None
) -> Page:
    stmt = select(pipelines).where(pipelines.c.org_id == org_id)
    return await fetch_page(conn, stmt, pipelines, limit=limit, offset=offset, after=after)


async def get_pipelines(conn: Source, org_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Row | None]:
    return await fetch_by_ids(conn, pipelines, org_id, ids)


async def _name_taken(conn: AsyncConnection, org_id: uuid.UUID, name: str, except_id: uuid.UUID | None) -> bool:
    stmt = select(pipelines.c.id).where(pipelines.c.org_id == org_id, pipelines.c.name == name)
    if except_id is not None:
        stmt = stmt.where(pipelines.c.id != except_id)
    return (await conn.execute(stmt)).first() is not None


async def insert_pipeline(conn: AsyncConnection, org_id: uuid.UUID, fields: dict[str, Any]) -> Row:
    if await _name_taken(conn, org_id, fields["name"], None):
        raise Refused("conflict", "a pipeline with this name already exists", "name")
    now = utcnow()
    values = {"id": uuid.uuid4(), "org_id": org_id, "created_at": now, "updated_at": now, **fields}
    try:
        async with conn.begin_nested():
            return (await conn.execute(insert(pipelines).values(values).returning(pipelines))).mappings().one()
    except IntegrityError:
        raise Refused("conflict", "a pipeline with this name already exists", "name") from None


async def update_pipeline(
    conn: AsyncConnection, org_id: uuid.UUID, pipeline_id: uuid.UUID, fields: dict[str, Any]
) -> Row:
    """Renames, describes, or turns a pipeline on or off. Turned on, each of its connections takes its input again,
    which another active pipeline may hold meanwhile: that is a conflict, and nothing changes."""
    if "name" in fields and await _name_taken(conn, org_id, fields["name"], pipeline_id):
        raise Refused("conflict", "a pipeline with this name already exists", "name")
    stmt = (
        update(pipelines)
        .where(pipelines.c.org_id == org_id, pipelines.c.id == pipeline_id)
        .values({**fields, "updated_at": utcnow()})
        .returning(pipelines)
    )
    try:
        async with conn.begin_nested():
            row = (await conn.execute(stmt)).mappings().first()
            if row is None:
                raise Refused("not_found", "pipeline not found", "id")
            if "active" in fields:
                taken = case((literal(bool(fields["active"])), connections.c.target_variable_id), else_=null())
                await conn.execute(
                    update(connections).where(connections.c.pipeline_id == pipeline_id).values(active_target=taken)
                )
    except IntegrityError:
        raise Refused(
            "conflict", "an input of this pipeline is connected in another active pipeline", "active"
        ) from None
    return row


async def delete_pipeline(conn: AsyncConnection, org_id: uuid.UUID, pipeline_id: uuid.UUID) -> bool:
    """Its nodes and connections go with it (the foreign keys cascade); values already carried stay."""
    result = await conn.execute(delete(pipelines).where(pipelines.c.org_id == org_id, pipelines.c.id == pipeline_id))
    return bool(result.rowcount)


# --- nodes ---


async def nodes_by_pipeline(conn: Source, org_id: uuid.UUID, pipeline_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    rows = await _NODES_BY_PIPELINE.rows(conn, pipeline_ids, org_id=org_id)
    return group_rows(rows, "pipeline_id", pipeline_ids)


_NODES_BY_PIPELINE = ByKeys(
    lambda dialect, key: (
        select(nodes)
        .where(nodes.c.org_id == bindparam("org_id"), key(nodes.c.pipeline_id))
        .order_by(nodes.c.created_at, nodes.c.id)
    )
)


async def _component_exists(conn: AsyncConnection, org_id: uuid.UUID, kind: ComponentKind, id_: uuid.UUID) -> bool:
    tbl = courses if kind is ComponentKind.COURSE else chatbots
    return (await conn.execute(select(tbl.c.id).where(tbl.c.org_id == org_id, tbl.c.id == id_))).first() is not None


async def add_node(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    pipeline_id: uuid.UUID,
    kind: ComponentKind,
    component_id: uuid.UUID,
    x: float,
    y: float,
) -> Row:
    if (await get_pipelines(conn, org_id, [pipeline_id]))[0] is None:
        raise Refused("not_found", "pipeline not found", "pipelineId")
    if not await _component_exists(conn, org_id, kind, component_id):
        raise Refused("not_found", f"{kind.value} not found", "componentId")
    values = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "pipeline_id": pipeline_id,
        "component_kind": kind.value,
        "component_id": component_id,
        "x": x,
        "y": y,
        "created_at": utcnow(),
    }
    try:
        async with conn.begin_nested():
            return (await conn.execute(insert(nodes).values(values).returning(nodes))).mappings().one()
    except IntegrityError:
        raise Refused("conflict", f"this {kind.value} is already in the pipeline", "componentId") from None


async def move_node(conn: AsyncConnection, org_id: uuid.UUID, node_id: uuid.UUID, x: float, y: float) -> Row:
    stmt = update(nodes).where(nodes.c.org_id == org_id, nodes.c.id == node_id).values(x=x, y=y).returning(nodes)
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise Refused("not_found", "node not found", "id")
    return row


def _component_key(row: Row) -> uuid.UUID | None:
    return row["course_id"] or row["chatbot_id"]


async def remove_node(
    conn: AsyncConnection, org_id: uuid.UUID, node_id: uuid.UUID, pipeline_id: uuid.UUID | None = None
) -> Row:
    """Removes the node and every connection of its pipeline to or from its component's variables. With
    `pipeline_id`, the node must be that pipeline's."""
    stmt = select(nodes).where(nodes.c.org_id == org_id, nodes.c.id == node_id)
    node = (await conn.execute(stmt)).mappings().first()
    if node is None or (pipeline_id is not None and node["pipeline_id"] != pipeline_id):
        raise Refused("not_found", "node not found", "id")
    owned = select(variables.c.id).where(
        variables.c.org_id == org_id,
        or_(variables.c.course_id == node["component_id"], variables.c.chatbot_id == node["component_id"]),
    )
    await conn.execute(
        delete(connections).where(
            connections.c.pipeline_id == node["pipeline_id"],
            or_(connections.c.source_variable_id.in_(owned), connections.c.target_variable_id.in_(owned)),
        )
    )
    await conn.execute(delete(nodes).where(nodes.c.id == node_id))
    return node


# --- connections ---


def fits(source_type: str, target_type: str) -> bool:
    """The same type, or anything into text (as its JSON text) or into json."""
    return source_type == target_type or target_type in (VariableType.TEXT.value, VariableType.JSON.value)


async def connections_by_pipeline(
    conn: Source, org_id: uuid.UUID, pipeline_ids: Sequence[uuid.UUID]
) -> list[list[Row]]:
    rows = await _CONNECTIONS_BY.rows(conn, pipeline_ids, org_id=org_id)
    return group_rows(rows, "pipeline_id", pipeline_ids)


async def connections_from(conn: Source, org_id: uuid.UUID, variable_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    rows = await _CONNECTIONS_FROM.rows(conn, variable_ids, org_id=org_id)
    return group_rows(rows, "source_variable_id", variable_ids)


async def connections_into(conn: Source, org_id: uuid.UUID, variable_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    rows = await _CONNECTIONS_INTO.rows(conn, variable_ids, org_id=org_id)
    return group_rows(rows, "target_variable_id", variable_ids)


def _connections_by(column: str) -> ByKeys:
    return ByKeys(
        lambda dialect, key: (
            select(connections)
            .where(connections.c.org_id == bindparam("org_id"), key(connections.c[column]))
            .order_by(connections.c.created_at, connections.c.id)
        )
    )


_CONNECTIONS_BY = _connections_by("pipeline_id")
_CONNECTIONS_FROM = _connections_by("source_variable_id")
_CONNECTIONS_INTO = _connections_by("target_variable_id")


CURRENT_COLUMNS = ["variable_id", "learner_id", "run_key", "org_id", "course_run_id", "value_id", "value",
                   "value_number", "recorded_at"]  # fmt: skip


@dataclass(frozen=True)
class Connected:
    row: Row
    backfilled: int


async def connect(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    pipeline_id: uuid.UUID,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    backfill: bool = False,
    recorded_by_key_id: uuid.UUID | None = None,
    recorded_by_user: str | None = None,
) -> Connected:
    """Connects an output to an input after checking every rule, and with `backfill` copies the source's current
    values to every learner whose target value is older or missing. Raises `Refused`; then nothing changed."""
    pipeline = (await get_pipelines(conn, org_id, [pipeline_id]))[0]
    if pipeline is None:
        raise Refused("not_found", "pipeline not found", "pipelineId")
    found = {row["id"]: row for row in (await conn.execute(_variables_of(org_id, [source_id, target_id]))).mappings()}
    source, target = found.get(source_id), found.get(target_id)
    if source is None:
        raise Refused("not_found", "source variable not found", "sourceVariableId")
    if target is None:
        raise Refused("not_found", "target variable not found", "targetVariableId")
    if source["direction"] != Direction.OUTPUT.value:
        raise Refused("invalid", "the source must be an output variable", "sourceVariableId")
    if target["direction"] != Direction.INPUT.value:
        raise Refused("invalid", "the target must be an input variable", "targetVariableId")
    source_component, target_component = _component_key(source), _component_key(target)
    if source_component is None or target_component is None:
        raise Refused("invalid", "an organization-wide variable belongs to no component", "sourceVariableId")
    if source_component == target_component:
        raise Refused("invalid", "source and target belong to the same component", "targetVariableId")
    placed = set(
        (
            await conn.execute(
                select(nodes.c.component_id).where(
                    nodes.c.pipeline_id == pipeline_id, nodes.c.component_id.in_([source_component, target_component])
                )
            )
        ).scalars()
    )
    for component, field in ((source_component, "sourceVariableId"), (target_component, "targetVariableId")):
        if component not in placed:
            raise Refused("invalid", "the variable's component is not a node of this pipeline", field)
    if not fits(source["type"], target["type"]):
        raise Refused("invalid", f"a {source['type']} output cannot feed a {target['type']} input", "targetVariableId")
    if pipeline["active"] and await _input_taken(conn, target_id):
        raise Refused("conflict", "this input is already connected in an active pipeline", "targetVariableId")
    values = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "pipeline_id": pipeline_id,
        "source_variable_id": source_id,
        "target_variable_id": target_id,
        "active_target": target_id if pipeline["active"] else None,
        "created_at": utcnow(),
    }
    try:
        async with conn.begin_nested():
            row = (await conn.execute(insert(connections).values(values).returning(connections))).mappings().one()
    except IntegrityError:  # a request racing this one took the input, or made the same connection
        raise Refused("conflict", "this input is already connected", "targetVariableId") from None
    copied = 0
    if backfill:
        copied = await _backfill(conn, org_id, row, source, target, recorded_by_key_id, recorded_by_user)
    return Connected(row, copied)


def _variables_of(org_id: uuid.UUID, ids: list[uuid.UUID]) -> Select[Any]:
    return select(variables).where(variables.c.org_id == org_id, variables.c.id.in_(ids))


async def _input_taken(conn: AsyncConnection, target_id: uuid.UUID) -> bool:
    stmt = select(connections.c.id).where(connections.c.active_target == target_id)
    return (await conn.execute(stmt)).first() is not None


async def disconnect(
    conn: AsyncConnection, org_id: uuid.UUID, connection_id: uuid.UUID, pipeline_id: uuid.UUID | None = None
) -> None:
    """Values the connection carried stay, and still name it. With `pipeline_id`, it must be that pipeline's."""
    stmt = delete(connections).where(connections.c.org_id == org_id, connections.c.id == connection_id)
    if pipeline_id is not None:
        stmt = stmt.where(connections.c.pipeline_id == pipeline_id)
    if not (await conn.execute(stmt)).rowcount:
        raise Refused("not_found", "connection not found", "id")


# --- carrying values ---


def _targets_of(dialect: str) -> Any:
    """The active connections from a variable, with what a set needs to write each target."""
    return (
        select(
            connections.c.id.label("connection_id"),
            variables.c.id.label("variable_id"),
            variables.c.type,
            variables.c.course_id,
        )
        .join(variables, variables.c.id == connections.c.target_variable_id)
        .where(
            connections.c.org_id == bindparam("org_id"),
            connections.c.source_variable_id == bindparam("variable_id"),
            connections.c.active_target.is_not(None),
        )
        .order_by(connections.c.created_at, connections.c.id)
    )


TARGETS_OF = Prepared(_targets_of)


async def targets_of(conn: Source, org_id: uuid.UUID, variable_id: uuid.UUID) -> Sequence[Row]:
    return await as_runner(conn).rows(TARGETS_OF, org_id=org_id, variable_id=variable_id)


def _uuid_expression(dialect: str) -> Any:
    """A new random id, made by the database: set-based inserts have no Python in the loop."""
    if dialect == "postgresql":
        return func.gen_random_uuid()
    return func.lower(func.hex(func.randomblob(16)))  # SQLite stores a UUID as its 32 hex digits


def _as_text(dialect: str, value: Any) -> Any:
    """A JSON value as a JSON string holding its JSON text (what a text input receives)."""
    if dialect == "postgresql":
        return func.to_jsonb(cast(value, String))
    return func.json_quote(cast(value, String))


async def _backfill(
    conn: AsyncConnection,
    org_id: uuid.UUID,
    connection: Row,
    source: Row,
    target: Row,
    key_id: uuid.UUID | None,
    user: str | None,
) -> int:
    """Three set-based statements: the history rows, the target's current values, the enrolments."""
    dialect = conn.dialect.name
    now = utcnow()
    newer = current.alias("newer")
    # Each learner's latest source value, whatever its course run.
    latest = (
        select(current)
        .where(
            current.c.org_id == org_id,
            current.c.variable_id == source["id"],
            ~exists().where(
                newer.c.variable_id == current.c.variable_id,
                newer.c.learner_id == current.c.learner_id,
                or_(
                    newer.c.recorded_at > current.c.recorded_at,
                    and_(newer.c.recorded_at == current.c.recorded_at, newer.c.run_key > current.c.run_key),
                ),
            ),
        )
        .subquery("latest")
    )
    target_current = current.alias("target_current")
    same = source["type"] == target["type"] or target["type"] == VariableType.JSON.value
    value = latest.c.value if same else _as_text(dialect, latest.c.value)
    number = latest.c.value_number if source["type"] == target["type"] else null()
    rows = (
        select(
            _uuid_expression(dialect),
            literal(org_id, history.c.org_id.type),
            literal(target["id"], history.c.variable_id.type),
            latest.c.learner_id,
            value,
            number,
            literal(now, history.c.recorded_at.type),
            literal(key_id, history.c.recorded_by_key_id.type),
            literal(user, history.c.recorded_by_user.type),
            latest.c.value_id,
            literal(connection["id"], history.c.connection_id.type),
        )
        .select_from(
            latest.outerjoin(
                target_current,
                and_(
                    target_current.c.variable_id == target["id"],
                    target_current.c.learner_id == latest.c.learner_id,
                    target_current.c.run_key == NIL_UUID,
                ),
            )
        )
        .where(or_(target_current.c.learner_id.is_(None), target_current.c.recorded_at < latest.c.recorded_at))
        # In learner order, so that the indexes led by learner (and the target's current values) fill in order.
        .order_by(latest.c.learner_id)
    )
    columns = ["id", "org_id", "variable_id", "learner_id", "value", "value_number", "recorded_at",
               "recorded_by_key_id", "recorded_by_user", "source_value_id", "connection_id"]  # fmt: skip
    await conn.execute(insert(history).from_select(columns, rows))
    # Counted, not taken from the INSERT's row count, which not every driver reports for INSERT ... SELECT.
    carried = select(history).where(
        history.c.variable_id == target["id"],
        history.c.recorded_at == now,
        history.c.connection_id == connection["id"],
    )
    copied = (await conn.execute(select(func.count()).select_from(carried.subquery()))).scalar_one()
    if not copied:
        return 0
    carried_rows = carried.subquery("carried")
    upsert = dialect_insert(dialect, current).from_select(
        CURRENT_COLUMNS,
        select(
            carried_rows.c.variable_id,
            carried_rows.c.learner_id,
            literal(NIL_UUID, current.c.run_key.type),
            carried_rows.c.org_id,
            null(),
            carried_rows.c.id,
            carried_rows.c.value,
            carried_rows.c.value_number,
            carried_rows.c.recorded_at,
        )
        .where(literal(True))  # SQLite's parser needs a WHERE before ON CONFLICT in INSERT ... SELECT
        .order_by(carried_rows.c.learner_id),
    )
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["variable_id", "learner_id", "run_key"],
            set_={
                "value_id": upsert.excluded.value_id,
                "value": upsert.excluded.value,
                "value_number": upsert.excluded.value_number,
                "recorded_at": upsert.excluded.recorded_at,
            },
            where=current.c.recorded_at <= upsert.excluded.recorded_at,
        )
    )
    if target["course_id"] is not None:  # a learner receiving a value in a course is enrolled in it
        enrol = dialect_insert(dialect, enrollments).from_select(
            ["id", "org_id", "learner_id", "course_id", "course_run_id", "run_key", "enrolled_at"],
            select(
                _uuid_expression(dialect),
                carried_rows.c.org_id,
                carried_rows.c.learner_id,
                literal(target["course_id"], enrollments.c.course_id.type),
                null(),
                literal(NIL_UUID, enrollments.c.run_key.type),
                literal(now, enrollments.c.enrolled_at.type),
            ).where(literal(True)),
        )
        await conn.execute(enrol.on_conflict_do_nothing(index_elements=["learner_id", "course_id", "run_key"]))
    return int(copied)


def carried_value(source_type: str, target_type: str, stored: Any, number: float | None) -> tuple[Any, float | None]:
    """What a connection records in its target for a value stored in its source (see `fits`)."""
    if source_type == target_type:
        return stored, number
    if target_type == VariableType.TEXT.value:
        return orjson.dumps(stored).decode(), None
    return stored, None
