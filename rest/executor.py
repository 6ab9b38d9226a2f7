"""Running a REST endpoint's document through the schema, with the same context builder as `/graphql`.

The documents are fixed, so each is parsed and validated once per schema, when first needed, and then run as a
known document (`GraphQLRuntime.run`): the same resolvers, permissions and execution context as `/graphql`.
A document that fails validation is a bug here, raised on first use and caught by the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import strawberry
from graphql import DocumentNode, GraphQLError, parse, validate
from starlette.requests import Request

from access.errors import APIError
from access.middleware import REQUEST_ID_KEY
from access.principal import SCOPE_KEY
from db.engine import unavailable
from db.idempotency import KeyTaken
from execution.compat import graphql_schema
from rest.documents import DOCUMENTS
from schema.cursors import CursorCodec
from schema.errors import BadInput
from schema.runtime import GraphQLRuntime

log = logging.getLogger("coursepipeline.rest")

# Typed errors a mutation may answer with, and the REST status each becomes.
ERROR_STATUS = {"not_found": 404, "invalid_input": 400, "conflict": 409, "idempotency_key_reused": 422}
# `extensions.code` of errors the schema raises, and their REST status.
RAISED_STATUS = {"FORBIDDEN": 403, "BAD_USER_INPUT": 400}


_compiled: WeakKeyDictionary[strawberry.Schema, dict[str, DocumentNode]] = WeakKeyDictionary()


def compiled(schema: strawberry.Schema) -> dict[str, DocumentNode]:
    """Every REST document, parsed and validated against `schema` (its graphql-core form), once per schema."""
    documents = _compiled.get(schema)
    if documents is None:
        documents = {}
        for name, text in DOCUMENTS.items():
            document = parse(text)
            errors = validate(graphql_schema(schema), document)
            if errors:
                raise RuntimeError(f"REST document {name} does not validate: {errors[0].message}")
            documents[name] = document
        _compiled[schema] = documents
    return documents


async def run(request: Request, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    graphql: GraphQLRuntime = request.app.state.graphql
    document = compiled(graphql.schema)[name]
    result = await graphql.run(DOCUMENTS[name], document, variables, request.scope[SCOPE_KEY], name)
    if result.errors:
        error = result.errors[0]
        if isinstance(error.original_error, KeyTaken):  # the idempotency middleware replays the first answer
            raise error.original_error
        status = RAISED_STATUS.get((error.extensions or {}).get("code", ""))
        if status is not None:  # a parameter the schema refused (a forged cursor) is a parameter like any other
            raise APIError(status, error.message, code="invalid_parameter" if status == 400 else None)
        if error.original_error is None or isinstance(error.original_error, GraphQLError):
            # Variables that failed the schema's own coercion (the REST checks should have caught them).
            raise APIError(400, error.message, code="invalid_parameter")
        request_id = request.scope.get(REQUEST_ID_KEY, "-")
        if unavailable(error.original_error):
            raise APIError(503, "The database is unavailable; retry shortly.", headers={"Retry-After": "1"},
                           details={"request_id": request_id})  # fmt: skip
        log.error("%s failed (request %s)", name, request_id, exc_info=error.original_error)
        raise APIError(500, "Internal server error.", code="internal_error", details={"request_id": request_id})
    assert result.data is not None
    return result.data


def found(data: dict[str, Any], what: str, key: str = "result") -> Any:
    value = data.get(key)
    if value is None:
        raise APIError(404, f"{what} not found.")
    return value


def payload(data: dict[str, Any]) -> dict[str, Any]:
    """A mutation's result, or its typed error as an APIError (with what the error carries beside its message:
    a conflict's `current` value, a batch's `items`)."""
    result = data["result"]
    code = result.get("code")
    if code in ERROR_STATUS and "message" in result:
        details = {k: v for k, v in result.items() if k not in ("__typename", "code", "message", "field")}
        raise APIError(ERROR_STATUS[code], result["message"], code=code, details=details or None)
    result.pop("__typename", None)
    return result


def sliced(
    request: Request, items: list[Any], page: dict[str, Any], kind: str, key: Callable[[Any], tuple[str, ...]]
) -> dict[str, Any]:
    """A list endpoint over a short nested list (a learner's courses): paged in memory, same envelope. A cursor
    names the last item of the page before by its `key`, so the next page starts after it wherever it now stands."""
    limit, offset, start = page["limit"], page["offset"], 0
    cursors: CursorCodec = request.app.state.graphql.cursors
    if page["cursor"] is not None:
        try:
            position = tuple(cursors.decode(kind, page["cursor"]))
        except BadInput as exc:
            raise APIError(400, exc.message, code="invalid_parameter") from None
        keys = [key(item) for item in items]
        # After the item itself, or (if it is gone) after where it stood in the list's order.
        start = keys.index(position) + 1 if position in keys else sum(1 for k in keys if k <= position)
    begin = start + offset
    window = items[begin : begin + limit]
    has_more = len(items) > begin + limit
    return {
        "data": window,
        "pagination": {
            "limit": limit,
            "offset": offset,
            "has_more": has_more,
            "next_cursor": cursors.encode(kind, key(window[-1])) if has_more and window else None,
        },
    }
