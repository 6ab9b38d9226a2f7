"""The GraphQL schema: one resolver set behind `/graphql` and the REST facade alike."""

import logging
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import ERROR_TYPES
from schema.execution import FastLeafExecutionContext
from schema.mutations import Mutation
from schema.queries import Query
from schema.scalars import DateTime

log = logging.getLogger("coursepipeline.graphql")
MAX_DEPTH = 10
MAX_TOKENS = 5000
DEPTH_RULES = QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Logs only what is our fault: bad documents and permission refusals are the caller's business."""
        for error in errors:
            original = error.original_error
            if (
                original is not None
                and not isinstance(original, GraphQLError)
                and not (error.extensions or {}).get("code")
            ):
                log.error("GraphQL resolver failed", exc_info=error.original_error)


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=ERROR_TYPES,
        execution_context_class=FastLeafExecutionContext,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        # The REST facade sends the same few documents over and over: parse and validate each once
        # (the caches live at module level, shared by every request's fresh extension instance).
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            # A public endpoint bounds what one document may ask for. The depth rule is built once: a new rule
            # class per request would change the validation cache's key and defeat it.
            lambda: AddValidationRules(DEPTH_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
    )


schema = build_schema()
