"""Expected errors, modelled in the schema.

Mutations answer a union of their object and these types; clients select `... on Course { id }` and
`... on UserError { code message field }`. Errors raised instead of returned are reserved for bad arguments to
queries (`BadInput`) and permission failures; both carry `extensions.code`, which the REST facade maps to a status.
"""

import strawberry
from graphql import GraphQLError


@strawberry.interface(description="Something the caller can fix; nothing was changed.")
class UserError:
    message: str
    field: str | None = None

    @strawberry.field
    def code(self) -> str:
        return CODES[type(self)]


@strawberry.type
class NotFoundError(UserError):
    pass


@strawberry.type
class InvalidInputError(UserError):
    pass


@strawberry.type
class ConflictError(UserError):
    pass


CODES: dict[type, str] = {
    NotFoundError: "not_found",
    InvalidInputError: "invalid_input",
    ConflictError: "conflict",
}

ERROR_TYPES = (NotFoundError, InvalidInputError, ConflictError)


class BadInput(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})
