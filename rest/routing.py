"""The API's routes, tried by resource instead of one by one.

Starlette tries routes in order, matching each one's pattern against the path. A request for the last endpoint
of the table (a learner's values, among the busiest) matched every pattern before its own, and more with every
endpoint the table gains. `ResourceRoutes` keeps the table's order but tries
only the routes of the request's resource (`/api/learners`, `/api/variables`, ...), so overlapping patterns still
resolve as the table orders them.

`HandlerApp` runs a handler as its route's ASGI app. For a plain function Starlette adds a layer of its own per
request (a Request, closures, a wrapped `send` and an exception-handler lookup), only to answer the one exception
handlers raise on purpose, `APIError`, which `HandlerApp` answers itself. Anything else still reaches the app's
exception middleware as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from access.errors import APIError

ROUTE_KEY = "coursepipeline.route"
ALLOW_KEY = "coursepipeline.allow"


class HandlerApp:
    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self.handler(Request(scope, receive, send))
        except APIError as exc:
            response = exc.response()
        await response(scope, receive, send)


def resource(path: str) -> str:
    """`/api/learners/{learner_id}/variables` -> `/api/learners`."""
    return "/".join(path.split("/", 3)[:3])


class ResourceRoutes(BaseRoute):
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._by_resource: dict[str, list[Route]] = {}
        for route in routes:
            prefix = resource(route.path)
            assert "{" not in prefix, f"{route.path}: a resource is a fixed prefix"
            self._by_resource.setdefault(prefix, []).append(route)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # Under a root path, Starlette strips it before matching: rare enough to simply try every route then.
        candidates = self.routes if scope.get("root_path") else self._by_resource.get(resource(scope["path"]), ())
        partial: tuple[Match, Scope] | None = None
        allowed: set[str] = set()
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, {**child_scope, ROUTE_KEY: route}
            if match is Match.PARTIAL:  # the path fits, the method does not: a 405 if no other route takes it
                allowed |= route.methods or set()
                partial = partial or (match, {**child_scope, ROUTE_KEY: route})
        if partial is None:
            return Match.NONE, {}
        return partial[0], {**partial[1], ALLOW_KEY: allowed}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = scope.get(ALLOW_KEY)
        if allowed is not None and scope["method"] not in allowed:  # every method the path has, not one route's
            allow = ", ".join(sorted(allowed))
            message = f"{scope['method']} is not allowed on {scope['path']}; it takes {allow}."
            await APIError(405, message, headers={"Allow": allow}).response()(scope, receive, send)
            return
        await scope[ROUTE_KEY].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)
