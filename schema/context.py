"""The typed GraphQL context, built once per request by the same runtime for `/graphql` and the REST facade."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from access.principal import ApiKeyPrincipal, Principal, UserPrincipal
from db.engine import Database
from schema.cursors import CursorCodec
from schema.loaders import Loaders, MakeLoader


async def nothing() -> None:
    return None


@dataclass
class Context:
    principal: Principal
    db: Database
    forget_key: Callable[[uuid.UUID], None]  # a revoked key stops working at once, not when its cache entry expires
    make_loader: MakeLoader
    cursors: CursorCodec
    sign_in_links: bool = True  # embedded mode: an invitation answers a one-time sign-in link
    flush_usage: Callable[[], Awaitable[None]] = field(default=nothing, repr=False)  # API key usage counted so far
    # Values a set has just carried along its connections, by the source value's id: its answer lists them
    # without reading them back.
    carried: dict[uuid.UUID, Any] = field(default_factory=dict, init=False, repr=False)
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        """Made on first use: a mutation through REST needs none. (Not a `cached_property`: on Python 3.11 that
        takes a lock on first use, which costs more than making the loaders.)"""
        if self._loaders is None:
            self._loaders = Loaders(self.db, self.principal.org_id, self.make_loader)
        return self._loaders

    @property
    def org_id(self) -> uuid.UUID:
        """The caller's organization; the permission layer guarantees one before a data resolver runs."""
        assert self.principal.org_id is not None
        return self.principal.org_id

    @property
    def user(self) -> UserPrincipal | None:
        return self.principal if isinstance(self.principal, UserPrincipal) else None

    @property
    def key(self) -> ApiKeyPrincipal | None:
        return self.principal if isinstance(self.principal, ApiKeyPrincipal) else None

    @property
    def confined(self) -> frozenset[uuid.UUID] | None:
        """The courses a confined API key sees; None for every other caller (they see the whole organization)."""
        principal = self.principal
        return principal.course_ids if isinstance(principal, ApiKeyPrincipal) else None

    def sees_course(self, course_id: uuid.UUID | None) -> bool:
        """Whether the caller sees data of this course (None: a chatbot's or the organization's own data)."""
        confined = self.confined
        return confined is None or course_id in confined
