"""The one place that decides who may do what; REST inherits it by running the same schema.

reads (DATA)            anyone acting in an organization: its API keys of every scope, every member of every role
values (VALUES)         recording values: keys of `write` or full scope, owners and admins
changes (WRITE)         every other change of data: keys of full scope, owners and admins
keys, members (ADMIN)   a signed-in owner or admin; never an API key
"""

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from access.principal import ApiKeyPrincipal, UserPrincipal
from db.models import Role

MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


class InOrganization(BasePermission):
    """Data queries and mutations: the caller acts in exactly one organization."""

    message = (
        "This acts in an organization: you belong to none yet (create one: createOrganization, or accept an "
        "invitation: acceptInvitation), or to several and must name one with X-Organization-Id (organizations "
        "lists them)."
    )
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.org_id is not None


def _manager(principal: Any) -> bool:
    return isinstance(principal, UserPrincipal) and principal.role in MANAGERS


class RecordsValues(BasePermission):
    """Setting values: an API key of `write` or full scope, or a person whose role may change data."""

    message = "This needs an API key with the write scope, or the admin or owner role; it reads only."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal.scope != "read" if isinstance(principal, ApiKeyPrincipal) else _manager(principal)


class ChangesData(BasePermission):
    """Other changes of data: an API key of full scope, or a person whose role may change data."""

    message = "This change needs a full-access API key, or the admin or owner role; this credential may not."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if isinstance(principal, ApiKeyPrincipal):  # a confined key records values in its courses, nothing more
            return principal.scope is None and principal.course_ids is None
        return _manager(principal)


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
        return _manager(info.context.principal)


DATA: list[type[BasePermission]] = [InOrganization]
VALUES: list[type[BasePermission]] = [InOrganization, RecordsValues]
WRITE: list[type[BasePermission]] = [InOrganization, ChangesData]
ADMIN: list[type[BasePermission]] = [SignedInUser, InOrganization, ManagesOrganization]
