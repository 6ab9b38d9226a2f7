"""Recording values: one (`setVariable`, with compare-and-set) or a batch (`setVariables`), each carried along the
variable's connections in the same transaction, and either one retried safely under an idempotency key.

With `idempotencyKey`, the key is claimed at the end of the write's own transaction together with a reference to
the answer (the value ids, or the error), so a retry, even one racing the first, replays that answer and the
loser's writes roll back: nothing is written twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

import orjson
import strawberry
from strawberry.scalars import JSON

from db import models
from db.engine import missing_reference
from db.idempotency import Claim, KeyTaken, claim_with_answer, fingerprint, lookup, well_formed
from db.prepared import Runner
from db.queries import learners, pipelines, values
from schema.context import Context
from schema.errors import (
    BatchError,
    ConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    ItemError,
    NotFoundError,
    UserError,
    ValueConflictError,
)
from schema.permissions import VALUES
from schema.types import CtxInfo, Propagation, VariableValue
from schema.validation import MAX_TEXT, ValueRejected, coerce_value
from schema.writes import not_found

MAX_BATCH = 1000


@strawberry.type
class RecordedValues:
    data: list[VariableValue]


SetErrors = NotFoundError | InvalidInputError | ConflictError | ValueConflictError | IdempotencyKeyReusedError
VariableValuePayload = Annotated[VariableValue | SetErrors, strawberry.union("VariableValuePayload")]
RecordedValuesPayload = Annotated[
    RecordedValues | BatchError | InvalidInputError | IdempotencyKeyReusedError,
    strawberry.union("RecordedValuesPayload"),
]


@strawberry.input
class SetVariableInput:
    variable_id: uuid.UUID
    learner_id: uuid.UUID
    value: JSON
    course_run_id: uuid.UUID | None = None
    expected_value_id: uuid.UUID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Record only if this is the current value's id (null: only if there is no value yet).",
    )


@strawberry.input
class SetVariablesInput:
    values: list[SetVariableInput]


class _Rollback(Exception):
    """Raised inside a write transaction to undo it and answer `error` instead."""

    def __init__(self, error: UserError) -> None:
        super().__init__(error.message)
        self.error = error


def _new_value(ctx: Context, item: SetVariableInput, stored: Any, number: float | None) -> values.NewValue:
    return values.NewValue(
        variable_id=item.variable_id,
        learner_id=item.learner_id,
        course_run_id=item.course_run_id,
        value=stored,
        value_number=number,
        recorded_by_key_id=ctx.key.key_id if ctx.key else None,
        recorded_by_user=ctx.user.user_id if ctx.user else None,
    )


async def _carry(
    conn: Runner, org: uuid.UUID, new: values.NewValue, source: dict[str, Any], source_type: str
) -> list[Propagation]:
    """Records what each active connection from the new value's variable carries into its target, in the set's
    transaction: all the targets' rows at once. Raises `_Rollback` if a target cannot take the value."""
    carried, courses_reached = [], []
    for connection in await pipelines.targets_of(conn, org, new.variable_id):
        stored, number = pipelines.carried_value(source_type, connection["type"], new.value, new.value_number)
        if isinstance(stored, str) and len(stored) > MAX_TEXT:
            error = InvalidInputError(message="value: too long for a text input it is connected to", field="value")
            raise _Rollback(error)  # the source's row is not kept without its targets'
        target = values.NewValue(
            variable_id=connection["variable_id"],
            learner_id=new.learner_id,
            course_run_id=None,
            value=stored,
            value_number=number,
            recorded_by_key_id=new.recorded_by_key_id,
            recorded_by_user=new.recorded_by_user,
        )
        carried.append(values.Carried(target, source["id"], connection["connection_id"]))
        if connection["course_id"] is not None:  # a learner receiving a value in a course is enrolled in it
            courses_reached.append(connection["course_id"])
    rows = await values.record_carried(conn, org, carried, source["recorded_at"])
    if courses_reached:
        await learners.ensure_enrolled_in(conn, org, new.learner_id, courses_reached)
    return [
        Propagation(variable_id=row["variable_id"], value_id=row["id"], connection_id=row["connection_id"])
        for row in rows
    ]


