"""The GraphQL schema: one resolver set behind `/graphql` and the REST facade alike.

`build_schema(fast=...)` makes one per app: with the execution engine (`execution.FastSchema`) or as plain
Strawberry. Both answer every document the same; "Rules for resolvers" in docs/architecture.md says what the engine
asks of the code here.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from access.middleware import REQUEST_ID
from db.idempotency import KeyTaken
from execution.document_cache import DocumentCache, Documents
from schema.errors import ERROR_TYPES
from schema.mutations import Mutation
from schema.queries import Query
from schema.scalars import DateTime, inline_serializers

log = logging.getLogger("coursepipeline.graphql")
MAX_DEPTH = 10
MAX_TOKENS = 5000
# A request's rate budget is spent once per request, so one request runs a bounded number of mutation fields (a
# batch of values is one field: `setVariables`).
MAX_MUTATION_FIELDS = 10


class MutationFieldLimit(ValidationRule):
    """Refuses a mutation of more than `MAX_MUTATION_FIELDS` root fields (aliases and fragments counted)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if node.operation is OperationType.MUTATION:
            count = self._fields(node.selection_set, set())
            if count > MAX_MUTATION_FIELDS:
                message = (
                    f"A request runs at most {MAX_MUTATION_FIELDS} mutation fields (this one {count}): "
                    "record many values with one setVariables, or send several requests."
                )
                self.report_error(GraphQLError(message, node))

    def _fields(self, selections: SelectionSetNode, seen: set[str]) -> int:
        count = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                count += self._fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = self.context.get_fragment(selection.name.value)
                if fragment is not None:
                    count += self._fields(fragment.selection_set, seen)
        return count


# Built once: a new rule class per request would change the validation cache's key and defeat it.
VALIDATION_RULES = [*QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules, MutationFieldLimit]


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
    documents = Documents()
    options = {
        "query": Query,
        "mutation": Mutation,
        "types": ERROR_TYPES,
        "config": StrawberryConfig(scalar_map={datetime: DateTime}),
        # The REST facade sends the same few documents over and over: parse and validate each once, in a cache
        # bounded in text (`execution.document_cache`). A public endpoint bounds what one document may ask for.
        "extensions": [
            lambda: DocumentCache(documents),
            lambda: AddValidationRules(VALIDATION_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
    }
    if fast:
        from execution.schema import FastSchema  # imported only when the installed libraries fit it

        class Fast(FastSchema):
            process_errors = staticmethod(_log_our_faults)

        fast_schema = Fast(**options, inline_serializers=inline_serializers())
        fast_schema.documents = documents
        return fast_schema

    class Plain(strawberry.Schema):
        process_errors = staticmethod(_log_our_faults)
        documents: Documents

    plain = Plain(**options)  # type: ignore[arg-type]  # the same options Fast takes, typed by Strawberry one by one
    plain.documents = documents
    return plain
