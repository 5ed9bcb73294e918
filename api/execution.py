"""graphql-core's executor, with a shortcut for fields that are plain data.

Most of a page is plain data: an edge's `cursor` and `likedAt`, its `node`, and that
liker's `handle`, each an attribute of the object above it. graphql-core runs every one
of them through its whole machinery (a resolve info, strawberry's resolver wrapper, two
awaitable checks, several levels of value completion) to read one attribute; on a
20-liker page that is most of the execution time (bench/README.md).

`PlainDataExecutor` completes such a field itself when the whole subtree under it is
plain data: attributes that strawberry would resolve with `getattr`, of scalar, enum,
object or list type, with no arguments. It hands anything else back to graphql-core,
which then runs that field as if the shortcut did not exist: a field with a resolver or
arguments, a null where the type forbids one, an awaitable, a value its scalar will not
serialize, an abstract type, `@defer` or `@stream`, middleware, and any exception at
all. Reading an attribute has no side effects, so nothing is lost by reading it twice,
and every error comes from graphql-core's own path, worded and located as ever.
`tests/test_execution.py` checks that both executors give the same answers.

The hook (`execute_field` of an executor subclass, and the executor's memoized
`collect_subfields`) is graphql-core's documented way to customise execution, but not
public API: graphql-core is pinned in pyproject.toml for this module.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# What a completion answers when graphql-core must run the field after all.
ORDINARY: Any = object()


class Kind(Enum):
    LEAF = "scalar or enum"
    LIST = "list"
    OBJECT = "object"
    ABSTRACT = "interface or union"  # graphql-core resolves the runtime type


@dataclass(frozen=True, slots=True)
class Shape:
    """How a value of one output type is completed: worked out once per type."""

    nullable: bool
    kind: Kind
    type: Any  # the type under any non-null wrapper
    item: Shape | None = None  # of a list's items


@dataclass(frozen=True, slots=True)
class PlainField:
    field: GraphQLField
    attribute: str  # strawberry resolves the field as getattr(source, attribute)
    shape: Shape


def shape_of(type_: GraphQLOutputType) -> Shape:
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if is_leaf_type(inner):
        return Shape(nullable, Kind.LEAF, inner)
    if isinstance(inner, GraphQLList):
        return Shape(nullable, Kind.LIST, inner, shape_of(inner.of_type))
    if isinstance(inner, GraphQLObjectType):
        return Shape(nullable, Kind.OBJECT, inner)
    return Shape(nullable, Kind.ABSTRACT, inner)


def plain_field(field: GraphQLField) -> PlainField | None:
    """The shortcut for a field that strawberry resolves with `getattr(source, name)`: one
    with no resolver, permission, extension, directive or argument. None for every other
    field: the test is what strawberry itself calls a basic field, and then some, so that
    anything new on a field (a permission class, say) sends it to graphql-core."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        isinstance(definition, StrawberryField)
        # strawberry's own test for a field it answers with no info and no checks
        and definition.is_basic_field
        and definition.base_resolver is None
        and not definition.permission_classes
        and not definition.extensions
        and not definition.directives
        # strawberry's marker on the resolver of such a field, whose result is then
        # `definition.default_resolver(source, definition.python_name)`; a `_resolver`
        # carries it too when the field only has extensions or exception handlers, so
        # the name of the basic one is required as well.
        and getattr(field.resolve, "_is_default", False)
        and getattr(field.resolve, "__name__", "") == "_get_basic_result"
        and definition.default_resolver is getattr
        and not field.args
    ):
        return PlainField(field, definition.python_name, shape_of(field.type))
    return None


# Per (object type, field name); the schema is built once, so this stays small.
_plain_fields: dict[tuple[GraphQLObjectType, str], PlainField | None] = {}


def _plain_field_of(parent_type: GraphQLObjectType, field_name: str) -> PlainField | None:
    key = (parent_type, field_name)
    try:
        return _plain_fields[key]
    except KeyError:
        field = parent_type.fields.get(field_name)
        found = _plain_fields[key] = None if field is None else plain_field(field)
        return found


C = TypeVar("C", bound=Callable[..., bool])


def reads_value_only(check: C) -> C:
    """Marks an `is_type_of` that decides from the value alone, never reading the resolve
    info: the shortcut then builds none for it (for an Account in a list of likers, that
    is a good part of what completing it costs). Unmarked checks get the info as ever."""
    check.reads_value_only = True  # type: ignore[attr-defined]
    return check


def _probe(resolver: Any) -> Any:
    return resolver


# Values that are neither awaitable nor exceptions, known without asking.
_PLAIN_VALUES = frozenset({str, int, float, bool})

# An object's subfields on the shortcut: (response name, field or None for __typename,
# the subfield's own field details), or None when any of them is not plain data.
SubFields = list[tuple[str, PlainField | None, FieldDetailsList]] | None


class PlainDataExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # strawberry always passes a middleware manager; it wraps nothing unless an
        # extension resolves fields, and then every field must go through it.
        manager = self.middleware_manager
        self._shortcut = manager is None or manager.get_field_resolver(_probe) is _probe
        # Memoized like graphql-core's collect_subfields, by the field group's identity;
        # the group is kept with the entry so that its id cannot be reused meanwhile.
        self._sub_fields: dict[tuple[GraphQLObjectType, int], tuple[Any, SubFields]] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        if self._shortcut:
            plain = _plain_field_of(parent_type, field_details_list[0].node.name.value)
            if plain is not None:
                try:
                    completed = self._complete(
                        plain.shape,
                        getattr(source, plain.attribute),
                        field_details_list,
                        path,
                        (plain, parent_type, path),
                    )
                except Exception:  # graphql-core's own path runs it again, and reports it
                    completed = ORDINARY
                if completed is not ORDINARY:
                    return completed
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _complete(
        self,
        shape: Shape,
        value: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        field: tuple[PlainField, GraphQLObjectType, Path],  # the field whose value this is
    ) -> Any:
        if shape.kind is Kind.LEAF:
            return self._leaf(shape, value)
        if value is None:
            return None if shape.nullable else ORDINARY
        if isinstance(value, Exception) or self.is_awaitable(value):
            return ORDINARY
        if shape.kind is Kind.LIST:
            return self._complete_list(shape, value, field_details_list, path, field)
        if shape.kind is Kind.OBJECT:
            return self._complete_object(shape.type, value, field_details_list, path, field)
        return ORDINARY

    def _leaf(self, shape: Shape, value: Any) -> Any:
        if value is None:
            return None if shape.nullable else ORDINARY
        if type(value) not in _PLAIN_VALUES and (
            isinstance(value, Exception) or self.is_awaitable(value)
        ):
            return ORDINARY
        serialized = shape.type.coerce_output_value(value)
        return ORDINARY if serialized is None or serialized is Undefined else serialized

    def _complete_list(
        self,
        shape: Shape,
        value: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        field: tuple[PlainField, GraphQLObjectType, Path],
    ) -> Any:
        if not isinstance(value, list | tuple) or shape.item is None:
            return ORDINARY  # other iterables, async ones too, are graphql-core's
        if self.get_stream_usage(field_details_list, path) is not None:
            return ORDINARY
        completed = []
        for index, item in enumerate(value):
            one = self._complete(
                shape.item, item, field_details_list, path.add_key(index, None), field
            )
            if one is ORDINARY:
                return ORDINARY
            completed.append(one)
        return completed

    def _complete_object(
        self,
        type_: GraphQLObjectType,
        value: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        field: tuple[PlainField, GraphQLObjectType, Path],
    ) -> Any:
        is_type_of = type_.is_type_of
        if is_type_of is not None:
            if getattr(is_type_of, "reads_value_only", False):
                is_type = is_type_of(value, None)  # type: ignore[arg-type]  # reads no info
            else:
                plain, parent_type, field_path = field
                nodes = [details.node for details in field_details_list]
                is_type = is_type_of(
                    value, self.build_resolve_info(plain.field, nodes, parent_type, field_path)
                )
            if self.is_awaitable(is_type):
                if isinstance(is_type, Coroutine):
                    is_type.close()  # never awaited: graphql-core calls is_type_of afresh
                return ORDINARY
            if not is_type:
                return ORDINARY  # graphql-core raises its own error for the wrong type
        sub_fields = self._plain_sub_fields(type_, field_details_list)
        if sub_fields is None:
            return ORDINARY
        completed: dict[str, Any] = {}
        for response_name, sub_field, details in sub_fields:
            if sub_field is None:
                completed[response_name] = type_.name
                continue
            shape = sub_field.shape
            sub_value = getattr(value, sub_field.attribute)
            if shape.kind is Kind.LEAF:  # no path needed: a leaf has no fields below it
                one = self._leaf(shape, sub_value)
            else:
                sub_path = Path(path, response_name, type_.name)
                one = self._complete(
                    shape, sub_value, details, sub_path, (sub_field, type_, sub_path)
                )
            if one is ORDINARY:
                return ORDINARY
            completed[response_name] = one
        return completed

    def _plain_sub_fields(
        self, type_: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> SubFields:
        key = (type_, id(field_details_list))
        cached = self._sub_fields.get(key)
        if cached is not None:
            found: SubFields = cached[1]
            return found
        collected = self.collect_subfields(type_, field_details_list)
        found = []
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            found = None
        else:
            for response_name, details in collected.grouped_field_set.items():
                name = details[0].node.name.value
                sub_field = None if name == "__typename" else _plain_field_of(type_, name)
                if sub_field is None and name != "__typename":
                    found = None
                    break
                found.append((response_name, sub_field, details))
        self._sub_fields[key] = (field_details_list, found)
        return found
