"""Expected errors, modelled in the schema.

Mutations answer a union of their object and these types; clients select `... on Course { id }` and
`... on UserError { code message field }`. Errors raised instead of returned are reserved for bad arguments to
queries (`BadInput`) and permission failures; both carry `extensions.code`, which the REST facade maps to a status.
"""

from typing import TYPE_CHECKING, Annotated

import strawberry
from graphql import GraphQLError

if TYPE_CHECKING:
    from schema.types import VariableValue


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


@strawberry.type(description="Nothing was recorded: the current value is not the one expected.")
class ValueConflictError(UserError):
    current: Annotated["VariableValue", strawberry.lazy("schema.types")] | None = None


@strawberry.type(description="One item of a batch that cannot be recorded.")
class ItemError:
    index: int
    code: str
    message: str
    field: str | None = None


@strawberry.type(description="Nothing of the batch was recorded: `items` names every item that cannot be.")
class BatchError(UserError):
    items: list[ItemError]


@strawberry.type(description="The idempotency key was used with another request; nothing was changed.")
class IdempotencyKeyReusedError(UserError):
    pass


CODES: dict[type, str] = {
    NotFoundError: "not_found",
    InvalidInputError: "invalid_input",
    ConflictError: "conflict",
    ValueConflictError: "conflict",
    BatchError: "invalid_input",
    IdempotencyKeyReusedError: "idempotency_key_reused",
}

ERROR_TYPES = (NotFoundError, InvalidInputError, ConflictError, ValueConflictError, BatchError,
               IdempotencyKeyReusedError)  # fmt: skip


class BadInput(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})
