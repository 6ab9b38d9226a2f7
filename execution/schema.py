"""`FastSchema`: a Strawberry schema that runs documents it has accepted before through the engine.

The first time a document is sent it goes the whole way through Strawberry (parsing under the token limit,
validation, every extension hook). Once it has parsed and validated, its text is remembered (`KnownDocuments`),
and later requests with the same text are run from a compiled plan (`execution.plans`) or, where a plan cannot
express the operation, by graphql-core with the fast leaf context (`execution.leaves`). That is sound only while
the schema's extensions do nothing but parse, validate and bound documents: an extension with execution or
resolve hooks would be skipped for known documents, so `FastSchema` refuses any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, get_operation_ast
from graphql import execute as graphql_execute
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from execution.bounded import Bounded
from execution.compat import DEFAULT_ALLOWED_OPERATION_TYPES, graphql_schema, optimized_is_awaitable
from execution.document_cache import DocumentCache, Documents
from execution.known import KnownDocuments, accepted
from execution.leaves import Inline, LeafPlans, context_class
from execution.plans import MutationRan, Plans, Replay

# The extensions that only parse, validate and bound a document's text: done once per text, so known documents
# may skip them. Any other could hook execution and is refused.
DOCUMENT_EXTENSIONS = frozenset(
    {AddValidationRules, DocumentCache, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache}
)


class FastSchema(strawberry.Schema):
    documents: Documents | None = None  # the schema's `DocumentCache` store, if it has one

    def __init__(
        self, *args: Any, inline_serializers: Mapping[Callable[[Any], Any], Inline] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for extension in self.extensions:
            made = extension if isinstance(extension, SchemaExtension) else extension()  # a class or a factory
            if type(made) not in DOCUMENT_EXTENSIONS:
                raise TypeError(f"{type(made).__name__} may hook execution, which known documents would skip")
        self.known = KnownDocuments()
        self.fallbacks = 0  # requests a compiled plan handed to graphql-core (bad input, refusals, errors)
        self.leaves = LeafPlans(graphql_schema(self), inline_serializers)
        self.plans = Plans(self, self.leaves)
        self.execution_context_class = context_class(self.leaves)

    def caches(self) -> dict[str, Bounded[Any, Any]]:
        """Every cache the engine keeps for this schema, by name: each keyed by what callers send, so bounded."""
        caches: dict[str, Bounded[Any, Any]] = {
            "known_documents": self.known,
            "plans": self.plans.cache,
            "leaf_plans": self.leaves.plans,
            "operations": self.leaves.memos,
        }
        if self.documents is not None:
            caches["documents"] = self.documents
        return caches

    def cache_sizes(self) -> dict[str, tuple[int, int]]:
        """Entries and bound of every cache, by name."""
        return {name: (len(cache), cache.maxsize) for name, cache in self.caches().items()}

    async def execute(
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
        if query and accepted(result):  # type: ignore[arg-type]  # Strawberry's result is graphql-core's in shape
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
        """A document known to be valid for this schema: from its compiled plan when it has one and the request
        stays on it, otherwise by graphql-core with the fast leaf context."""
        middleware = None
        plan = self.plans.get(document, operation_name)
        if plan is not None:
            try:
                return ExecutionResult(data=await plan.run(context_value, variable_values, root_value), errors=None)
            except MutationRan as ran:
                self.fallbacks += 1
                middleware = [Replay(ran.outcomes)]  # its resolver ran: graphql-core completes what it returned
            except Exception:
                self.fallbacks += 1  # a query only reads: graphql-core runs it again and reports what went wrong
        result = graphql_execute(
            graphql_schema(self),
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
            result = await result
        if result.errors:  # type: ignore[union-attr]  # awaited above when it was awaitable
            self.process_errors(result.errors)  # type: ignore[union-attr]  # awaited above when it was awaitable
        return ExecutionResult(data=result.data, errors=result.errors)  # type: ignore[union-attr]  # awaited above when it was awaitable


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
