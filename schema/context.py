"""The typed GraphQL context, built once per request by the same builder for `/graphql` and the REST facade."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.auth.principal import ApiKeyPrincipal, Principal, UserPrincipal
from db.engine import Database
from schema.loaders import Loaders

if TYPE_CHECKING:
    from app.services import Services


@dataclass
class Context:
    principal: Principal
    services: Services
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        """Made on first use: a mutation through REST needs none. (Not a `cached_property`: on Python 3.11 that
        takes a lock on first use, which costs more than making the loaders.)"""
        if self._loaders is None:
            self._loaders = Loaders(self.services.db, self.principal.org_id)
        return self._loaders

    @property
    def db(self) -> Database:
        return self.services.db

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


def build_context(principal: Principal, services: Services) -> Context:
    return Context(principal=principal, services=services)
