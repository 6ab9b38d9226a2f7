"""The GraphQL schema: one resolver set behind `/graphql` and the REST facade alike.

`build_schema(fast=...)` makes one per app: with the execution engine (`execution.FastSchema`) or as plain
Strawberry. Both answer every document the same; see the README's "Rules for resolvers" for what the engine asks
of the code here.
"""

from __future__ import annotations

import logging
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from access.middleware import REQUEST_ID
from db.idempotency import KeyTaken
from schema.errors import ERROR_TYPES
from schema.mutations import Mutation
from schema.queries import Query
from schema.scalars import DateTime, inline_serializers

log = logging.getLogger("coursepipeline.graphql")
MAX_DEPTH = 10
MAX_TOKENS = 5000
# Built once: a new rule class per request would change the validation cache's key and defeat it.
DEPTH_RULES = QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules


def _log_our_faults(errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
    """Logs only what is our fault: bad documents and permission refusals are the caller's business."""
    for error in errors:
        original = error.original_error
        if isinstance(original, KeyTaken):  # a retry: the idempotency middleware replays the first answer
            continue
        if original is not None and not isinstance(original, GraphQLError) and not (error.extensions or {}).get("code"):
            log.error("GraphQL resolver failed (request %s)", REQUEST_ID.get(), exc_info=original)


def build_schema(*, fast: bool) -> strawberry.Schema:
    """The schema, run by the execution engine when `fast` (the caller checks `execution.compat.supported()`)."""
    options = {
        "query": Query,
        "mutation": Mutation,
        "types": ERROR_TYPES,
        "config": StrawberryConfig(scalar_map={datetime: DateTime}),
        # The REST facade sends the same few documents over and over: parse and validate each once. A public
        # endpoint bounds what one document may ask for.
        "extensions": [
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: AddValidationRules(DEPTH_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
    }
    if fast:
        from execution.schema import FastSchema  # imported only when the installed libraries fit it

        class Fast(FastSchema):
            process_errors = staticmethod(_log_our_faults)

        return Fast(**options, inline_serializers=inline_serializers())

    class Plain(strawberry.Schema):
        process_errors = staticmethod(_log_our_faults)

    return Plain(**options)  # type: ignore[arg-type]  # the same options Fast takes, typed by Strawberry one by one
