"""`DocumentCache`: parsing and validation done once per document text, within a budget of text.

Strawberry's own `ParserCache` and `ValidationCache` are bounded in entries only (an `lru_cache`), so a few hundred
distinct large documents would keep gigabytes. This one extension does the work of both over one `Bounded` map per
schema: text -> (parsed document, validation errors once known). A miss is parsed and validated by Strawberry as
usual (under the token limit, with the depth rule), and kept afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension

from execution.bounded import MAX_WEIGHT, Bounded


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    errors: list[GraphQLError] | None = None  # None until validated


class Documents(Bounded[str, _Entry]):
    """One schema's parsed and validated documents (shared by every request's `DocumentCache`)."""

    def __init__(self, maxsize: int = 256, max_weight: int = MAX_WEIGHT) -> None:
        super().__init__(maxsize, max_weight)


class DocumentCache(SchemaExtension):
    def __init__(self, documents: Documents) -> None:
        super().__init__()
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        entry = self.documents.get(text) if text else None
        if entry is not None:
            context.graphql_document = entry.document
        yield
        if entry is None and text and context.graphql_document is not None:
            self.documents.put(text, _Entry(context.graphql_document), len(text))

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        entry = self.documents.get(text) if text else None
        if entry is not None and entry.document is not context.graphql_document:
            entry = None  # the text was parsed afresh meanwhile: validate what this request holds
        if entry is not None and entry.errors is not None:
            context.pre_execution_errors = entry.errors
        yield
        if entry is not None and entry.errors is None and context.pre_execution_errors is not None:
            entry.errors = context.pre_execution_errors
