"""The execution fast paths answer exactly what graphql-core's general path answers, errors included."""

from __future__ import annotations

import asyncio
import enum
import gc
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import graphql
import graphql.execution.executor as core
import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from execution.compat import graphql_schema
from execution.leaves import LeafPlans, context_class
from schema.scalars import DateTime, inline_serializers


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.enum
class Shade(enum.Enum):
    LIGHT = "light"
    DARK = strawberry.enum_value("dark", name="DEEP")  # serialized by another name than the member's


@strawberry.type
class Item:
    id: int
    name: str
    colour: Colour
    note: str | None
    shade: Shade = Shade.DARK


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(id=i, name=f"n{i}", colour=Colour.RED if i % 2 else Colour.BLUE, note=None) for i in range(5)]

    @strawberry.field
    def broken(self) -> list[Item]:
        # The third row breaks the schema's promise that `name` is never null.
        return [Item(id=i, name=None if i == 2 else f"n{i}", colour=Colour.RED, note="x") for i in range(4)]  # type: ignore[arg-type]

    @strawberry.field
    def maybe(self) -> list[Item | None]:
        return [Item(id=1, name="a", colour=Colour.BLUE, note=None), None]

    @strawberry.field
    def bad_enum(self) -> list[Item]:
        return [Item(id=1, name="a", colour="green", note=None)]  # type: ignore[arg-type]


def _schema(fast: bool, **options: Any) -> strawberry.Schema:
    """A schema run with the fast leaf context (its own leaf plans, as `FastSchema` gives it), or without."""
    schema = strawberry.Schema(**options)
    if fast:
        schema.execution_context_class = context_class(LeafPlans(graphql_schema(schema), inline_serializers()))
    return schema


def _run(fast: bool, document: str) -> dict[str, Any]:
    schema = _schema(fast, query=Query)
    result = schema.execute_sync(document)
    errors = [(e.message, e.path) for e in result.errors or []]
    return {"data": result.data, "errors": errors}


@pytest.mark.parametrize(
    "document",
    [
        "{ items { id name colour note __typename } }",
        "{ items { id colour shade } }",
        "{ items { a: id b: name ... on Item { colour } } }",
        "{ broken { id name } }",
        "{ maybe { id colour } }",
        "{ badEnum { id colour } }",
        "{ items { id } broken { id } }",
    ],
)
def test_fast_paths_answer_as_the_general_path(document: str):
    fast = _run(True, document)
    general = _run(False, document)
    assert fast == general
    assert fast["data"] is not None or fast["errors"]


SCHEMA = _schema(True, query=Query)


def _execute_parsed(document: Any, variables: dict[str, Any] | None, monkeypatch) -> tuple[Any, int]:
    """Runs an already parsed document (as the known-document path does) and counts sub-selection collections."""
    calls = 0
    collect = core.collect_subfields

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return collect(*args, **kwargs)

    monkeypatch.setattr(core, "collect_subfields", counting)
    result = graphql.execute(
        SCHEMA._schema, document, variable_values=variables, executor_class=SCHEMA.execution_context_class
    )
    return (result.data, result.errors), calls


def test_a_static_document_collects_its_selections_once(monkeypatch):
    document = graphql.parse("{ items { id ...More } maybe { id } } fragment More on Item { name colour }")
    first, first_calls = _execute_parsed(document, None, monkeypatch)
    again, again_calls = _execute_parsed(document, None, monkeypatch)
    assert first_calls > 0 and again_calls == 0
    assert again == first
    assert first[0]["items"][1] == {"id": 1, "name": "n1", "colour": "RED"} and first[1] is None


def test_a_document_with_directives_is_collected_for_each_request(monkeypatch):
    document = graphql.parse("query ($full: Boolean!) { items { id name @include(if: $full) } }")
    (full, _), _calls = _execute_parsed(document, {"full": True}, monkeypatch)
    (short, _), calls = _execute_parsed(document, {"full": False}, monkeypatch)
    assert full["items"][0] == {"id": 0, "name": "n0"}
    assert short["items"][0] == {"id": 0} and calls > 0


@strawberry.type
class Moment:
    at: datetime


ZONES = [UTC, ZoneInfo("Etc/UTC"), timezone(timedelta(0)), ZoneInfo("America/New_York"), ZoneInfo("Europe/London")]


@strawberry.type
class TimeQuery:
    @strawberry.field
    def moments(self) -> list[Moment]:
        instants = [datetime(2026, 1, 26, 17, 0, 5, 250000, tzinfo=UTC), datetime(2026, 7, 26, 17, 0, tzinfo=UTC)]
        return [Moment(at=instant.astimezone(zone)) for zone in ZONES for instant in instants]


@pytest.mark.parametrize("fast", [True, False])
def test_times_in_any_zone_are_answered_in_utc(fast: bool):
    # Twice: a zone no earlier test met is first worked out, then found known (as UTC or as not UTC).
    for _ in range(2):
        schema = _schema(fast, query=TimeQuery, config=StrawberryConfig(scalar_map={datetime: DateTime}))
        result = schema.execute_sync("{ moments { at } }")
        assert result.errors is None and result.data is not None
        assert [m["at"] for m in result.data["moments"]] == [
            "2026-01-26T17:00:05.250000Z",
            "2026-07-26T17:00:00Z",
        ] * len(ZONES)


class _Context:
    """Something a request's objects hang from; weakly referenceable, unlike a dict."""

    def __init__(self) -> None:
        self.rows = [Item(id=i, name=f"n{i}", colour=Colour.RED, note=None) for i in range(20)]


@strawberry.type
class AsyncQuery:
    @strawberry.field
    async def rows(self, info: strawberry.Info) -> list[Item]:
        await asyncio.sleep(0)
        return info.context.rows


@pytest.mark.parametrize(("fast", "freed"), [(True, True), (False, False)])
async def test_a_finished_request_is_freed_without_the_cyclic_collector(fast: bool, freed: bool):
    """Under load, what only the cyclic collector can free piles up and makes full collections frequent and slow.
    graphql-core's own executor (the second case) shows the cycle this guards against; should a graphql-core
    release stop making it, that case fails, and `FastLeafExecutionContext.__init__` can go."""
    schema = _schema(fast, query=AsyncQuery)
    context = _Context()
    alive = weakref.ref(context)
    gc.collect()
    gc.disable()
    try:
        result = await schema.execute("{ rows { id name } }", context_value=context)
        assert result.errors is None and len(result.data["rows"]) == 20
        del context, result
        assert (alive() is None) is freed
    finally:
        gc.enable()
