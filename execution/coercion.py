"""A compiled operation's variables and arguments, coerced as graphql-core coerces them, with the per-request work
of finding each definition's road (unwrapping its type, walking its literal) done once per operation.

Only the common roads are laid out: a variable of a scalar or enum type; an argument given as a variable or not
given; an input-object literal whose fields are all variables; defaults, through graphql-core's own memoized
coercion. Anything else goes through graphql-core's functions: a variable of a list or input type, a variable's
own default, a constant literal, a `oneOf` input. So does any value off the road (a required value missing, a
null where the type says non-null), and graphql-core reports it as it always does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    ObjectValueNode,
    OperationDefinitionNode,
    VariableNode,
)

from execution.compat import (
    Undefined,
    VariableValues,
    VariableValueSource,
    coerce_default_value,
    coerce_input_value,
    get_argument_values,
    get_variable_signature,
    get_variable_values,
    input_is_nested_too_deeply,
)


class Uncoerced(Exception):
    """Run time: a variable graphql-core would refuse (it reports why when it runs the operation itself)."""


class _OffRoad(Exception):
    """Run time: an argument that graphql-core's `get_argument_values` must coerce."""


VariableCoercer = Callable[[dict[str, Any]], VariableValues]
ArgumentReader = Callable[[VariableValues], dict[str, Any]]


def variable_coercer(schema: GraphQLSchema, operation: OperationDefinitionNode) -> VariableCoercer | None:
    """graphql-core's `get_variable_values` for this operation; None if a definition names no input type."""
    definitions = operation.variable_definitions or ()
    entries = []
    for node in definitions:
        signature = get_variable_signature(schema, node)
        if isinstance(signature, GraphQLError):
            return None
        non_null = isinstance(signature.type, GraphQLNonNull)
        named: Any = signature.type.of_type if isinstance(signature.type, GraphQLNonNull) else signature.type
        leaf = named.coerce_input_value if isinstance(named, GraphQLScalarType | GraphQLEnumType) else None
        entries.append((signature.name, signature, non_null, node.default_value is not None, leaf))

    def coerce(raw: dict[str, Any]) -> VariableValues:
        sources, coerced = {}, {}
        for name, signature, non_null, has_default, leaf in entries:
            value = raw.get(name, Undefined)
            if value is Undefined:
                if has_default:
                    found = get_variable_values(schema, definitions, raw)
                    if isinstance(found, list):
                        raise Uncoerced
                    return found
                if non_null:
                    raise Uncoerced
                sources[name] = VariableValueSource(signature)
                continue
            sources[name] = VariableValueSource(signature, value)
            if value is None:
                if non_null:
                    raise Uncoerced
            elif leaf is not None:  # what coerce_input_value does for a leaf, without walking to it
                try:
                    value = leaf(value)
                except Exception as exc:
                    raise Uncoerced from exc
            else:
                if input_is_nested_too_deeply(value, signature.type):
                    raise Uncoerced
                value = coerce_input_value(value, signature.type)
            if value is Undefined:
                raise Uncoerced
            coerced[name] = value
        return VariableValues(sources, coerced)

    return coerce


# One argument or input field: (out name, the variable it is given by or None, its definition when it has a
# default, may be left out when not given, must not be null).
_Member = tuple[str, str | None, Any, bool, bool]


def argument_reader(field_def: GraphQLField, node: FieldNode) -> ArgumentReader:
    """graphql-core's `get_argument_values(field_def, node, variables)` for this field node."""

    def generic(variables: VariableValues) -> dict[str, Any]:
        return get_argument_values(field_def, node, variables)

    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    plain: list[_Member] = []  # arguments given as a variable, or not given
    literals: list[tuple[str, list[_Member], Callable[[Any], Any] | None]] = []  # (out name, fields, out type)
    for name, argument in field_def.args.items():
        value_node = given.get(name)
        if value_node is None or isinstance(value_node, VariableNode):
            plain.append(_member(name, argument, value_node))
            continue
        kind: Any = argument.type.of_type if isinstance(argument.type, GraphQLNonNull) else argument.type
        fields = _literal_fields(kind, value_node)
        if fields is None:
            return generic
        out_type = kind.out_type if kind.out_type is not GraphQLInputObjectType.out_type else None
        literals.append((argument.out_name or name, fields, out_type))

    def read(variables: VariableValues) -> dict[str, Any]:
        coerced = variables.coerced
        arguments: dict[str, Any] = {}
        try:
            for member in plain:
                _read(coerced, member, arguments)
            for out_name, fields, out_type in literals:
                value: dict[str, Any] = {}
                for field in fields:
                    _read(coerced, field, value)
                arguments[out_name] = value if out_type is None else out_type(value)
        except _OffRoad:
            return generic(variables)
        return arguments

    return read


def _read(coerced: dict[str, Any], member: _Member, into: dict[str, Any]) -> None:
    out_name, variable, with_default, may_be_left_out, non_null = member
    value = Undefined if variable is None else coerced.get(variable, Undefined)
    if value is Undefined:
        if with_default is not None:
            try:
                into[out_name] = coerce_default_value(with_default)  # graphql-core's, memoized on the definition
            except TypeError as exc:  # an invalid default: graphql-core words the error
                raise _OffRoad from exc
        elif not may_be_left_out:
            raise _OffRoad  # graphql-core's error for a required value missing
        return
    if value is None and non_null:
        raise _OffRoad
    into[out_name] = value


def _literal_fields(kind: Any, node: Any) -> list[_Member] | None:
    """The fields of an input-object literal whose values are all variables; None for any other literal."""
    if not isinstance(kind, GraphQLInputObjectType) or kind.is_one_of or not isinstance(node, ObjectValueNode):
        return None
    given: dict[str, Any] = {field.name.value: field.value for field in node.fields}  # all variables, checked below
    if any(name not in kind.fields or not isinstance(value, VariableNode) for name, value in given.items()):
        return None
    return [_member(name, field, given.get(name)) for name, field in kind.fields.items()]


def _member(name: str, definition: Any, node: VariableNode | None) -> _Member:
    non_null = isinstance(definition.type, GraphQLNonNull)
    has_default = definition.default is not None or definition.default_value is not Undefined
    variable = node.name.value if node is not None else None
    return definition.out_name or name, variable, definition if has_default else None, not non_null, non_null
