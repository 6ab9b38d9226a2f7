"""Every use of a non-public part of graphql-core, Strawberry or SQLAlchemy, and the versions it was tested with.

The engine reads the executor's internals (how fields are collected, how variables are coerced, Strawberry's
resolver and argument machinery, SQLAlchemy's bind processors). Those are not covered by the libraries'
compatibility promises, so they are imported here and nowhere else, and `supported()` says whether the installed
versions are the ones the engine was tested with. Outside those ranges the app runs without the engine: plain
Strawberry and graphql-core answer every request, with the same results, only slower.

Raising a range means running the whole suite with the engine on (`make test`) on the new release first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata
from typing import Any, TypeGuard

log = logging.getLogger("coursepipeline.execution")

# distribution -> (lowest tested, first untested): the same bounds as pyproject.toml's.
TESTED: dict[str, tuple[str, str]] = {
    "graphql-core": ("3.3.2", "3.4"),
    "strawberry-graphql": ("0.341.2", "0.342"),
    "sqlalchemy": ("2.1.9", "2.2"),
}

try:
    from graphql import GraphQLResolveInfo
    from graphql.execution.collect_fields import FragmentDetails, collect_fields, collect_subfields
    from graphql.execution.get_variable_signature import get_variable_signature
    from graphql.execution.values import (
        VariableValues,
        VariableValueSource,
        get_argument_values,
        get_variable_values,
        input_is_nested_too_deeply,
    )
    from graphql.pyutils import Path, Undefined, gather_with_cancel, is_iterable
    from graphql.type.scalars import serialize_string
    from graphql.utilities.coerce_input_value import coerce_default_value, coerce_input_value
    from strawberry.execution.is_awaitable import optimized_is_awaitable as _is_awaitable
    from strawberry.permission import PermissionExtension
    from strawberry.relay.types import GlobalID
    from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES, StrawberryGraphQLCoreExecutionContext
    from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
    from strawberry.types.arguments import convert_arguments
    from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional, get_object_definition
    from strawberry.types.field import StrawberryField
    from strawberry.types.fields.resolver import StrawberryResolver
    from strawberry.types.unset import UNSET

    # The same check, typed as graphql-core asks for it (Strawberry annotates a plain bool).
    optimized_is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]] = _is_awaitable  # type: ignore[assignment]  # the same check, annotated as a bool by Strawberry
    IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # a release that moved one: `supported()` reports it and the engine stays off
    IMPORT_ERROR = exc

__all__ = [
    "DEFAULT_ALLOWED_OPERATION_TYPES",
    "DEFAULT_SCALAR_REGISTRY",
    "UNSET",
    "FragmentDetails",
    "GlobalID",
    "Path",
    "PermissionExtension",
    "StrawberryField",
    "StrawberryGraphQLCoreExecutionContext",
    "StrawberryList",
    "StrawberryMaybe",
    "StrawberryOptional",
    "StrawberryResolver",
    "Undefined",
    "VariableValueSource",
    "VariableValues",
    "bind_processors",
    "coerce_default_value",
    "coerce_input_value",
    "collect_fields",
    "collect_subfields",
    "convert_arguments",
    "field_definition",
    "gather_with_cancel",
    "get_argument_values",
    "get_object_definition",
    "get_variable_signature",
    "get_variable_values",
    "graphql_schema",
    "input_is_nested_too_deeply",
    "is_iterable",
    "optimized_is_awaitable",
    "resolve_info",
    "serialize_string",
    "share_sub_fields",
    "strawberry_info",
]


def resolve_info(
    field_name: str,
    field_nodes: Any,
    return_type: Any,
    parent_type: Any,
    path: Any,
    schema: Any,
    fragments: Any,
    root_value: Any,
    operation: Any,
    variable_values: Any,
    context: Any,
    helpers: Any,
) -> Any:
    """graphql-core's `GraphQLResolveInfo`, made by hand for a compiled field: its constructor (positional, with an
    abort signal in 3.3) is not public API."""
    return GraphQLResolveInfo(
        field_name,
        field_nodes,
        return_type,
        parent_type,
        path,
        schema,
        fragments,
        root_value,
        operation,
        variable_values,
        context,
        optimized_is_awaitable,
        None,  # no abort signal
        helpers,
    )


def strawberry_info(info_class: Any, raw: Any, field: Any) -> Any:
    """Strawberry's `Info` around graphql-core's, as Strawberry makes it (its constructor's names are private)."""
    return info_class(_raw_info=raw, _field=field)


def share_sub_fields(execution_context: Any, memo: dict[Any, Any]) -> None:
    """Has graphql-core's executor memoize sub-selections in `memo`, kept across requests of a static document (it
    keeps them per execution, in a private attribute)."""
    execution_context._relevant_sub_fields = memo


def graphql_schema(schema: Any) -> Any:
    """The graphql-core schema a Strawberry schema built (a private attribute)."""
    return schema._schema


def field_definition(field: Any) -> Any:
    """The Strawberry field behind a graphql-core field, or None."""
    return field.extensions.get("strawberry-definition")


def bind_processors(compiled: Any) -> Mapping[str, Callable[[Any], Any]]:
    """SQLAlchemy's bind conversions of a compiled statement, by parameter name (a private attribute)."""
    return compiled._bind_processors


def _release(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("."):
        digits = "".join(c for c in part if c.isdigit()) if not part.isdigit() else part
        if not digits:
            break
        parts.append(int(digits))
        if not part.isdigit():
            break  # a pre-release tag ends the release number
    return tuple(parts)


def problems(installed: Mapping[str, str | None] | None = None) -> list[str]:
    """Why the engine cannot run here: each library outside its tested range, or an internal that did not
    import; empty when it can. `installed` maps a distribution to its version (default: what is installed)."""
    found: list[str] = []
    for name, (lowest, first_untested) in TESTED.items():
        if installed is not None:
            version = installed.get(name)
        else:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = None
        if version is None:
            found.append(f"{name} is not installed")
        elif not _release(lowest) <= _release(version) < _release(first_untested):
            found.append(f"{name} {version} is outside the tested range >={lowest},<{first_untested}")
    if IMPORT_ERROR is not None:
        found.append(f"an internal did not import: {IMPORT_ERROR}")
    return found


def supported(installed: Mapping[str, str | None] | None = None) -> bool:
    """Whether the engine may run; when not, one warning says why."""
    found = problems(installed)
    if found:
        log.warning("fast GraphQL execution is off (%s); plain Strawberry answers every request", "; ".join(found))
    return not found
