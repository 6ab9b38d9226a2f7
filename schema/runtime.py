"""What `/graphql` and the REST facade share in one app: its schema, and the request contexts it runs with."""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
from schema.context import Context
from schema.cursors import CursorCodec


@dataclass
class GraphQLRuntime:
    schema: strawberry.Schema
    db: Database
    forget_key: Callable[[uuid.UUID], None]
    fast: bool
    cursors: CursorCodec
    sign_in_links: bool

    @classmethod
    def build(
        cls,
        db: Database,
        forget_key: Callable[[uuid.UUID], None],
        *,
        fast: bool,
        secret: str,
        sign_in_links: bool = True,
    ) -> GraphQLRuntime:
        """`fast`: run with the execution engine (the caller has checked `execution.compat.supported()`);
        `secret` signs page cursors; `sign_in_links`: people sign in with one-time links (embedded mode), so an
        invitation answers one."""
        return cls(build_schema(fast=fast), db, forget_key, fast, CursorCodec(secret), sign_in_links)

    def context(self, principal: Principal) -> Context:
        loader = DataLoader if self.fast else StrawberryDataLoader
        return Context(principal, self.db, self.forget_key, loader, self.cursors, self.sign_in_links)

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
