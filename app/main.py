"""`create_app(settings)`: the ASGI app, its routes and its middleware, built from one settings object."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from access.errors import APIError, error_response, internal_error, unavailable_error
from access.idempotency import AnswerWriter, IdempotencyMiddleware
from access.middleware import (
    REQUEST_ID_KEY,
    AuthMiddleware,
    BodyLimitMiddleware,
    RateLimitMiddleware,
    RequestIdMiddleware,
)
from app.docs_examples import demo_examples
from app.graphql_view import GraphQLView
from app.health import health
from app.logging import install_redaction
from app.metrics import Metrics, MetricsMiddleware
from app.metrics import endpoint as metrics_endpoint
from app.services import Services
from app.settings import Settings
from app.static import routes as static_routes
from app.web import routes as web_routes
from db.engine import unavailable
from db.idempotency import prune
from rest.endpoints import routes as rest_routes
from rest.openapi import spec

log = logging.getLogger("coursepipeline")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, f"No such endpoint: {request.method} {request.url.path}.")
    if exc.status_code == 405:
        return error_response(
            405, f"{request.method} is not allowed on {request.url.path}.", headers=dict(exc.headers or {})
        )
    return error_response(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Our fault: the details go to the log, the caller gets a fixed message and the request id to quote. (Starlette
    calls this outside the app's own middleware, so the id header is added here.)"""
    request_id = request.scope.get(REQUEST_ID_KEY, "-")
    if unavailable(exc):
        log.warning("database unavailable on %s %s (request %s): %s", request.method, request.url.path, request_id, exc)
        return unavailable_error(request_id)
    log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id, exc_info=exc)
    return internal_error(request_id)


PRUNE_EVERY_SECONDS = 3600
USAGE_FLUSH_SECONDS = 5


async def _flush_usage(services: Services) -> None:
    """API key usage counted in memory goes to the database every few seconds, in one batch."""
    while True:
        await asyncio.sleep(USAGE_FLUSH_SECONDS)
        services.usage.roll_day()
        await services.usage.flush()


async def _prune_idempotency_keys(services: Services) -> None:
    """Expired idempotency keys are deleted hourly by every serving process (`coursepipeline prune` does it once)."""
    while True:
        await asyncio.sleep(PRUNE_EVERY_SECONDS)
        try:
            async with services.db.write() as conn:
                await prune(conn)
        except Exception:  # the database may be down for a while: try again next hour
            log.warning("pruning expired idempotency keys failed", exc_info=True)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    services = services or Services.build(settings)
    install_redaction()
    openapi = spec()

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        openapi.update(spec(await demo_examples(services.db)))
        pruning = asyncio.create_task(_prune_idempotency_keys(services))
        flushing = asyncio.create_task(_flush_usage(services))
        yield
        pruning.cancel()
        flushing.cancel()
        await services.usage.flush()
        await answers.close()
        await services.db.dispose()

    answers = AnswerWriter(services.db)
    graphql = GraphQLView(services.graphql)
    metrics = Metrics(services)
    app = Starlette(
        # The API first: Starlette tries routes in order, and API calls are nearly all the traffic.
        # No API pattern matches a path of the routes after it (/api/docs, /api/openapi.json included), and the
        # API's own order is the table's, so moving the API first changes nothing else.
        routes=[
            rest_routes(),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health),
            Route("/metrics", metrics_endpoint(metrics, settings.metrics_token)),
            Route("/api/openapi.json", openapi_json),
            *static_routes(),
            *web_routes(),
        ],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),  # reads the status RequestIdMiddleware records
            Middleware(RequestIdMiddleware),
            Middleware(AuthMiddleware, authenticator=services.authenticator),
            Middleware(RateLimitMiddleware, limits=services.rate_limits, usage=services.usage),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(
                IdempotencyMiddleware, db=services.db, answers=answers
            ),  # reads the body BodyLimitMiddleware buffered
        ],
        exception_handlers={APIError: _api_error, HTTPException: _http_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    # A trailing slash is a 404: Starlette's redirect would build its Location from the Host the caller sent.
    app.router.redirect_slashes = False
    app.state.services = services
    app.state.graphql = services.graphql
    return app
