"""Pure ASGI middleware for everything under `/api` and `/graphql`, in the order they run:

0. `RequestIdMiddleware` (for every request) refuses headers over `MAX_HEADER_BYTES` with 431, takes the caller's
   `X-Request-Id` when it is well formed, or makes one, passes it down in the scope and in a context variable for
   the logs, and sends it back on the response, with the security headers every answer carries (no framing, no
   sniffing, no referrer) and, on the API's answers, `Cache-Control: no-store` unless the handler chose otherwise:
   they are private to the caller, and some carry secrets.
1. `AuthMiddleware` resolves the principal once and passes it down in the scope (or the reason it failed).
2. `RateLimitMiddleware` draws on the caller's budget (per key, per user, or per address when unauthenticated),
   adds the budget headers, answers 429 when spent, and only then delivers an authentication failure, so
   floods of bad credentials are limited too.
3. `BodyLimitMiddleware` buffers the body up to the limit, answers 413 past it, and passes the body down in the
   scope (`BODY_KEY`) as well as through `receive`. It refuses a NUL character anywhere in the path, the query or
   a string of the body with 400: no database stores one (PostgreSQL refuses it, SQLite truncates at it).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from os import urandom
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from access.authenticator import Authenticator, header
from access.errors import APIError, error_response
from access.principal import SCOPE_KEY, ApiKeyPrincipal
from access.ratelimit import Decision, RateLimits
from access.usage import UsageCounter

AUTH_ERROR_KEY = "coursepipeline.auth_error"
BODY_KEY = "coursepipeline.body"
REQUEST_ID_KEY = "coursepipeline.request_id"
STATUS_KEY = "coursepipeline.status"  # the answer's status, once it has started (for `app.metrics`)
# The request being served, for log records (`app.logging`); "-" outside a request.
REQUEST_ID: ContextVar[str] = ContextVar("coursepipeline_request_id", default="-")
_WELL_FORMED_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
MAX_HEADER_BYTES = 16 * 1024  # all of a request's header names and values together
PUBLIC_PREFIXES = ("/api/docs", "/api/openapi.json")
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)
NO_STORE = (b"cache-control", b"no-store")


def guarded(scope: Scope) -> bool:
    """Whether the request needs credentials and draws on a budget."""
    if scope["type"] != "http":
        return False
    path: str = scope["path"]
    if path.startswith(PUBLIC_PREFIXES):
        return False
    if path == "/graphql" or path.startswith("/graphql/"):
        return not _wants_graphiql_page(scope)
    return path == "/api" or path.startswith("/api/")


def _wants_graphiql_page(scope: Scope) -> bool:
    if scope["method"] != "GET" or b"query=" in scope.get("query_string", b""):
        return False
    return "text/html" in (header(scope, b"accept") or "")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, size = None, 0
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            if name == b"x-request-id":
                given = value
        # A new id is 128 random bits in hex, as `uuid4().hex` writes them, without building a UUID object.
        request_id = given.decode() if given is not None and _WELL_FORMED_ID.fullmatch(given) else urandom(16).hex()
        scope[REQUEST_ID_KEY] = request_id
        encoded = (b"x-request-id", request_id.encode())
        if size > MAX_HEADER_BYTES:  # a credential is never this long: refused before anything parses it
            response = error_response(
                431, f"Request headers exceed {MAX_HEADER_BYTES} bytes.", code="headers_too_large"
            )
            response.headers["X-Request-Id"] = request_id
            scope[STATUS_KEY] = 431
            await response(scope, receive, send)
            return
        token = REQUEST_ID.set(request_id)
        private = guarded(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), encoded, *SECURITY_HEADERS]
                if private and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = headers
                scope[STATUS_KEY] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


def has_nul(value: Any) -> bool:
    """Whether a parsed JSON value holds a NUL character in any string or key (or its escape's text, which a GraphQL
    document decodes into one)."""
    if isinstance(value, str):
        return "\x00" in value or "\\u0000" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _nul_in_body(body: bytes) -> bool:
    if b"\\u0000" not in body:  # in JSON a NUL can only be written as this escape: most bodies stop here
        return False
    try:
        return has_nul(orjson.loads(body))
    except orjson.JSONDecodeError:
        return False  # not JSON: the handler refuses it with its own message


class AuthMiddleware:
    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if guarded(scope):
            try:
                scope[SCOPE_KEY] = await self.authenticator.authenticate(scope)
            except APIError as exc:
                scope[AUTH_ERROR_KEY] = exc
        await self.app(scope, receive, send)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: RateLimits | None, usage: UsageCounter | None = None) -> None:
        self.app = app
        self.limits = limits
        self.usage = usage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not guarded(scope):
            await self.app(scope, receive, send)
            return
        decision: Decision | None = None
        principal = scope.get(SCOPE_KEY)
        if self.limits is not None:
            client = scope.get("client") or ("unknown", 0)
            key = principal.rate_limit_key if principal is not None else f"ip:{client[0]}"
            decision = await self.limits.hit(key)
        if self.usage is not None and isinstance(principal, ApiKeyPrincipal):
            self.usage.count(principal.key_id, decision is not None and not decision.allowed)
        if decision is not None and not decision.allowed:
            headers = decision.headers()
            message = f"Rate limit exceeded; retry in {headers['Retry-After']} seconds."
            await error_response(429, message, headers=headers)(scope, receive, send)
            return
        failure: APIError | None = scope.get(AUTH_ERROR_KEY)
        if failure is not None:
            budget = decision.headers() if decision is not None else {}
            await error_response(failure.status, failure.message, headers={**failure.headers, **budget})(
                scope, receive, send
            )
            return
        if decision is None:
            await self.app(scope, receive, send)
            return
        encoded = decision.raw_headers()

        async def send_with_budget(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await self.app(scope, receive, send_with_budget)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or b"%00" in (scope.get("raw_path") or b""):
            await _refuse_nul(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self.too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self.too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = scope[BODY_KEY] = b"".join(chunks)  # read from here, a REST handler skips Starlette's body stream
        if _nul_in_body(body):
            await _refuse_nul(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, f"Request body exceeds {self.max_bytes} bytes.")(scope, receive, send)


async def _refuse_nul(scope: Scope, receive: Receive, send: Send) -> None:
    await error_response(400, "NUL characters (\\u0000) are not accepted in any parameter or value.")(
        scope, receive, send
    )
