"""Known static operations run from a plan made once, instead of being walked by graphql-core's executor each time.

graphql-core executes a document by walking it on every request: for each field a resolve info, argument
coercion, Strawberry's resolver wrapper (its own Info, argument conversion, the permission extension's chain),
then completion by type. For an operation whose selections cannot depend on the request (no directive, no
fragment variable: see `execution._static`), that walk is the same every time. Here it is done once, into a tree
of small closures, and a request only coerces its variables, calls the same Strawberry resolver functions with
the same Info, arguments and permission classes, and serializes what they return. Sibling fields and list items
still resolve concurrently, so DataLoaders batch exactly as before.

A plan never answers differently from graphql-core:

- what it cannot express is not compiled, and graphql-core runs it (introspection, a field extension other than
  permissions, permissions below the root, interfaces and unions outside a resolver's own result, subscriptions);
- when a request leaves the expected road (variables that fail coercion, a refused permission, a resolver that
  raises, a null where the schema says non-null, a value a scalar refuses), graphql-core answers instead, and
  reports it as it always does. A query is simply run again: queries only read. A mutation is replayed with each
  root field's outcome already known (`Replay`), so no resolver that writes runs twice.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import MISSING, dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)

from execution.bounded import Bounded, weight_of
from execution.coercion import Uncoerced, argument_reader, variable_coercer
from execution.compat import (
    UNSET,
    FragmentDetails,
    GlobalID,
    Path,
    PermissionExtension,
    StrawberryField,
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    StrawberryResolver,
    Undefined,
    VariableValues,
    collect_fields,
    collect_subfields,
    convert_arguments,
    field_definition,
    gather_with_cancel,
    get_object_definition,
    graphql_schema,
    is_iterable,
    optimized_is_awaitable,
    resolve_info,
    strawberry_info,
)
from execution.dataloader import LOADS_ALONE
from execution.leaves import EnumNames, LeafPlans, _Fallback, _gather, _static
from execution.rows import Rows

if TYPE_CHECKING:
    import strawberry

# Completes one value of a field: (value, request, the field's resolve info or None, its path) -> result.
Complete = Callable[[Any, "_Request", GraphQLResolveInfo | None, Path], Any]
_EMPTY_VARIABLES = VariableValues({}, {})


class _Unsupported(Exception):
    """Compile time: this operation is left to graphql-core."""


class _Bail(Exception):
    """Run time: this request is answered by graphql-core instead (see the module docstring)."""


@dataclass
class _Request:
    context: Any
    root_value: Any
    variables: VariableValues


# Resolvers get graphql-core's gather; none of ours tracks background work, which a plan would not wait for.
_HELPERS = GraphQLResolveInfoHelpers(gather=_gather, track=lambda values: None)


class Plan:
    """One operation of one document, compiled against one schema."""

    def __init__(
        self, schema: strawberry.Schema, leaves: LeafPlans, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        self.schema = schema
        self.gql: GraphQLSchema = graphql_schema(schema)
        self.leaves = leaves
        self.operation = operation
        self.mutation = operation.operation == OperationType.MUTATION
        definitions = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
        self.fragment_nodes = {d.name.value: d for d in definitions}
        self.fragments = {d.name.value: FragmentDetails(d) for d in definitions}
        if operation.operation == OperationType.SUBSCRIPTION or not _static(
            operation.selection_set, self.fragments, set()
        ):
            raise _Unsupported
        if schema.config.default_resolver is not getattr or schema.schema_converter.exception_handlers:
            raise _Unsupported  # plain fields are read as attributes; no handler turns an exception into a result
        root_type = self.gql.get_root_type(operation.operation)
        if root_type is None:
            raise _Unsupported
        self.root_type = root_type
        coerce_variables = variable_coercer(self.gql, operation)
        if coerce_variables is None:
            raise _Unsupported
        self.coerce_variables = coerce_variables
        grouped = collect_fields(self.gql, self.fragments, _EMPTY_VARIABLES, root_type, operation).grouped_field_set
        if self.mutation and len(grouped) != 1:
            raise _Unsupported  # serial execution of several mutations stays graphql-core's
        self.root = [(name, self._field(root_type, details, root=True)) for name, details in grouped.items()]

    # --- compiling ---

    def _field(self, parent: GraphQLObjectType, details: Any, root: bool = False) -> Callable[..., Any]:
        """A field of `parent`: (source, request, parent path) -> its value completed, or an awaitable of it."""
        node = details[0].node
        field_name = node.name.value
        if field_name == "__typename":
            name = parent.name
            return lambda source, request, path: name
        field_def = parent.fields.get(field_name)
        if field_def is None:
            raise _Unsupported  # introspection fields
        definition: StrawberryField | None = field_definition(field_def)
        if definition is None:
            raise _Unsupported
        permissions = []
        for extension in definition.extensions:
            if type(extension) is not PermissionExtension or extension.fail_silently:
                raise _Unsupported
            permissions.extend(extension.permissions)
        if any(inspect.iscoroutinefunction(permission.has_permission) for permission in permissions):
            raise _Unsupported
        if permissions and not root:
            raise _Unsupported  # a refusal below the root must not be found after a mutation ran
        response_name = details[0].node.alias.value if details[0].node.alias else field_name
        complete = self._completer(field_def.type, details, via_resolver=definition.base_resolver is not None)
        if definition.base_resolver is None and not field_def.args:
            attribute = definition.python_name

            def plain(source: Any, request: _Request, path: Path) -> Any:
                return complete(getattr(source, attribute), request, None, Path(path, response_name, None))

            return plain
        return _resolver_step(self, parent, field_def, definition, details, response_name, permissions, complete)

    def _completer(self, kind: Any, details: Any, via_resolver: bool) -> Complete:
        nullable = not isinstance(kind, GraphQLNonNull)
        named = kind.of_type if not nullable else kind
        inner = self._inner(named, details, via_resolver)
        if nullable:

            def complete_nullable(value: Any, request: _Request, info: Any, path: Path) -> Any:
                return None if value is None else inner(value, request, info, path)

            return complete_nullable

        def complete_non_null(value: Any, request: _Request, info: Any, path: Path) -> Any:
            if value is None:
                raise _Bail
            return inner(value, request, info, path)

        return complete_non_null

    def _inner(self, kind: Any, details: Any, via_resolver: bool) -> Complete:
        if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            serialize = EnumNames(kind).__getitem__ if isinstance(kind, GraphQLEnumType) else kind.serialize

            def leaf(value: Any, request: _Request, info: Any, path: Path) -> Any:
                try:
                    result = serialize(value)
                except Exception as exc:
                    raise _Bail from exc
                if result is None or result is Undefined:
                    raise _Bail
                return result

            return leaf
        if isinstance(kind, GraphQLList):
            return self._list(kind.of_type, details, via_resolver)
        if isinstance(kind, GraphQLUnionType):
            if not via_resolver:
                raise _Unsupported
            return self._union(kind, details)
        if isinstance(kind, GraphQLObjectType):
            if kind.is_type_of is not None and not via_resolver:
                raise _Unsupported
            return self._object(kind, details)
        raise _Unsupported  # interfaces

    def _list(self, item_type: Any, details: Any, via_resolver: bool) -> Complete:
        nullable_items = not isinstance(item_type, GraphQLNonNull)
        named = item_type if nullable_items else item_type.of_type
        if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
            grouped = self._collect(named, details)
            leaves = self.leaves.get(named, grouped)
            if leaves is not None:
                plans, row_plans = self.leaves, dict[type, Any]()  # per row shape met here: the plan reading its rows

                # Rows of plain leaves, the commonest list: one generated function per row, nothing else. A
                # `Rows` result is read as the database rows it keeps, without making its objects.
                def leaf_rows(values: Any, request: _Request, info: Any, path: Path) -> Any:
                    source, plan = values, leaves
                    if values.__class__ is Rows:
                        shape = values.shape
                        if shape.cls not in row_plans:
                            row_plans[shape.cls] = plans.get(named, grouped, shape)
                        if row_plans[shape.cls] is not None:
                            source, plan = values.rows, row_plans[shape.cls]
                    elif type(values) is not list and not is_iterable(values):
                        raise _Bail
                    try:
                        if nullable_items:
                            return [None if v is None else plan(v) for v in source]
                        return [plan(v) for v in source]  # a None row fails the plan: bail
                    except _Fallback as exc:
                        raise _Bail from exc

                return leaf_rows
        if isinstance(named, GraphQLList | GraphQLUnionType):
            raise _Unsupported
        complete_item = self._completer(item_type, details, via_resolver)

        def items(values: Any, request: _Request, info: Any, path: Path) -> Any:
            if type(values) is not list and not is_iterable(values):
                raise _Bail
            results = [complete_item(v, request, info, Path(path, i, None)) for i, v in enumerate(values)]
            pending = [i for i, r in enumerate(results) if optimized_is_awaitable(r)]
            if not pending:
                return results
            return _settle(results, pending)

        return items

    def _union(self, union: GraphQLUnionType, details: Any) -> Complete:
        if union.resolve_type is None:
            raise _Unsupported
        resolve_type = union.resolve_type
        members = {member.name: self._object(member, details) for member in self.gql.get_possible_types(union)}
        # Strawberry resolves an object of a plain (not generic) type by its class alone: remembered per class.
        by_class: dict[type, Complete] = {}

        def complete_union(value: Any, request: _Request, info: Any, path: Path) -> Any:
            complete = by_class.get(value.__class__)
            if complete is None:
                name = resolve_type(value, info, union)
                if not isinstance(name, str) or name not in members:
                    raise _Bail
                complete = members[name]
                definition = get_object_definition(value.__class__)
                if definition is not None and definition.concrete_of is None and not definition.is_graphql_generic:
                    by_class[value.__class__] = complete
            return complete(value, request, info, path)

        return complete_union

    def _object(self, kind: GraphQLObjectType, details: Any) -> Complete:
        grouped = self._collect(kind, details)
        is_type_of = kind.is_type_of
        leaves = self.leaves.get(kind, grouped)
        if leaves is not None:

            def leaf_object(value: Any, request: _Request, info: Any, path: Path) -> Any:
                if is_type_of is not None and not is_type_of(value, info):
                    raise _Bail
                try:
                    return leaves(value)
                except _Fallback as exc:
                    raise _Bail from exc

            return leaf_object
        fields = [(name, self._field(kind, field_details)) for name, field_details in grouped.items()]

        def complete_object(value: Any, request: _Request, info: Any, path: Path) -> Any:
            if is_type_of is not None and not is_type_of(value, info):
                raise _Bail
            return _fields(fields, value, request, path)

        return complete_object

    def _collect(self, kind: GraphQLObjectType, details: Any) -> Any:
        collected = collect_subfields(self.gql, self.fragments, _EMPTY_VARIABLES, self.operation, kind, details)
        if collected.new_defer_usages:
            raise _Unsupported
        return collected.grouped_field_set

    # --- running ---

    async def run(self, context: Any, raw_variables: dict[str, Any] | None, root_value: Any) -> Any:
        """The operation's `data`. Raises `MutationRan` once a mutation's resolver has run, and anything else
        (`_Bail`, a resolver's own error) when graphql-core should run the operation from the start."""
        try:
            variables = self.coerce_variables(raw_variables or {})
        except Uncoerced as exc:
            raise _Bail from exc
        request = _Request(context, root_value, variables)
        alone = LOADS_ALONE.set(
            asyncio.current_task()
        )  # until `_settle` runs resolvers side by side, no load has a sibling to wait for
        try:
            result = _fields(self.root, root_value, request, None)
            if optimized_is_awaitable(result):
                result = await result
        finally:
            LOADS_ALONE.reset(alone)
        return result


class MutationRan(Exception):
    """A mutation's resolver ran (returned or raised) but the plan could not complete its result."""

    def __init__(self, outcomes: dict[str | int, tuple[bool, Any]]) -> None:
        super().__init__()
        self.outcomes = outcomes


def _resolver_step(
    plan: Plan,
    parent: GraphQLObjectType,
    field_def: GraphQLField,
    definition: StrawberryField,
    details: Any,
    response_name: str,
    permissions: list[Any],
    complete: Complete,
) -> Callable[..., Any]:
    """A field with a resolver or arguments: Strawberry's own steps (Info, arguments, permissions, the call)."""
    node = details[0].node
    read_arguments = argument_reader(field_def, node) if field_def.args or node.arguments else None
    schema = plan.schema
    info_class = schema.config.info_class
    registry = schema.schema_converter.scalar_registry
    resolver = definition.base_resolver
    call = _direct_call(definition)
    self_source = resolver is not None and resolver.self_parameter is not None
    source_names = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p] if resolver else []
    info_name = resolver.info_parameter.name if resolver and resolver.info_parameter else None
    mutation_root = plan.mutation and parent is plan.root_type
    converters = _argument_converters(definition, field_def, schema.config)
    field_name, nodes = node.name.value, [d.node for d in details]
    gql, fragments, operation = plan.gql, plan.fragment_nodes, plan.operation

    def step(source: Any, request: _Request, parent_path: Path | None) -> Any:
        path = Path(parent_path, response_name, parent.name)
        info = resolve_info(
            field_name,
            nodes,
            field_def.type,
            parent,
            path,
            gql,
            fragments,
            request.root_value,
            operation,
            request.variables,
            request.context,
            _HELPERS,
        )
        strawberry_wrapped = strawberry_info(info_class, info, definition)
        try:
            raw = read_arguments(request.variables) if read_arguments is not None else {}
            if converters is not None:
                kwargs = {
                    python_name: raw[name] if convert is None or raw[name] is None else convert(raw[name])
                    for name, python_name, convert in converters
                    if name in raw
                }
            else:
                kwargs = convert_arguments(raw, definition.arguments, registry, schema.config, strawberry_wrapped)
        except Exception as exc:
            raise _Bail from exc
        for permission in permissions:
            if permission.has_permission(source, strawberry_wrapped, **kwargs) is not True:
                raise _Bail  # graphql-core refuses it, with the permission's message and code
        args = [source] if self_source else []
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = strawberry_wrapped
        if mutation_root:
            return _mutate(call, definition, source, strawberry_wrapped, args, kwargs, complete, request, info, path)
        if call is not None:
            result = call(*args, **kwargs)
        else:
            result = definition.get_result(source, info=strawberry_wrapped, args=args, kwargs=kwargs)
        if optimized_is_awaitable(result):
            return _complete_later(result, complete, request, info, path)
        return complete(result, request, info, path)

    return step


