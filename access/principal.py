"""The typed auth subject: what the auth middleware learned about a caller, passed down through the ASGI scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

SCOPE_KEY = "coursepipeline.principal"


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    """A caller holding an API key: its organization's data, as far as its scope reaches; no key management."""

    key_id: uuid.UUID
    org_id: uuid.UUID
    # `read`, `write` (reads and value writes) or None (full access); cached with the key, so checking it costs
    # no statement.
    scope: str | None = None
    # The courses the key is confined to, or None: all of them. Cached with the key, like the scope.
    course_ids: frozenset[uuid.UUID] | None = None
    # Worked out once: the authenticator caches the principal, and every request of the key asks for this.
    rate_limit_key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_limit_key", f"key:{self.key_id}")

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    """A signed-in person, acting in `org_id`: their one organization, or the one their request named. None when
    they belong to none yet, or to several and named none."""

    user_id: str
    email: str | None
    org_id: uuid.UUID | None
    role: str | None = None

    @property
    def rate_limit_key(self) -> str:
        return f"user:{self.user_id}"

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"


Principal = ApiKeyPrincipal | UserPrincipal
