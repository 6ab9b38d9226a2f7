"""`/metrics` in Prometheus's text format, for operators: requests and their latency by route, the database pools,
and the execution engine. Not public: it answers only a bearer token that `COURSEPIPELINE_METRICS_TOKEN` names
(without one, 404).

Route labels are the routes' templates (`/api/learners/{learner_id}/variables`), never a caller's path, and methods
outside HTTP's are "other", so the number of series stays bounded whatever is requested.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from access.errors import error_response
from access.middleware import STATUS_KEY
from app.services import Services
from rest.routing import ROUTE_KEY

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One app's registry (each app its own, so several apps in one process never mix their numbers)."""

    def __init__(self, services: Services) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "coursepipeline_requests", "Requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "coursepipeline_request_duration_seconds",
            "Time from the request's arrival to its answer's end",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_State(services))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _State(Collector):
    """Read at each scrape: the database pools' use and the execution engine's state."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Any]:
        schema = self.services.graphql.schema
        fast = GaugeMetricFamily("coursepipeline_fast_execution", "1 while the execution engine runs requests")
        fast.add_metric([], 1.0 if self.services.graphql.fast else 0.0)
        yield fast
        fallbacks = CounterMetricFamily(
            "coursepipeline_engine_fallbacks", "Requests a compiled plan handed to graphql-core"
        )
        fallbacks.add_metric([], float(getattr(schema, "fallbacks", 0)))
        yield fallbacks
        pool = self.services.db.driver_pool_stats()
        if pool is not None:
            for name, help_text in (("pool_size", "Connections in the driver pool"),
                                    ("pool_available", "Idle connections in the driver pool"),
                                    ("requests_waiting", "Requests waiting for a driver connection")):  # fmt: skip
                gauge = GaugeMetricFamily(f"coursepipeline_db_{name}", help_text)
                gauge.add_metric([], float(pool.get(name, 0)))
                yield gauge


# Methods are labelled as themselves only when they are HTTP's: a caller may send any token there.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(scope: Scope) -> str:
    method: str = scope["method"]
    return method if method in _METHODS else "other"


def _route(scope: Scope) -> str:
    route = scope.get(ROUTE_KEY)
    if route is not None:
        return str(route.path)
    path = scope.get("path", "")
    return path if path in ("/graphql", "/health", "/metrics") else "other"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # The labelled series, found once each: prometheus_client's `labels()` takes a lock and builds its key.
        self._latency: dict[tuple[str, str], Any] = {}
        self._counts: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            # The status as `RequestIdMiddleware` saw it start (no send wrapper of our own: one per request is
            # enough); none started means an exception escaped, which Starlette answers with a 500.
            elapsed = time.perf_counter() - started
            status = scope.get(STATUS_KEY, 500)
            key = (_method(scope), _route(scope))
            latency = self._latency.get(key)
            if latency is None:
                latency = self._latency[key] = self.metrics.latency.labels(*key)
            latency.observe(elapsed)
            count = self._counts.get((*key, status))
            if count is None:
                count = self._counts[(*key, status)] = self.metrics.requests.labels(*key, str(status))
            count.inc()


def endpoint(metrics: Metrics, token: str | None) -> Any:
    async def metrics_page(request: Request) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token is None or not hmac.compare_digest(given.encode(), token.encode()):
            return error_response(404, f"No such endpoint: {request.method} {request.url.path}.")
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return metrics_page