def _direct_call(definition: StrawberryField) -> Callable[..., Any] | None:
    """The resolver's own function, where Strawberry's `get_result` would only pass the call on to it (three calls
    a field fewer); None where a subclass or a resolver type of its own may do more."""
    resolver = definition.base_resolver
    if (
        resolver is None
        or type(definition).get_result is not StrawberryField.get_result
        or type(resolver).__call__ is not StrawberryResolver.__call__
        or not callable(resolver.wrapped_func)
    ):
        return None
    return resolver.wrapped_func


def _argument_converters(definition: Any, field_def: GraphQLField, config: Any) -> list[_Argument] | None:
    """(GraphQL name, Python name, converter or None) of each argument, when each is a plain scalar (Strawberry's
    conversion hands it over as graphql-core parsed it: None) or an input object of such fields (`_input_builder`);
    None when one needs Strawberry's own conversion (enums, lists, global ids, `Maybe`, custom `from_input`)."""
    names = [(config.name_converter.from_argument(a), a.python_name, a.type) for a in definition.arguments]
    converters = _converters(names, field_def.args, config)
    return None if converters is _UNSUPPORTED else converters


_Argument = tuple[str, str, Callable[[Any], Any] | None]
_UNSUPPORTED: Any = object()


def _converters(members: list[tuple[str, str, Any]], graphql_members: Any, config: Any) -> list[_Argument]:
    """(GraphQL name, Python name, converter) of each argument or input field, given as (GraphQL name, Python
    name, Strawberry type) beside the GraphQL definitions by name; `_UNSUPPORTED` if one needs Strawberry."""
    converters = []
    for name, python_name, kind in members:
        graphql_member = graphql_members.get(name)
        if graphql_member is None:
            return _UNSUPPORTED
        found = _converter(kind, graphql_member.type, config)
        if found is _UNSUPPORTED:
            return _UNSUPPORTED  # type: ignore[return-value]  # the sentinel stands for "unsupported" in either type
        converters.append((name, python_name, found))
    return converters


