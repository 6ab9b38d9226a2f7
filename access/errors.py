"""Errors the HTTP layer answers with. Every error under `/api` and `/graphql` has the body
`{"error": "<code>", "message": "<human text>"}`.

    APIError(status, code, message)         the one exception type; raise it anywhere in the HTTP layer
      400 bad_request / invalid_json          malformed parameters or body
      401 unauthorized                        missing, malformed, unknown, expired or revoked credentials
      403 forbidden                           authenticated, but not allowed (an API key managing keys, a foreign org)
      404 not_found                           no such object in the caller's organization (foreign objects too)
      405 method_not_allowed
      409 conflict                            a unique name or external id already taken
      413 payload_too_large                   a body over the limit (1 MiB)
      429 rate_limited                        over the budget; `Retry-After` says when to come back
      431 headers_too_large                   request headers over 16 KiB in all
      500 internal_error                      our fault, never the caller's; details go to the log only, and the
                                              body and `X-Request-Id` carry the request id to quote
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "unavailable",
}


class APIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or REASONS.get(status, "error")
        self.message = message
        self.headers = headers or {}
        self.details = details  # fields the body carries beside `error` and `message`

    def response(self) -> Response:
        if self.details:
            body = orjson.dumps({"error": self.code, "message": self.message, **self.details})
            return Response(body, status_code=self.status, headers=self.headers, media_type="application/json")
        return error_response(self.status, self.message, code=self.code, headers=self.headers)


def error_body(status: int, message: str, code: str | None = None) -> bytes:
    return orjson.dumps({"error": code or REASONS.get(status, "error"), "message": message})


def error_response(
    status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        error_body(status, message, code), status_code=status, headers=headers, media_type="application/json"
    )


def unavailable_error(request_id: str) -> Response:
    """A 503 while the database cannot be reached: nothing was acknowledged, and the caller may retry shortly."""
    body = orjson.dumps({"error": "unavailable", "message": "The database is unavailable; retry shortly.",
                         "request_id": request_id})  # fmt: skip
    headers = {"X-Request-Id": request_id, "Retry-After": "1"}
    return Response(body, status_code=503, headers=headers, media_type="application/json")


def internal_error(request_id: str) -> Response:
    """A 500: a fixed message and the request id, never the cause (that is in the log, under the same id)."""
    body = orjson.dumps({"error": "internal_error", "message": "Internal server error.", "request_id": request_id})
    return Response(body, status_code=500, headers={"X-Request-Id": request_id}, media_type="application/json")
