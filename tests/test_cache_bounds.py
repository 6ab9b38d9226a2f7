"""Every cache the engine keeps is keyed by what callers send (document text, aliases, selections), so each is
bounded: many distinct documents leave each at its bound, never above it."""

from __future__ import annotations

import uuid

from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from access.principal import ApiKeyPrincipal
from app.services import Services
from schema.runtime import GraphQLRuntime

DOCUMENTS = 120
BOUND = 25


async def test_distinct_documents_leave_every_cache_at_its_bound(fast_services: Services):
    runtime = GraphQLRuntime.build(fast_services.db, lambda key_id: None, fast=True, secret="s" * 32)
    schema = runtime.schema
    for cache in (schema.known, schema.plans, schema.leaves):  # type: ignore[attr-defined]
        cache.maxsize = BOUND  # a small bound, so that a test's worth of documents passes it
    schema.leaves.operations = BOUND  # type: ignore[attr-defined]
    context = runtime.context(ApiKeyPrincipal(uuid.uuid4(), uuid.uuid4()))
    for i in range(DOCUMENTS):
        # Aliases a caller chose: each document is a new selection shape on Course and on the page.
        document = f"{{ courses {{ data {{ id{i}: id name{i}: name }} pagination {{ limit{i}: limit }} }} }}"
        for _ in range(2):  # the first run makes it known; the second runs it from its plan
            result = await schema.execute(document, context_value=context)
            assert result.errors is None, result.errors
            assert result.data == {"courses": {"data": [], "pagination": {f"limit{i}": 100}}}
    sizes = schema.cache_sizes()  # type: ignore[attr-defined]
    assert set(sizes) == {"known_documents", "plans", "leaf_plans", "operations"}
    assert sizes == {name: (BOUND, BOUND) for name in sizes}, sizes
    # Strawberry's own caches of parsed and validated documents are bounded too, at the sizes the schema asks for.
    for cache in (_get_parse_cache(256), _get_validate_cache(256)):
        info = cache.cache_info()  # type: ignore[attr-defined]
        assert info.maxsize == 256 and info.currsize <= 256