def _converter(kind: Any, graphql_type: Any, config: Any) -> Callable[[Any], Any] | None:
    """How Strawberry's conversion turns a value of this type into Python: None (unchanged), a function, or
    `_UNSUPPORTED` where that conversion must run itself."""
    if isinstance(kind, StrawberryMaybe):
        return _UNSUPPORTED
    if isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    named = graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
    if isinstance(named, GraphQLScalarType):
        return _UNSUPPORTED if kind is GlobalID or isinstance(kind, StrawberryList) else None
    if isinstance(named, GraphQLInputObjectType):
        return _input_builder(kind, named, config)
    if isinstance(named, GraphQLList) and isinstance(kind, StrawberryList):
        # A list of input objects (a batch): each item as the builder makes it. Lists of anything else: Strawberry.
        item_type = named.of_type.of_type if isinstance(named.of_type, GraphQLNonNull) else named.of_type
        if not isinstance(item_type, GraphQLInputObjectType):
            return _UNSUPPORTED
        build = _converter(kind.of_type, named.of_type, config)
        if build is _UNSUPPORTED or build is None:
            return _UNSUPPORTED
        return lambda items: [None if item is None else build(item) for item in items]
    return _UNSUPPORTED


def _input_builder(cls: Any, graphql_type: GraphQLInputObjectType, config: Any) -> Callable[[Any], Any] | None:
    """Strawberry's conversion of an input object, worked out once: it resolves every field's annotation on every
    request."""
    definition = get_object_definition(cls)
    if definition is None or not definition.is_input or definition.from_input is not None:
        return _UNSUPPORTED
    # As Strawberry does: a field without a default is None unless given (graphql-core has checked the required).
    defaults = {
        f.python_name: None for f in definition.fields if f.default_value is MISSING and f.default_factory is MISSING
    }
    members = [
        (config.name_converter.from_field(f), f.python_name, f.resolve_type(type_definition=definition))
        for f in definition.fields
    ]
    fields = _converters(members, graphql_type.fields, config)
    if fields is _UNSUPPORTED:
        return _UNSUPPORTED  # type: ignore[return-value]  # the sentinel stands for "unsupported" in either type

    def build(value: Any) -> Any:
        kwargs = dict(defaults)
        for name, python_name, convert in fields:
            if name in value:
                item = value[name]
                kwargs[python_name] = item if convert is None or item is None or item is UNSET else convert(item)
        return cls(**kwargs)

    return build