async def _set_one(ctx: Context, conn: Runner, input: SetVariableInput) -> VariableValue | UserError:
    """One set inside the caller's transaction: a typed error before anything is written, `_Rollback` after."""
    org = ctx.org_id
    target = await values.set_targets(conn, org, input.variable_id, input.learner_id, input.course_run_id)
    if target is None or not ctx.sees_course(target.course_id):
        return not_found("variable", "variableId")
    if not target.learner_exists:
        return not_found("learner", "learnerId")
    if input.course_run_id is not None:
        if target.run_course_id is None:
            return not_found("course run", "courseRunId")
        if target.course_id is not None and target.run_course_id != target.course_id:
            return InvalidInputError(
                message="the course run belongs to another course than the variable", field="courseRunId"
            )
    if not target.active:
        return InvalidInputError(message="the variable is inactive", field="variableId")
    try:
        stored, number = coerce_value(models.VariableType(target.type), input.value)
    except ValueRejected as exc:
        return InvalidInputError(message=f"value: {exc}", field="value")
    new = _new_value(ctx, input, stored, number)
    if input.expected_value_id is strawberry.UNSET:
        row = await values.record_value(conn, org, new)
    else:
        expected = input.expected_value_id
        written = await values.record_value_if_current(conn, org, new, expected)
        if written is None:  # nothing was written: the refusal commits with the idempotency claim, if any
            now = await values.current_value(conn, org, input.variable_id, input.learner_id, input.course_run_id)
            wanted = "no value yet" if expected is None else f"value {expected}"
            return ValueConflictError(
                message=f"the current value is not the expected one ({wanted})",
                field="expectedValueId",
                current=VariableValue.from_row(now) if now else None,
            )
        row = written
    course_id = target.course_id or target.run_course_id
    if course_id is not None:
        await learners.ensure_enrolled(
            conn, org, learner_id=input.learner_id, course_id=course_id, course_run_id=input.course_run_id
        )
    carried: list[Propagation] = []
    if target.feeds:  # read only when a connection exists: a plain set costs no statement more
        carried = await _carry(conn, org, new, row, target.type)
    ctx.carried[row["id"]] = carried
    return VariableValue.from_row(row)


def _checked(
    ctx: Context, items: list[SetVariableInput], found: values.BatchTargets
) -> tuple[list[ItemError], list[tuple[Any, float | None]]]:
    """Every item's problem, or else every item's value as stored (and its number)."""
    problems: list[ItemError] = []
    coerced: list[tuple[Any, float | None]] = []
    for index, item in enumerate(items):

        def refuse(code: str, message: str, field: str, index: int = index) -> None:
            problems.append(ItemError(index=index, code=code, message=message, field=field))

        variable = found.variables.get(item.variable_id)
        if variable is None or not ctx.sees_course(variable["course_id"]):
            refuse("not_found", "variable not found", "variableId")
            continue
        if item.learner_id not in found.learners:
            refuse("not_found", "learner not found", "learnerId")
            continue
        if item.course_run_id is not None:
            run_course = found.run_courses.get(item.course_run_id)
            if run_course is None:
                refuse("not_found", "course run not found", "courseRunId")
                continue
            if variable["course_id"] is not None and run_course != variable["course_id"]:
                refuse("invalid_input", "the course run belongs to another course than the variable", "courseRunId")
                continue
        if not variable["active"]:
            refuse("invalid_input", "the variable is inactive", "variableId")
            continue
        if item.expected_value_id is not strawberry.UNSET:
            refuse("invalid_input", "a batch item takes no expectedValueId: use setVariable", "expectedValueId")
            continue
        try:
            coerced.append(coerce_value(models.VariableType(variable["type"]), item.value))
        except ValueRejected as exc:
            refuse("invalid_input", f"value: {exc}", "value")
    return problems, coerced


