"""The one place that decides who may do what; REST inherits it by running the same schema."""

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from access.principal import UserPrincipal


class InOrganization(BasePermission):
    """Data queries and mutations: the caller acts in exactly one organization."""

    message = "You are not a member of any organization yet: create one first (createOrganization)."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.org_id is not None


class SignedInUser(BasePermission):
    """Organization and key management: a person, never an API key."""

    message = "This needs a signed-in user's token; an API key cannot manage organizations or keys."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return isinstance(info.context.principal, UserPrincipal)


DATA: list[type[BasePermission]] = [InOrganization]
KEY_ADMIN: list[type[BasePermission]] = [SignedInUser, InOrganization]
