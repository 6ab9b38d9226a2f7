"""Compiled operations answer exactly what graphql-core answers (data and errors alike), and a mutation's resolver
runs once whatever happens after it."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from typing import Annotated, Any

import graphql
import pytest
import strawberry
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info

from execution.compat import graphql_schema
from execution.dataloader import DataLoader
from execution.rows import Rows, row_shape
from execution.schema import FastSchema


class Allowed(BasePermission):
    message = "Not allowed here."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context["allowed"]


@strawberry.interface
class Problem:
    message: str


@strawberry.type
class Missing(Problem):
    code: str = "not_found"


@strawberry.type
class Thing:
    id: int
    name: str
    tags: list[str]

    @strawberry.field
    async def twin(self, info: Info) -> Thing | None:
        await asyncio.sleep(0)
        info.context["twins"] += 1
        return Thing(id=-self.id, name=self.name.upper(), tags=self.tags) if self.id > 0 else None

    @strawberry.field
    def label(self, prefix: str = "#") -> str:
        return f"{prefix}{self.id}"


Payload = Annotated[Thing | Missing, strawberry.union("Payload")]


@strawberry.input
class NoteInput:
    text: str
    loud: bool = False


@strawberry.input
class ThingInput:
    id: int
    name: str | None = None
    note: NoteInput | None = None


@strawberry.enum
class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


BUILT: list[int] = []  # ids of the readings made as objects


@strawberry.type
class Reading:
    id: int
    label: str
    level: Level
    note: str | None

    def __post_init__(self) -> None:
        BUILT.append(self.id)


READINGS = row_shape(
    Reading, renames={"label": "reading_label"}, lookups={"level": {"lo": Level.LOW, "hi": Level.HIGH}}
)


def _readings(broken: bool = False) -> Rows[Reading]:
    rows = [{"id": i, "reading_label": f"r{i}", "level": "hi" if i % 2 else "lo", "note": None} for i in range(4)]
    if broken:
        rows[2]["reading_label"] = None  # a null where the schema says non-null
    return Rows(READINGS, rows)


def _thing(i: int) -> Thing:
    return Thing(id=i, name=f"thing {i}", tags=["a", "b"][: i % 3])


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[Allowed])
    async def thing(self, id: int) -> Thing | None:
        await asyncio.sleep(0)
        return _thing(id) if id > 0 else None

    @strawberry.field
    async def things(self, limit: int = 3) -> list[Thing]:
        if limit < 1:
            raise ValueError("limit must be 1 or more")
        return [_thing(i) for i in range(1, limit + 1)]

    @strawberry.field
    def broken(self) -> Thing:
        return Thing(id=1, name=None, tags=[])  # type: ignore[arg-type]

    @strawberry.field
    async def readings(self, broken: bool = False) -> Sequence[Reading]:
        return _readings(broken)


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[Allowed])
    async def save(self, info: Info, input: ThingInput) -> Payload:
        info.context["saves"] += 1
        if input.id < 0:
            raise RuntimeError("storage failed")
        if input.id == 0:
            return Missing(message="no such thing")
        tags = [] if input.note is None else [input.note.text.upper() if input.note.loud else input.note.text]
        return Thing(id=input.id, name=input.name, tags=tags)  # type: ignore[arg-type]  # a null name breaks it


SCHEMA = FastSchema(query=Query, mutation=Mutation)

QUERY = """
query Q($id: Int!, $prefix: String) {
  thing(id: $id) { __typename id name tags label(prefix: $prefix) plain: label twin { id name twin { id } } }
  things { id label twin { id } }
}"""
SAVE = """
mutation Save($id: Int!, $name: String, $note: NoteInput) {
  result: save(input: {id: $id, name: $name, note: $note}) {
    __typename
    ... on Thing { id name label tags }
    ... on Problem { message }
    ... on Missing { code }
  }
}"""


def _context(allowed: bool = True) -> dict[str, Any]:
    return {"allowed": allowed, "saves": 0, "twins": 0}


def _answer(result: Any) -> dict[str, Any]:
    errors = [(e.message, e.path, (e.extensions or {}).get("code")) for e in result.errors or []]
    return {"data": result.data, "errors": errors}


async def _both(text: str, variables: dict[str, Any], allowed: bool = True) -> tuple[dict, dict, dict, dict]:
    """The answer and context of the compiled path (through `run_document`), then of graphql-core alone."""
    document = graphql.parse(text)
    assert SCHEMA.plans.get(document, None) is not None  # the document is compiled: the test measures that path
    compiled_context, core_context = _context(allowed), _context(allowed)
    compiled = await SCHEMA.run_document(document, variables, compiled_context)
    core = graphql.execute(
        graphql_schema(SCHEMA),
        document,
        context_value=core_context,
        variable_values=variables,
        executor_class=StrawberryGraphQLCoreExecutionContext,
    )
    if graphql.pyutils.is_awaitable(core):
        core = await core
    return _answer(compiled), compiled_context, _answer(core), core_context


@pytest.mark.parametrize(
    ("text", "variables", "allowed"),
    [
        (QUERY, {"id": 2, "prefix": "no. "}, True),
        (QUERY, {"id": 0}, True),  # a null object
        (QUERY, {"id": 2}, False),  # a refused permission
        (QUERY, {"id": "two"}, True),  # a variable that fails coercion
        (QUERY, {}, True),  # a required variable missing
        ("query L($limit: Int! = 2) { things(limit: $limit) { id } }", {}, True),  # a variable's default
        ("query L($limit: Int! = 2) { things(limit: $limit) { id } }", {"limit": 1}, True),
        ("{ things(limit: 0) { id } }", {}, True),  # a resolver that raises
        ("{ broken { id name } }", {}, True),  # a null where the schema says non-null
        ("{ things { id } broken { id } }", {}, True),
        # An argument's default, given through a nullable variable: missing, then null where it must not be.
        ("query L($limit: Int) { things(limit: $limit) { id } }", {}, True),
        ("query L($limit: Int) { things(limit: $limit) { id } }", {"limit": None}, True),
        ("query L($limit: Int) { things(limit: $limit) { id } }", {"limit": 2}, True),
    ],
)
async def test_queries_answer_as_graphql_core(text: str, variables: dict[str, Any], allowed: bool):
    compiled, _, core, _ = await _both(text, variables, allowed)
    assert compiled == core
    assert compiled["data"] is not None or compiled["errors"]


async def test_a_query_resolves_nested_fields_concurrently_and_in_selection_order(monkeypatch):
    def core_execute(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the compiled plan should have answered this alone")

    monkeypatch.setattr("execution.schema.graphql_execute", core_execute)
    compiled, context, core, _ = await _both(QUERY, {"id": 3, "prefix": "#"})
    assert compiled == core
    assert list(compiled["data"]["thing"]) == ["__typename", "id", "name", "tags", "label", "plain", "twin"]
    assert compiled["data"]["thing"]["twin"] == {"id": -3, "name": "THING 3", "twin": None}
    assert context["twins"] == 2 + 3  # thing's twin and its twin, and each of the three things' twins


@pytest.mark.parametrize(
    ("variables", "allowed", "saves"),
    [
        ({"id": 5, "name": "five"}, True, 1),  # a result
        ({"id": 5, "name": "five", "note": {"text": "hi", "loud": True}}, True, 1),  # a nested input
        ({"id": 5, "name": "five", "note": {"text": "hi"}}, True, 1),  # ... with a field's default
        ({"id": 5, "name": "five", "note": None}, True, 1),
        ({"id": 5, "name": "five", "note": {"loud": True}}, True, 0),  # ... missing a required field
        ({"id": 0}, True, 1),  # a typed error (union member through an interface)
        ({"id": -1, "name": "x"}, True, 1),  # the resolver raises
        ({"id": 5}, True, 1),  # the result breaks the schema (null name): completed by graphql-core, not run again
        ({"id": 5, "name": "five"}, False, 0),  # refused before anything ran
        ({"id": "five"}, True, 0),  # bad variables: nothing ran
        ({"id": None, "name": "x"}, True, 0),  # a null for a required variable
    ],
)
async def test_a_mutation_runs_once_and_answers_as_graphql_core(variables: dict[str, Any], allowed: bool, saves: int):
    compiled, compiled_context, core, core_context = await _both(SAVE, variables, allowed)
    assert compiled == core
    assert compiled_context["saves"] == core_context["saves"] == saves


def test_rows_are_a_sequence_of_the_objects_they_stand_for():
    readings = _readings()
    assert len(readings) == 4
    assert readings[1] == Reading(id=1, label="r1", level=Level.HIGH, note=None)
    assert readings[1:3] == [readings[1], readings[2]]
    assert list(readings) == [
        Reading(id=i, label=f"r{i}", level=[Level.LOW, Level.HIGH][i % 2], note=None) for i in range(4)
    ]


@pytest.mark.parametrize("broken", [False, True])
async def test_a_plan_reads_rows_without_making_their_objects_and_answers_as_graphql_core(broken: bool):
    text = "query R($broken: Boolean!) { readings(broken: $broken) { id label level note } }"
    BUILT.clear()
    compiled, _, core, _ = await _both(text, {"broken": broken})
    assert compiled == core
    if not broken:
        assert compiled["data"]["readings"][1] == {"id": 1, "label": "r1", "level": "HIGH", "note": None}
    document = graphql.parse(text)
    BUILT.clear()
    await SCHEMA.run_document(document, {"broken": False}, _context())
    assert BUILT == []  # the plan read the rows; graphql-core would have made all four objects


async def test_input_objects_are_converted_by_the_plan_as_strawberry_converts_them(monkeypatch):
    def strawberry_conversion(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the plan converts plain input objects itself")

    monkeypatch.setattr("execution.plans.convert_arguments", strawberry_conversion)
    monkeypatch.setattr("execution.schema.graphql_execute", strawberry_conversion)
    variables = {"id": 4, "name": "four", "note": {"text": "quiet"}}
    compiled = await SCHEMA.run_document(graphql.parse(SAVE), variables, _context())
    assert compiled.errors is None
    assert compiled.data == {
        "result": {"__typename": "Thing", "id": 4, "name": "four", "label": "#4", "tags": ["quiet"]}
    }


INPUT_LITERALS = [
    SAVE,
    SAVE.replace("note: $note", 'note: {text: "constant"}'),  # a constant in the literal: graphql-core's road
    SAVE.replace("Int!", "Int"),  # a nullable variable for a required field
    SAVE.replace("name: $name, ", ""),  # a nullable field left out of the literal
]


@pytest.mark.parametrize("text", INPUT_LITERALS)
@pytest.mark.parametrize(
    "variables", [{"id": 6, "name": "six", "note": {"text": "n"}}, {"id": 6}, {"id": None}, {"id": 6, "name": None}, {}]
)
async def test_input_literals_of_variables_are_coerced_as_graphql_core_coerces_them(
    text: str, variables: dict[str, Any]
):
    compiled, compiled_context, core, core_context = await _both(text, variables)
    assert compiled == core
    assert compiled_context["saves"] == core_context["saves"]


async def test_arguments_on_the_common_roads_skip_graphql_core_coercion(monkeypatch):
    def core_coercion(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("arguments given as variables, or as literals of variables, are read by the plan")

    monkeypatch.setattr("execution.coercion.get_argument_values", core_coercion)
    monkeypatch.setattr("execution.coercion.coerce_input_value", core_coercion)
    compiled, _, core, _ = await _both(SAVE, {"id": 7, "name": "seven", "note": None})
    assert compiled == core
    assert compiled["data"]["result"] == {"__typename": "Thing", "id": 7, "name": "seven", "label": "#7", "tags": []}
    compiled, _, core, _ = await _both(QUERY, {"id": 3, "prefix": "no. "})
    assert compiled == core
    assert compiled["data"]["thing"]["label"] == "no. 3"


@pytest.mark.parametrize(
    "text",
    [
        "{ __schema { queryType { name } } }",
        "query($on: Boolean!) { things { id name @include(if: $on) } }",
        'mutation { a: save(input: {id: 1, name: "a"}) { __typename } b: save(input: {id: 2}) { __typename } }',
    ],
)
async def test_what_a_plan_cannot_express_is_left_to_graphql_core(text: str):
    document = graphql.parse(text)
    assert SCHEMA.plans.get(document, None) is None
    result = await SCHEMA.run_document(document, {"on": True}, _context())
    assert result.errors is None
    assert result.data


@strawberry.type
class Owner:
    id: int

    @strawberry.field
    async def pet(self, info: Info) -> int:
        return await info.context["pets"].load(self.id)


@strawberry.type
class LoadingQuery:
    @strawberry.field
    async def owner(self, info: Info, id: int) -> Owner:
        return Owner(id=await info.context["owners"].load(id))

    @strawberry.field
    async def owners(self, info: Info, ids: list[int]) -> list[Owner]:
        """Loads started side by side by the resolver itself, not by the executor."""
        found = await asyncio.gather(*(info.context["owners"].load(i) for i in ids))
        return [Owner(id=i) for i in found]


LOADING = FastSchema(query=LoadingQuery)


async def _loading(text: str, compiled: bool) -> tuple[list[str], dict[str, Any]]:
    """What ran in which order (each batch, and a callback scheduled before the operation started), and the data."""
    events: list[str] = []

    def loader(name: str) -> DataLoader[int, int]:
        async def batch(keys: list[int]) -> list[int]:
            events.append(f"{name}{keys}")
            return [k * 10 if name == "pets" else k for k in keys]

        return DataLoader(batch)

    context = {"owners": loader("owners"), "pets": loader("pets")}
    document = graphql.parse(text)
    asyncio.get_running_loop().call_soon(events.append, "turn")
    if compiled:
        assert LOADING.plans.get(document, None) is not None
        result = await LOADING.run_document(document, {}, context)
    else:
        result = await graphql.execute(graphql_schema(LOADING), document, context_value=context)  # type: ignore[misc]
    assert not result.errors, result.errors
    return events, result.data  # type: ignore[return-value]


async def test_a_plan_with_one_resolver_at_a_time_loads_without_waiting_a_turn():
    text = "{ owner(id: 1) { id pet } }"
    compiled, data = await _loading(text, compiled=True)
    assert data == {"owner": {"id": 1, "pet": 10}}
    assert compiled == ["owners[1]", "pets[1]"]  # nothing could add a key: both ran before the loop turned once
    core, core_data = await _loading(text, compiled=False)
    assert core_data == data and core[0] == "turn"  # graphql-core's way: each load waits a turn for siblings


async def test_a_plan_running_resolvers_side_by_side_still_batches_their_loads():
    compiled, data = await _loading("{ a: owner(id: 1) { pet } b: owner(id: 2) { pet } }", compiled=True)
    assert data == {"a": {"pet": 10}, "b": {"pet": 20}}
    assert [e for e in compiled if e != "turn"] == ["owners[1, 2]", "pets[1, 2]"]


async def test_loads_a_resolver_gathers_itself_are_one_batch_in_a_plan_and_in_graphql_core():
    for compiled in (True, False):
        events, data = await _loading("{ owners(ids: [3, 1, 2]) { id } }", compiled=compiled)
        assert data == {"owners": [{"id": 3}, {"id": 1}, {"id": 2}]}
        assert [e for e in events if e != "turn"] == ["owners[3, 1, 2]"]
