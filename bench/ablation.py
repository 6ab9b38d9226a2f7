"""Where a learner-values request's cost goes: the same endpoint with one layer taken away at a time.

`bench.profile` mounts these routes beside the real one, behind the same middleware (authentication, rate
limiting), and checks that each answers byte for byte what `GET /api/learners/{id}/variables` answers before it
measures anything. From the full request down:

- `resolvers`: the two Strawberry resolvers called directly (their wrappers: argument conversion, the permission
  check), without graphql-core's executor;
- `loaders`: the resolvers' own bodies, through the request's DataLoaders, without Strawberry's wrappers;
- `direct`: the same data-layer functions on one connection, without DataLoaders.

Every variant serializes each row with the plan a compiled operation uses for it (the leaf plan reading the
row itself, `schema/rows.py`), so the steps differ only in the layer removed. None of this is served by the app.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLResolveInfo
from graphql.pyutils import Path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from access.principal import SCOPE_KEY
from app.services import Services
from db.queries import learners, values
from execution.compat import graphql_schema
from execution.leaves import Plan, _build_plan
from rest import params as p
from rest.documents import DOCUMENTS
from rest.executor import compiled
from rest.handlers import learner_variables_page
from schema.context import Context
from schema.scalars import inline_serializers
from schema.types import LEARNER_VARIABLE_ROWS, Learner

VARIANTS = ("resolvers", "loaders", "direct")
# The LearnerVariables document's selection on each row: (response name, field name).
ROW_SHAPE = [("variable_id", "variableId"), ("name", "name"), ("course_id", "courseId"), ("type", "type"),
             ("course_run_id", "courseRunId"), ("value", "value"), ("recorded_at", "recordedAt"),
             ("value_id", "valueId")]  # fmt: skip
Fetch = Callable[[Services, Context, uuid.UUID], Awaitable[list[Any] | None]]
Resolve = Callable[..., Awaitable[Any]]


def path(variant: str, learner_id: str) -> str:
    return f"/api/_ablation/{variant}/learners/{learner_id}/variables"


def routes(services: Services) -> list[Route]:
    gql = graphql_schema(services.schema)
    assert "recorded_at: recordedAt" in DOCUMENTS["LearnerVariables"]  # the shape above is that document's
    plan = _build_plan(gql.type_map["LearnerVariable"], ROW_SHAPE, LEARNER_VARIABLE_ROWS, inline_serializers())
    assert plan is not None
    fetches: dict[str, Fetch] = {"resolvers": _resolvers(services), "loaders": _loaders, "direct": _direct}
    return [Route(path(variant, "{learner_id}"), _endpoint(services, fetches[variant], plan)) for variant in VARIANTS]


def _endpoint(services: Services, fetch: Fetch, plan: Plan) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # The real handler's steps, with `run(...)` replaced by `fetch` (which reads no course filter).
        learner_id = uuid.UUID(p.path_id(request, "learner_id"))  # as the GraphQL layer's UUID scalar parses it
        assert p.query_id(request, "course_id") is None
        page = p.page(request)
        context = services.graphql.context(request.scope[SCOPE_KEY])
        async with services.db.request():
            rows = await fetch(services, context, learner_id)
        data = {"result": None if rows is None else {"variables": [plan(row) for row in rows]}}
        return learner_variables_page(request, data, page)

    return endpoint


def _resolvers(services: Services) -> Fetch:
    """Looks up the document's nodes and the two fields once, as graphql-core's executor would per document."""
    gql = graphql_schema(services.schema)
    operation = compiled(services.schema)["LearnerVariables"].definitions[0]
    learner_node = operation.selection_set.selections[0]  # type: ignore[attr-defined]  # the document's first selection is a field
    variables_node = learner_node.selection_set.selections[0]
    learner_type = gql.type_map["Learner"]
    root_field, nested_field = gql.query_type.fields["learner"], learner_type.fields["variables"]
    resolve_learner: Resolve = root_field.resolve
    resolve_variables: Resolve = nested_field.resolve

    async def fetch(services: Services, context: Context, learner_id: uuid.UUID) -> list[Any] | None:
        def info(name: str, node: Any, field: Any, parent: Any, at: Path) -> GraphQLResolveInfo:
            # A stand-in for graphql-core's own: the two resolvers read only the context and the arguments.
            return GraphQLResolveInfo(name, [node], field.type, parent, at, gql, {}, None, operation,  # type: ignore[arg-type]  # a stand-in: the resolvers read only the context and arguments
                                      {"id": learner_id, "courseId": None}, context, None, None, None)  # type: ignore[arg-type]  # fmt: skip

        at = Path(None, "result", "Query")
        learner = await resolve_learner(None, info("learner", learner_node, root_field, gql.query_type, at),
                                        id=learner_id)  # fmt: skip
        if learner is None:
            return None
        at = at.add_key("variables", "Learner")
        found = await resolve_variables(learner, info("variables", variables_node, nested_field, learner_type, at),
                                        courseId=None)  # fmt: skip
        return None if found is None else found.rows

    return fetch


async def _loaders(services: Services, context: Context, learner_id: uuid.UUID) -> list[Any] | None:
    row = await context.loaders.learner.load(learner_id)
    if row is None:
        return None
    learner = Learner.from_row(row)
    return await context.loaders.current_by_learner.load((learner.id, None))


async def _direct(services: Services, context: Context, learner_id: uuid.UUID) -> list[Any] | None:
    async with services.db.runner() as conn:
        row = (await learners.get_learners(conn, context.org_id, [learner_id]))[0]
        if row is None:
            return None
        learner = Learner.from_row(row)
        return (await values.current_values_by_learner(conn, context.org_id, [learner.id]))[0]