async def _set_many(
    ctx: Context, conn: Runner, items: list[SetVariableInput], validate_only: bool = False
) -> RecordedValues | UserError:
    """A batch inside the caller's transaction: every item checked first (three statements whatever the size), then
    the history and current values written in two batches, enrolments in a third."""
    if not 1 <= len(items) <= MAX_BATCH:
        return InvalidInputError(message=f"values: 1 to {MAX_BATCH} items", field="values")
    org = ctx.org_id
    found = await values.batch_targets(
        conn,
        org,
        [item.variable_id for item in items],
        [item.learner_id for item in items],
        [item.course_run_id for item in items if item.course_run_id is not None],
    )
    problems, coerced = _checked(ctx, items, found)
    if problems:
        count = f"{len(problems)} of {len(items)} items" if len(problems) > 1 else "1 item"
        return BatchError(message=f"nothing was recorded: {count} cannot be", field="values", items=problems)
    if validate_only:
        return RecordedValues(data=[])
    news, enrolments = [], []
    for item, (stored, number) in zip(items, coerced, strict=True):
        variable = found.variables[item.variable_id]
        news.append(_new_value(ctx, item, stored, number))
        course_id = variable["course_id"] or (found.run_courses[item.course_run_id] if item.course_run_id else None)
        if course_id is not None:
            enrolments.append((item.learner_id, course_id, item.course_run_id))
    rows = await values.record_values(conn, org, news)
    await learners.ensure_enrolled_many(conn, org, enrolments)
    for new, row in zip(news, rows, strict=True):
        variable = found.variables[new.variable_id]
        carried = await _carry(conn, org, new, row, variable["type"]) if variable["feeds"] else []
        ctx.carried[row["id"]] = carried
    return RecordedValues(data=[VariableValue.from_row(row) for row in rows])


# What an idempotent answer stores: the recorded values' ids, or the error to answer again.
def _reference(answer: Any) -> dict[str, Any]:
    if isinstance(answer, VariableValue):
        return {"value_ids": [str(answer.id)]}
    if isinstance(answer, RecordedValues):
        return {"value_ids": [str(v.id) for v in answer.data]}
    error: dict[str, Any] = {"type": type(answer).__name__, "message": answer.message, "field": answer.field}
    if isinstance(answer, BatchError):
        error["items"] = [vars(item) for item in answer.items]
    if isinstance(answer, ValueConflictError):
        error["current_id"] = str(answer.current.id) if answer.current is not None else None
    return {"error": error}


_REPLAYABLE_ERRORS: dict[str, type[UserError]] = {
    cls.__name__: cls for cls in (NotFoundError, InvalidInputError, ConflictError, BatchError, ValueConflictError)
}


async def _replayed(ctx: Context, reference: dict[str, Any], batch: bool) -> Any:
    if "error" in reference:
        error = dict(reference["error"])
        cls = _REPLAYABLE_ERRORS[error.pop("type")]
        if "items" in error:
            error["items"] = [ItemError(**item) for item in error["items"]]
        if "current_id" in error:  # the value that was current when the compare-and-set lost
            current_id = error.pop("current_id")
            row = await ctx.loaders.value.load(uuid.UUID(current_id)) if current_id else None
            error["current"] = VariableValue.from_row(row) if row is not None else None
        return cls(**error)
    ids = [uuid.UUID(i) for i in reference["value_ids"]]
    rows = await ctx.loaders.value.load_many(ids)
    recorded = [VariableValue.from_row(row) for row in rows if row is not None]
    return RecordedValues(data=recorded) if batch else recorded[0]


