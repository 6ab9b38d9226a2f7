"""Documents already accepted, run straight through graphql-core.

Frontends and the REST facade send the same few documents over and over. The first time, a document goes the
whole way through Strawberry: parsing under the token limit, validation with the depth rule, the extension hooks.
Once it has parsed and validated, its text is remembered with its parsed form, and later requests with the same
text go straight to graphql-core's `execute` with our execution context and resolvers. Nothing that could answer
differently is skipped: the extensions only parse, validate and cache, and for this text that work is done.
"""

from __future__ import annotations

from graphql import DocumentNode, parse
from graphql import ExecutionResult as CoreResult

from execution.bounded import MAX_WEIGHT, Bounded


class KnownDocuments(Bounded[str, DocumentNode]):
    """Accepted texts and their parsed forms, bounded in count and in text (`execution.bounded`)."""

    def __init__(self, maxsize: int = 256, max_weight: int = MAX_WEIGHT) -> None:
        super().__init__(maxsize, max_weight)

    def add(self, text: str) -> None:
        if len(text) <= self.max_weight:  # else it would not be kept: not even parsed
            self.put(text, parse(text), len(text))


def accepted(result: CoreResult) -> bool:
    """The document parsed and validated: it produced data, or its errors belong to fields (they have a path)."""
    return result.data is not None or any(error.path for error in result.errors or ())
