"""What `/graphql` and the REST facade share in one app: its schema, and the request contexts it runs with."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import DocumentNode
from strawberry.dataloader import DataLoader as StrawberryDataLoader
from strawberry.types import ExecutionResult

from access.principal import Principal
from db.engine import Database
from execution import DataLoader
from schema import build_schema
from schema.context import Context, nothing
from schema.cursors import CursorCodec


@dataclass
class GraphQLRuntime:
    schema: strawberry.Schema
    db: Database
    forget_key: Callable[[uuid.UUID], None]
    fast: bool
    cursors: CursorCodec
    sign_in_links: bool
    flush_usage: Callable[[], Awaitable[None]]

    @classmethod
    def build(
        cls,
        db: Database,
        forget_key: Callable[[uuid.UUID], None],
        *,
        fast: bool,
        secret: str,
        sign_in_links: bool = True,
        flush_usage: Callable[[], Awaitable[None]] = nothing,
    ) -> GraphQLRuntime:
        """`fast`: run with the execution engine (the caller has checked `execution.compat.supported()`);
        `secret` signs page cursors; `sign_in_links`: people sign in with one-time links (embedded mode), so an
        invitation answers one."""
        schema = build_schema(fast=fast)
        return cls(schema, db, forget_key, fast, CursorCodec(secret), sign_in_links, flush_usage)

    def context(self, principal: Principal) -> Context:
        loader = DataLoader if self.fast else StrawberryDataLoader
        return Context(principal, self.db, self.forget_key, loader, self.cursors, self.sign_in_links, self.flush_usage)

    async def run(
        self, text: str, document: DocumentNode, variables: dict[str, Any], principal: Principal, name: str
    ) -> ExecutionResult:
        """A fixed document of ours (`document` is `text` parsed and validated): straight to the engine when it
        is on, otherwise the whole way through Strawberry."""
        context = self.context(principal)
        async with self.db.request():
            if self.fast:
                return await self.schema.run_document(document, variables, context, None, name)  # type: ignore[attr-defined]  # a FastSchema whenever `fast`
            return await self.schema.execute(text, variables, context, operation_name=name)
