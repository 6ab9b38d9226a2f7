"""The one place that decides who may do what; REST inherits it by running the same schema.

reads (DATA)            anyone acting in an organization: its API keys and every member, whatever the role
changes (WRITE)         API keys, and members with the owner or admin role; a `member` reads only
keys, members (ADMIN)   a signed-in owner or admin; never an API key
"""

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from access.principal import UserPrincipal
from db.models import Role

MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


class InOrganization(BasePermission):
    """Data queries and mutations: the caller acts in exactly one organization."""

    message = "You are not a member of any organization yet: create one first (createOrganization)."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.org_id is not None


class ChangesData(BasePermission):
    """Mutations of data: an API key, or a person whose role may change data."""

    message = "Your role in this organization (member) reads its data; changing it needs the admin or owner role."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return not isinstance(principal, UserPrincipal) or principal.role in MANAGERS


class SignedInUser(BasePermission):
    """Organization and key management: a person, never an API key."""

    message = "This needs a signed-in user's token; an API key cannot manage organizations or keys."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return isinstance(info.context.principal, UserPrincipal)


class ManagesOrganization(BasePermission):
    """Keys (and, with them, members): an owner or an admin of the organization."""

    message = "Managing API keys and members needs the admin or owner role in this organization."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return isinstance(principal, UserPrincipal) and principal.role in MANAGERS


DATA: list[type[BasePermission]] = [InOrganization]
WRITE: list[type[BasePermission]] = [InOrganization, ChangesData]
ADMIN: list[type[BasePermission]] = [SignedInUser, InOrganization, ManagesOrganization]