async def _complete_later(result: Awaitable[Any], complete: Complete, request: _Request, info: Any, path: Path) -> Any:
    value = complete(await result, request, info, path)
    if optimized_is_awaitable(value):
        value = await value
    return value


async def _mutate(
    call: Callable[..., Any] | None, definition: Any, source: Any, info: Any, args: list[Any], kwargs: dict[str, Any],
    complete: Complete, request: _Request, raw_info: Any, path: Path,
) -> Any:  # fmt: skip
    key = path.key
    try:
        if call is not None:
            result = call(*args, **kwargs)
        else:
            result = definition.get_result(source, info=info, args=args, kwargs=kwargs)
        if optimized_is_awaitable(result):
            result = await result
    except Exception as exc:
        raise MutationRan({key: (False, exc)}) from exc
    try:
        value = complete(result, request, raw_info, path)
        if optimized_is_awaitable(value):
            value = await value
    except Exception as exc:  # graphql-core completes it instead, and reports what went wrong as it always does
        raise MutationRan({key: (True, result)}) from exc
    return value


def _fields(fields: list[tuple[str, Callable[..., Any]]], source: Any, request: _Request, path: Path | None) -> Any:
    results = {name: step(source, request, path) for name, step in fields}
    pending = [name for name, value in results.items() if optimized_is_awaitable(value)]
    if not pending:
        return results
    return _settle(results, pending)


