"""Documents already accepted, run straight through graphql-core.

Frontends and the REST facade send the same few documents over and over. The first time, a document goes the
whole way through Strawberry: parsing under the token limit, validation with the depth rule, the extension hooks.
Once it has parsed and validated, its text is remembered with its parsed form, and later requests with the same
text go straight to graphql-core's `execute` with our execution context and resolvers. Nothing that could answer
differently is skipped: the extensions only parse, validate and cache, and for this text that work is done.
"""

from __future__ import annotations

from collections import OrderedDict

from graphql import DocumentNode, parse
from graphql import ExecutionResult as CoreResult


class KnownDocuments:
    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def get(self, text: str) -> DocumentNode | None:
        document = self._documents.get(text)
        if document is not None:
            self._documents.move_to_end(text)
        return document

    def add(self, text: str) -> None:
        self._documents[text] = parse(text)
        if len(self._documents) > self.maxsize:
            self._documents.popitem(last=False)

    def __len__(self) -> int:
        return len(self._documents)


def accepted(result: CoreResult) -> bool:
    """The document parsed and validated: it produced data, or its errors belong to fields (they have a path)."""
    return result.data is not None or any(error.path for error in result.errors or ())
