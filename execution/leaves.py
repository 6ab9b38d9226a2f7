"""A faster path through graphql-core for the commonest selection: plain attributes that are scalars or enums.

graphql-core executes every field the same general way (resolve info, argument coercion, resolver call, value
completion), which dominates the cost of a list of rows. When every field selected on an object is a plain
Strawberry attribute (no resolver, no arguments, no permission or extension) of a leaf type, this context reads
the attributes and serializes them directly. Anything else, and any value that fails (a null where the schema says
non-null, a value the scalar refuses), goes through the general path, so results and errors are unchanged.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.scalars import JSON

from execution.bounded import Bounded, weight_of
from execution.compat import (
    DEFAULT_SCALAR_REGISTRY,
    StrawberryGraphQLCoreExecutionContext,
    field_definition,
    gather_with_cancel,
    serialize_string,
    share_sub_fields,
)
from execution.inline import Inline
from execution.rows import RowShape

# One object's selected leaves, read and serialized by one generated function: source object -> response dict.
Plan = Callable[[Any], dict[str, Any]]
# Serializers that hand a value back unchanged: Strawberry's JSON.
_IDENTITY_SERIALIZERS = frozenset({DEFAULT_SCALAR_REGISTRY[JSON].serialize})


class _Fallback(Exception):
    pass


class LeafPlans:
    """One schema's generated leaf plans, and the memos of its static operations.

    Both are keyed by what callers send (a selection's aliases and fields, a document), so both are bounded and
    drop the least recently used entry first."""

    def __init__(
        self,
        schema: GraphQLSchema,
        inline: Mapping[Callable[[Any], Any], Inline] | None = None,
        maxsize: int = 1024,
        operations: int = 512,  # as many as the known documents (256) and the REST documents, with room
    ) -> None:
        self.schema = schema
        self.inline = dict(inline or {})
        # Both bounded in text too (`execution.bounded`): a shape by its names, an operation by its document text.
        self.plans: Bounded[tuple[str, tuple[tuple[str, str], ...], type | None], Plan | None] = Bounded(maxsize)
        self.memos: Bounded[int, _SharedMemo] = Bounded(operations)

    def get(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any, rows: RowShape[Any] | None = None
    ) -> Plan | None:
        """The generated plan for this selection on `parent_type` (made once per type and shape), or None when a
        field needs the general path. With `rows`, the plan reads a row of that shape instead of an object."""
        shape = []
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            if len(details) > 1 or node.arguments or node.directives:
                return None
            shape.append((response_name, node.name.value))
        key = (parent_type.name, tuple(shape), rows.cls if rows is not None else None)
        plans = self.plans
        if key in plans:
            return plans.get(key)
        plan = _build_plan(parent_type, shape, rows, self.inline)
        plans.put(key, plan, sum(len(alias) + len(name) + 4 for alias, name in shape))
        return plan

    def shared(self, operation: OperationDefinitionNode, fragments: dict[str, Any]) -> _SharedMemo | None:
        """The memo of a static operation (no directive and no fragment variable anywhere: what graphql-core
        collects from it cannot depend on the request), or None."""
        key = id(operation)
        memos = self.memos
        memo = memos.get(key)
        if memo is not None and memo.operation is operation:  # held, so its id is not reused while it lives
            return memo
        if not _static(operation.selection_set, fragments, set()):
            return None
        memo = _SharedMemo(operation)
        memos.put(key, memo, weight_of(operation))
        return memo


def context_class(leaves: LeafPlans) -> type[FastLeafExecutionContext]:
    """The execution context graphql-core makes for each request on the schema `leaves` belongs to."""
    return type("FastLeafExecutionContext", (FastLeafExecutionContext,), {"leaves": leaves})


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    leaves: LeafPlans  # set by `context_class`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core gives resolvers helpers that are bound methods of the executor, which holds the helpers:
        # a reference cycle. Every request's objects (context, loaders, rows, results) then waited for the cyclic
        # collector, piled up across full collections, and made those slow and frequent under load. The same
        # helpers without the strong reference back let reference counting free a request when it ends.
        self.async_helpers = GraphQLResolveInfoHelpers(gather=_gather, track=_weak_track(self))
        self._plan_memo: dict[int, tuple[Any, Plan | None]] = {}
        self._shared = self.leaves.shared(self.operation, self.fragments)
        if self._shared is not None:
            # graphql-core memoizes sub-selections per execution; a static document's are the same every time.
            share_sub_fields(self, self._shared.subfields)
            self._plan_memo = self._shared.plans

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        new_defer_usages: Sequence[Any],
    ) -> Any:
        shared = self._shared
        if shared is not None and not new_defer_usages:
            # The shared sub-selection memo is keyed by the identity of the root's field lists: use the first
            # request's root fields from then on (the same fields, collected the same way).
            if shared.root is None:
                shared.root = grouped_field_set
            grouped_field_set = shared.root
        return super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, serially, new_defer_usages
        )

    def complete_iterable_value(
        self,
        item_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects whose selection has a plan: each row straight to its dict, none of graphql-core's
        per-item completion (paths, awaitable checks, sub-field collection) for lists of hundreds of rows."""
        nullable_items = not isinstance(item_type, GraphQLNonNull)
        named = item_type if nullable_items else item_type.of_type
        if (
            isinstance(items, list)
            and isinstance(named, GraphQLObjectType)
            and named.is_type_of is None
            and not any(details.node.directives for details in field_details_list)
        ):
            grouped_field_set, defer_usages, _ = self.collect_subfields(named, field_details_list)
            plan = None if defer_usages else self._plan(named, grouped_field_set)
            if plan is not None:
                try:
                    if nullable_items:
                        return [None if item is None else plan(item) for item in items]
                    return [plan(item) for item in items]  # a null item fails the plan: the general path reports it
                except _Fallback:
                    pass
        return super().complete_iterable_value(item_type, field_details_list, info, path, items, position_context)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if plan is not None and source_value is not None:
            try:
                return plan(source_value)
            except _Fallback:
                pass
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan | None:
        # graphql-core memoizes sub-selections, so every row of a list hands in the same grouped field set.
        memo = self._plan_memo
        hit = memo.get(id(grouped_field_set))
        if hit is not None and hit[0] is grouped_field_set:
            return hit[1]
        plan = self.leaves.get(parent_type, grouped_field_set)
        memo[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan


def _build_plan(
    parent_type: GraphQLObjectType,
    shape: list[tuple[str, str]],
    rows: RowShape[Any] | None,
    inline: Mapping[Callable[[Any], Any], Inline],
) -> Plan | None:
    """The function for this selection, or None when a field needs the general path.

    Generated, as dataclasses generate `__init__`: a loop over (name, attribute, serializer) triples cost about
    as much as the serializers themselves on a list of rows. It raises `_Fallback` for anything the general path
    must report (a null where the schema says non-null, a value the scalar refuses)."""
    namespace: dict[str, Any] = {"Fallback": _Fallback}
    reads, entries = [], []
    for i, (response_name, field_name) in enumerate(shape):
        if field_name == "__typename":
            entries.append(f"{response_name!r}: {parent_type.name!r}")
            continue
        field = parent_type.fields.get(field_name)
        if field is None or field.args:
            return None
        definition = field_definition(field)
        if definition is None or definition.base_resolver is not None or definition.extensions:
            return None
        if definition.permission_classes or not definition.python_name.isidentifier():
            return None
        kind = field.type
        nullable = not isinstance(kind, GraphQLNonNull)
        named = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
        if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return None
        on_null = f"r{i} = None" if nullable else "raise Fallback"
        read = _read_code(i, definition.python_name, rows, namespace)
        if read is None:
            return None
        reads.append(
            f"        v = {read}\n"
            f"        if v is None:\n"
            f"            {on_null}\n"
            f"        else:\n"
            f"{_serialize_code(i, named, namespace, inline)}"
        )
        entries.append(f"{response_name!r}: r{i}")
    body = "".join(reads) or "        pass\n"
    source = (
        "def plan(source):\n"
        "    try:\n"
        f"{body}"
        "    except Fallback:\n"
        "        raise\n"
        "    except Exception as exc:\n"
        "        raise Fallback from exc\n"
        f"    return {{{', '.join(entries)}}}\n"
    )
    exec(compile(source, f"<plan for {parent_type.name}>", "exec"), namespace)
    return namespace["plan"]


@dataclass(eq=False)
class _SharedMemo:
    """What executing one static operation collects, kept across requests: the root's fields, the sub-selections
    graphql-core collects from them, and the leaf plans chosen for those."""

    operation: OperationDefinitionNode  # held, so its id (the key) cannot be reused while the memo lives
    root: Any = None
    subfields: dict[Any, Any] = field(default_factory=dict)
    plans: dict[int, tuple[Any, Plan | None]] = field(default_factory=dict)


def _static(selection_set: SelectionSetNode, fragments: dict[str, Any], seen: set[str]) -> bool:
    for selection in selection_set.selections:
        if selection.directives:
            return False
        if isinstance(selection, FragmentSpreadNode):
            if getattr(selection, "arguments", None):
                return False
            name = selection.name.value
            if name in seen:
                continue
            seen.add(name)
            details = fragments.get(name)
            if details is None:
                return False
            definition = details.definition
            if definition.directives or definition.variable_definitions:
                return False
            if not _static(definition.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FieldNode | InlineFragmentNode):
            if selection.selection_set is not None and not _static(selection.selection_set, fragments, seen):
                return False
        else:
            return False
    return True


def _read_code(i: int, attribute: str, rows: RowShape[Any] | None, namespace: dict[str, Any]) -> str | None:
    """The expression reading a field's value from the plan's source: an object's attribute, or a row's key (and
    the field's lookup, if it has one). None when the row does not hold the field."""
    if rows is None:
        return f"source.{attribute}"
    key = rows.keys.get(attribute)
    if key is None:
        return None
    if attribute in rows.lookups:
        namespace[f"l{i}"] = rows.lookups[attribute]
        return f"l{i}[source[{key!r}]]"
    return f"source[{key!r}]"


def _serialize_code(
    i: int,
    named: GraphQLScalarType | GraphQLEnumType,
    namespace: dict[str, Any],
    inline: Mapping[Callable[[Any], Any], Inline],
) -> str:
    """Generated code setting `r{i}` to the serialized `v` (not None). The commonest serializers are written out
    (a call each cost as much as the rest of a row); any other is called, and a None from it fails the plan."""
    serialize = named.serialize
    if isinstance(named, GraphQLEnumType):
        namespace[f"s{i}"] = EnumNames(named)
        members = _named_after_members(named)
        if members is not None:  # an enum member's hash is a Python call; its name is an attribute
            namespace[f"e{i}"] = members
            return f"            r{i} = v._name_ if v.__class__ is e{i} else s{i}[v]\n"
        return f"            r{i} = s{i}[v]\n"
    namespace[f"s{i}"] = serialize
    if serialize is str:  # UUID
        return f"            r{i} = str(v)\n"
    if serialize in _IDENTITY_SERIALIZERS:  # JSON
        return f"            r{i} = v\n"
    check = f"            if r{i} is None:\n                raise Fallback\n"
    written = inline.get(serialize)
    if written is not None and all(namespace.get(name, value) is value for name, value in written.names.items()):
        namespace.update(written.names)
        return f"            r{i} = {written.code.format(call=f's{i}')}\n"
    if serialize is serialize_string:  # String: a str is its own serialization
        return f"            r{i} = v if v.__class__ is str else s{i}(v)\n{check}"
    return f"            r{i} = s{i}(v)\n{check}"


def _named_after_members(enum: GraphQLEnumType) -> type[Enum] | None:
    """The Python enum behind a Strawberry enum type when the type serializes each member as the member's own
    name (unless a value was given another name), else None."""
    members = getattr(enum, "wrapped_cls", None)
    if not (isinstance(members, type) and issubclass(members, Enum)):
        return None
    try:
        same = all(enum.serialize(member) == member._name_ for member in members)
    except Exception:
        return None
    return members if same else None


class EnumNames(dict[Any, Any]):
    """An enum type's serialized names by value, each found by the type's own serializer on first use: an enum
    field holds a handful of members. `names[value]` serializes; it raises, and remembers nothing, for a value
    the type refuses."""

    def __init__(self, enum: GraphQLEnumType) -> None:
        super().__init__()
        self.general = enum.serialize

    def __missing__(self, value: Any) -> Any:
        self[value] = name = self.general(value)
        return name


def _gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


def _weak_track(executor: FastLeafExecutionContext) -> Callable[[Sequence[Any]], None]:
    method = weakref.WeakMethod(executor.track_async_work)

    def track(values: Sequence[Any]) -> None:
        bound = method()
        if bound is not None:  # the executor outlives its own resolvers; this is only for safety
            bound(values)

    return track
