"""`/graphql`: Strawberry's ASGI view with our context builder, orjson, and a GraphiQL page served offline."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException  # what Strawberry raises for a malformed request (its own dependency)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.asgi import GraphQL

from app.auth.principal import SCOPE_KEY
from app.errors import error_response
from app.services import Services
from app.static import graphiql_html
from schema.context import Context, build_context


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(services.schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self.services = services

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # The middleware lets exactly one kind of request through without a principal: a browser asking for the page.
        if SCOPE_KEY not in scope:
            await HTMLResponse(graphiql_html())(scope, receive, send)
            return
        try:
            async with self.services.db.request():
                response = await self.run(Request(scope, receive))
        except HTTPException as exc:  # a body that is not a GraphQL request: our error body, not plain text
            response = error_response(exc.status_code, exc.reason)
        await response(scope, receive, send)

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        return build_context(request.scope[SCOPE_KEY], self.services)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # type: ignore[override]
        return HTMLResponse(graphiql_html())

    def decode_json(self, data: str | bytes) -> object:
        # orjson's decode error is a json.JSONDecodeError, which Strawberry answers with a 400.
        return orjson.loads(data)

    def encode_json(self, data: Any) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)
