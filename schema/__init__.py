"""The GraphQL schema: one resolver set behind `/graphql` and the REST facade alike."""

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, get_operation_ast
from graphql import execute as graphql_execute
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.compiled import MutationRan, Plans, Replay
from schema.errors import ERROR_TYPES
from schema.execution import FastLeafExecutionContext
from schema.known import KnownDocuments, accepted
from schema.mutations import Mutation
from schema.queries import Query
from schema.scalars import DateTime

log = logging.getLogger("coursepipeline.graphql")
MAX_DEPTH = 10
MAX_TOKENS = 5000
DEPTH_RULES = QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules


class Schema(strawberry.Schema):
    """Strawberry's schema, with documents it has accepted before run without the per-request extension work.

    That is sound because the extensions below only parse, validate, and bound tokens and depth, all done once per
    text. An extension with execution or resolve hooks would be skipped on that path: adding one means revisiting
    `execute` here.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known = KnownDocuments()
        self.plans = Plans(self)

    async def execute(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        known = await self.run_known(
            query, variable_values, context_value, root_value, operation_name, allowed_operation_types
        )
        if known is not None:
            return known
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )
        if query and accepted(result):  # type: ignore[arg-type]
            self.known.add(query)
        elif result.errors:
            _forget_frames(result.errors)
        return result

    async def run_known(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> ExecutionResult | None:
        """The result of a document accepted before, or None when the text is new, names no operation in it, or
        names one the transport does not allow (Strawberry's whole way then answers, and reports why)."""
        document = self.known.get(query) if query else None
        if document is None:
            return None
        operation = get_operation_ast(document, operation_name)
        allowed = DEFAULT_ALLOWED_OPERATION_TYPES if allowed_operation_types is None else allowed_operation_types
        if operation is None or OperationType(operation.operation.value) not in allowed:
            return None
        return await self.run_document(document, variable_values, context_value, root_value, operation_name)

    async def run_document(
        self,
        document: DocumentNode,
        variable_values: dict[str, Any] | None,
        context_value: Any,
        root_value: Any = None,
        operation_name: str | None = None,
    ) -> ExecutionResult:
        """A document known to be valid for this schema: from its compiled plan (`schema.compiled`) when it has
        one and the request stays on it, otherwise by graphql-core with our execution context."""
        middleware = None
        plan = self.plans.get(document, operation_name)
        if plan is not None:
            try:
                return ExecutionResult(data=await plan.run(context_value, variable_values, root_value), errors=None)
            except MutationRan as ran:
                middleware = [Replay(ran.outcomes)]  # its resolver ran: graphql-core completes what it returned
            except Exception:
                pass  # a query only reads: graphql-core runs it again and reports what went wrong
        result = graphql_execute(
            self._schema,
            document,
            root_value=root_value,
            context_value=context_value,
            variable_values=variable_values,
            operation_name=operation_name,
            executor_class=self.execution_context_class,
            is_awaitable=optimized_is_awaitable,
            middleware=middleware,
        )
        if optimized_is_awaitable(result):
            result = await result  # type: ignore[misc]
        if result.errors:  # type: ignore[union-attr]
            self.process_errors(result.errors)  # type: ignore[union-attr]
        return ExecutionResult(data=result.data, errors=result.errors)  # type: ignore[union-attr]

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


def _forget_frames(errors: list[GraphQLError]) -> None:
    """Strawberry's ValidationCache keeps a refused document's errors for the next request with the same text. An
    error raised while validating (a literal the scalar refused) holds its traceback, and through it every frame of
    the request that first sent the document, its context included: drop them once the errors have been logged.
    That is the error's own traceback, its original exception's, and those of the exceptions either was raised
    from or during."""
    pending: list[BaseException | None] = list(errors)
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        error.__traceback__ = None
        pending += [getattr(error, "original_error", None), error.__cause__, error.__context__]


def build_schema() -> Schema:
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
