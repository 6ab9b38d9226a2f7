"""`/graphql`: Strawberry's ASGI view with our context builder, orjson, and a GraphiQL page served offline."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException  # what Strawberry raises for a malformed request (its own dependency)
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from access.errors import error_response
from access.middleware import REQUEST_ID_KEY
from access.principal import SCOPE_KEY
from app.static import graphiql_html
from db.engine import unavailable
from schema.context import Context
from schema.runtime import GraphQLRuntime


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, graphql: GraphQLRuntime) -> None:
        super().__init__(graphql.schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self.graphql = graphql

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # The middleware lets exactly one kind of request through without a principal: a browser asking for the page.
        if SCOPE_KEY not in scope:
            await HTMLResponse(graphiql_html())(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            async with self.graphql.db.request():
                response = (await self._known(request) if self.graphql.fast else None) or await self.run(request)
        except HTTPException as exc:  # a body that is not a GraphQL request: our error body, not plain text
            response = error_response(exc.status_code, exc.reason)
        await response(scope, receive, send)

    async def _known(self, request: Request) -> Response | None:
        """A JSON POST of a document the schema has accepted before, answered here as Strawberry's view would
        answer it (the same body and status), without the view's per-request machinery: most of what a frontend
        sends. Anything else (a new document, GET, a batch, multipart, a malformed body) returns None and takes
        the view's whole way, which also reads the body this has already read."""
        if request.method != "POST" or "multipart" in request.headers.get("accept", ""):
            return None
        if "application/json" not in request.headers.get("content-type", "").partition(";")[0]:
            return None
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
        if not isinstance(query, str) or not isinstance(variables, dict | None) or not isinstance(name, str | None):
            return None
        if not isinstance(data.get("extensions"), dict | None):
            return None
        context = self.graphql.context(request.scope[SCOPE_KEY])
        result = await self.graphql.schema.run_known(query, variables, context, None, name)  # type: ignore[attr-defined]  # a FastSchema whenever `graphql.fast`
        if result is None:
            return None
        return Response(self.encode_json(await self.process_result(request, result)), media_type="application/json")

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Strawberry's answer, with every error that is our fault masked: a fixed message and the request id,
        never driver text, SQL or parameters (the schema logged them, under the same id)."""
        if result.errors:
            request_id = request.scope.get(REQUEST_ID_KEY, "-")
            result.errors = [_masked(error, request_id) for error in result.errors]
        return process_result(result)

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]  # Strawberry declares its own request type
        return self.graphql.context(request.scope[SCOPE_KEY])

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_html())

    def decode_json(self, data: str | bytes) -> object:
        # orjson's decode error is a json.JSONDecodeError, which Strawberry answers with a 400.
        return orjson.loads(data)

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)


def _masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the caller may see it: bad documents, bad input and refusals as they are; anything else (a
    resolver's own exception) as a fixed message with the request id."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError) or (error.extensions or {}).get("code"):
        return error
    if unavailable(original):
        return GraphQLError(
            "The database is unavailable; retry shortly.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "UNAVAILABLE", "requestId": request_id},
        )
    return GraphQLError(
        f"Internal server error (request {request_id}).",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )
