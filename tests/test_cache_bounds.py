"""Every cache the engine keeps is keyed by what callers send (document text, aliases, selections), so each is
bounded: many distinct documents leave each at its bound, never above it."""

from __future__ import annotations

import gc
import uuid

import httpx

from access.principal import ApiKeyPrincipal
from app.services import Services
from execution.bounded import MAX_WEIGHT
from schema.runtime import GraphQLRuntime
from tests.conftest import Tenant

DOCUMENTS = 120
BOUND = 25


async def test_distinct_documents_leave_every_cache_at_its_bound(fast_services: Services):
    runtime = GraphQLRuntime.build(fast_services.db, lambda key_id: None, fast=True, secret="s" * 32)
    schema = runtime.schema
    for cache in schema.caches().values():  # type: ignore[attr-defined]
        cache.maxsize = BOUND  # a small bound, so that a test's worth of documents passes it
    context = runtime.context(ApiKeyPrincipal(uuid.uuid4(), uuid.uuid4()))
    for i in range(DOCUMENTS):
        # Aliases a caller chose: each document is a new selection shape on Course and on the page.
        document = f"{{ courses {{ data {{ id{i}: id name{i}: name }} pagination {{ limit{i}: limit }} }} }}"
        for _ in range(2):  # the first run makes it known; the second runs it from its plan
            result = await schema.execute(document, context_value=context)
            assert result.errors is None, result.errors
            assert result.data == {"courses": {"data": [], "pagination": {f"limit{i}": 100}}}
    sizes = schema.cache_sizes()  # type: ignore[attr-defined]
    assert set(sizes) == {"known_documents", "plans", "leaf_plans", "operations", "documents"}
    assert sizes == {name: (BOUND, BOUND) for name in sizes}, sizes


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


async def test_a_flood_of_large_distinct_documents_does_not_grow_the_process(client: httpx.AsyncClient, tenant: Tenant):
    """Each document is as large as the token limit allows (1,600 aliased fields): entry bounds alone kept about
    4.8 MB of each, so 40 of them grew a process by some 190 MB. Bounded in text, the caches keep a few of them."""

    def document(i: int) -> str:
        fields = " ".join(f"a{i}x{j}: limit" for j in range(1600))
        return "{ courses { pagination { " + fields + " } } }"

    async def send(i: int) -> None:
        answer = await client.post("/graphql", json={"query": document(i)}, headers=tenant.key_headers)
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text[:200]

    for i in range(5):  # warm: the first requests load modules and fill pools
        await send(1000 + i)
    gc.collect()
    before = _rss_mib()
    for i in range(40):
        await send(i)
    gc.collect()
    grown = _rss_mib() - before
    assert grown < 60, f"grew by {grown:.0f} MiB"
    schema = client._transport.app.state.graphql.schema  # type: ignore[attr-defined]
    caches = schema.caches().values() if hasattr(schema, "caches") else [schema.documents]
    assert all(cache.weight <= MAX_WEIGHT for cache in caches)