async def _settle(results: Any, pending: list[Any]) -> Any:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
        return results
    together = LOADS_ALONE.set(None)  # their loads wait a turn of the loop for each other's keys
    try:
        values = await gather_with_cancel(*(results[k] for k in pending))
    finally:
        LOADS_ALONE.reset(together)
    for key, value in zip(pending, values, strict=True):
        results[key] = value
    return results


class Replay:
    """graphql-core middleware answering a mutation's root fields with what their resolvers already did."""

    def __init__(self, outcomes: dict[str | int, tuple[bool, Any]]) -> None:
        self.outcomes = outcomes

    def resolve(self, next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        if info.path.prev is None and info.path.key in self.outcomes:
            ok, value = self.outcomes[info.path.key]
            if not ok:
                raise value
            return value
        return next_(root, info, **args)


class Plans:
    """Compiled operations per document, made on first use; None where graphql-core must run the document."""

    def __init__(self, schema: strawberry.Schema, leaves: LeafPlans, maxsize: int = 512) -> None:
        self.leaves = leaves
        self.schema = schema
        # Bounded in the documents' text too: a plan grows with its document (`execution.bounded`).
        self.cache: Bounded[tuple[int, str | None], tuple[DocumentNode, Plan | None]] = Bounded(maxsize)

    def get(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        key = (id(document), operation_name)
        hit = self.cache.get(key)
        if hit is not None and hit[0] is document:  # the document is held, so its id is not reused meanwhile
            return hit[1]
        operation = get_operation_ast(document, operation_name)
        plan = None
        if operation is not None:
            try:
                plan = Plan(self.schema, self.leaves, document, operation)
            except _Unsupported:
                plan = None
        self.cache.put(key, (document, plan), weight_of(document))
        return plan

    def __len__(self) -> int:
        return len(self.cache)