async def _write(
    ctx: Context,
    work: Callable[[Runner], Awaitable[Any]],
    idempotency: tuple[str, Any] | None,
    learner_ids: Sequence[uuid.UUID],
    *,
    batch: bool,
) -> Any:
    """Runs `work` in one transaction; with an idempotency key, claims it there with the answer, or replays.

    A write that met a row deleted after its checks read it (a learner erased meanwhile) is run once more: its
    checks then see the deletion and refuse it, and it names no learner, since it writes nothing of theirs."""
    claim = None
    if idempotency is not None:
        key, asked = idempotency
        if not well_formed(key):
            return InvalidInputError(
                message="idempotencyKey: 1 to 255 visible ASCII characters", field="idempotencyKey"
            )
        claim = Claim(ctx.org_id, ctx.principal.actor, key, fingerprint("graphql", asked))
    try:
        for last in (False, True):
            try:
                async with ctx.db.runner(transaction=True, learner_ids=learner_ids) as conn:
                    answer = await work(conn)
                    if claim is not None:  # a refusal wrote nothing about its learners: it does not name them
                        named = () if isinstance(answer, UserError) else learner_ids
                        await claim_with_answer(conn, claim, 200, _reference(answer), named)
                return answer
            except _Rollback as stop:
                if claim is None:
                    return stop.error
                async with ctx.db.runner(transaction=True) as conn:  # the refusal is the answer a retry gets
                    await claim_with_answer(conn, claim, 200, _reference(stop.error))
                return stop.error
            except Exception as exc:
                if last or not missing_reference(exc):
                    raise
                learner_ids = ()
        raise AssertionError("unreachable")
    except KeyTaken as taken:
        if taken.claim is not claim:  # the REST request's own key, taken by a racer: its middleware replays
            raise
        async with ctx.db.runner() as conn:
            stored = await lookup(conn, claim)
        if stored is None or stored["fingerprint"] != claim.fingerprint or stored["response"] is None:
            return IdempotencyKeyReusedError(
                message="this idempotencyKey was used with another request; use a new key", field="idempotencyKey"
            )
        return await _replayed(ctx, orjson.loads(stored["response"]), batch)


def _asked(input: SetVariableInput) -> dict[str, Any]:
    return {name: str(v) if isinstance(v, uuid.UUID) else v for name, v in vars(input).items()
            if v is not strawberry.UNSET}  # fmt: skip


@strawberry.type
class ValueMutation:
    @strawberry.mutation(
        permission_classes=VALUES,
        description="Records a value ('number' takes numeric strings), and carries it along every connection from "
        "the variable in an active pipeline, in the same transaction. With `expectedValueId`, only if that is the "
        "current value (null: only if there is none yet). With `idempotencyKey`, a retry answers the first answer.",
    )
    async def set_variable(
        self, info: CtxInfo, input: SetVariableInput, idempotency_key: str | None = None
    ) -> VariableValuePayload:
        ctx = info.context
        learner_ids = (input.learner_id,)
        if idempotency_key is None:  # the hot path: no claim, no closure
            try:
                async with ctx.db.runner(transaction=True, learner_ids=learner_ids) as conn:
                    return await _set_one(ctx, conn, input)  # type: ignore[return-value]  # a UserError is one of the union
            except _Rollback as stop:
                return stop.error  # type: ignore[return-value]  # likewise
            except Exception as exc:
                if not missing_reference(exc):
                    raise
            return await _write(ctx, lambda conn: _set_one(ctx, conn, input), None, (), batch=False)  # run again
        idempotency = (idempotency_key, ["set", _asked(input)])
        return await _write(ctx, lambda conn: _set_one(ctx, conn, input), idempotency, learner_ids, batch=False)

    @strawberry.mutation(
        permission_classes=VALUES,
        description="Records 1 to 1,000 values in one transaction, all or none: a `BatchError` names every item that "
        "cannot be recorded. Each is carried along its variable's connections. With `validateOnly`, every item is "
        "checked and nothing is recorded (no error: an empty `data`).",
    )
    async def set_variables(
        self,
        info: CtxInfo,
        input: SetVariablesInput,
        idempotency_key: str | None = None,
        validate_only: bool = False,
    ) -> RecordedValuesPayload:
        ctx = info.context
        items = input.values
        if validate_only:
            async with ctx.db.runner() as conn:
                return await _set_many(ctx, conn, items, validate_only=True)  # type: ignore[return-value]  # one of the union
        idempotency = None
        if idempotency_key is not None:
            idempotency = (idempotency_key, ["set-many", [_asked(item) for item in items]])
        learner_ids = sorted({item.learner_id for item in items})
        return await _write(ctx, lambda conn: _set_many(ctx, conn, items), idempotency, learner_ids, batch=True)
