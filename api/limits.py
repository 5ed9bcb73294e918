"""The limits a document meets before any field runs (README, "Limits a client meets").

Each measure walks every fragment definition once and remembers the result, so its work
grows with the length of the document whatever its fragments: 30 chained fragments that
each spread the next one twice are 2^30 paths, but 31 walks here. strawberry's
QueryDepthLimiter and MaxAliasesLimiter walk every path instead, which is why they are
not used.

`DocumentLimits` (depth, aliases, repeated fields) needs only the document, so its verdict
is cached with the rest of validation. The node count needs the variables (`first` may be
one), so `node_count` runs for every request, after validation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_variable_values,
)
from graphql.language.visitor import VisitorAction
from graphql.utilities import get_operation_ast

from api.types import DEFAULT_FIRST

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
# graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of fields that share
# a response name in one selection set: 600 copies of `viewer { handle }` (within the token
# limit) took it 2.7 s. A client has no use for 30 copies of one field in one place.
MAX_REPEATS = 30


@dataclass
class Measure:
    """What one selection set holds, its fragments included (each spread counted)."""

    height: int = 0  # levels of fields below this one: a leaf field is 0
    aliases: int = 0
    names: Counter[str] = field(default_factory=Counter)  # response names at this level

    def add(self, other: Measure) -> None:
        self.height = max(self.height, other.height)
        self.aliases += other.aliases
        self.names.update(other.names)


class DocumentWalk:
    """Measures selection sets, each fragment definition once."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, Measure] = {}
        self.visits = 0  # selections looked at: tests/test_limits.py checks it stays linear
        self.repeated: tuple[str, int] | None = None  # the most repeated field over the limit

    def selection_set(self, node: SelectionSetNode) -> Measure:
        measure = self._flat(node)
        for name, count in measure.names.items():
            if count > MAX_REPEATS and (self.repeated is None or count > self.repeated[1]):
                self.repeated = (name, count)
        return measure

    def fragment(self, name: str) -> Measure:
        measure = self.memo.get(name)
        if measure is None:
            # A cycle ends here (graphql-core's NoFragmentCyclesRule refuses it), and so
            # does an unknown fragment (KnownFragmentNamesRule).
            self.memo[name] = Measure()
            definition = self.fragments.get(name)
            if definition is not None:
                self.memo[name] = self.selection_set(definition.selection_set)
            measure = self.memo[name]
        return measure

    def _flat(self, node: SelectionSetNode) -> Measure:
        """The fields of one level: inline fragments and spreads merge into it."""
        measure = Measure()
        for selection in node.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                measure.names[(selection.alias or selection.name).value] += 1
                measure.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    inner = self.selection_set(selection.selection_set)
                    measure.aliases += inner.aliases
                    # As strawberry's limiter did: introspection has its own depth rule
                    # (graphql-core's MaxIntrospectionDepthRule).
                    if not selection.name.value.startswith("__"):
                        measure.height = max(measure.height, 1 + inner.height)
            elif isinstance(selection, InlineFragmentNode):
                measure.add(self._flat(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                measure.add(self.fragment(selection.name.value))
        return measure


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class DocumentLimits(ValidationRule):
    """Depth, aliases and repeated fields, for every operation of the document.

    Measured when each operation is entered: graphql-core's own guard against fragments
    nested too deeply for the stack (validate's FragmentNestingVisitor) has run by then.
    """

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        self.walk = DocumentWalk(_fragments(node))

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *_args: Any
    ) -> VisitorAction:
        measure = self.walk.selection_set(node.selection_set)
        if measure.height > MAX_DEPTH:
            self.report_error(
                GraphQLError(
                    f"Fields are nested {measure.height} levels deep;"
                    f" the maximum depth is {MAX_DEPTH}.",
                    node,
                )
            )
        if measure.aliases > MAX_ALIASES:
            self.report_error(
                GraphQLError(
                    f"The operation uses {measure.aliases} aliases;"
                    f" the maximum is {MAX_ALIASES} aliases.",
                    node,
                )
            )
        return self.SKIP  # measured whole: the rest of its tree is not needed here

    def enter_fragment_definition(self, *_args: Any) -> VisitorAction:
        return self.SKIP  # measured through the operations that spread it

    def leave_document(self, *_args: Any) -> None:
        if self.walk.repeated is not None:
            name, count = self.walk.repeated
            self.report_error(
                GraphQLError(
                    f"`{name}` is selected {count} times in one place (fragments included);"
                    f" the maximum is {MAX_REPEATS}."
                )
            )


class NodeCount:
    """The worst-case number of nodes an operation returns, as GitHub's API counts them.

    A connection (a field with a `first` argument) returns up to `first` nodes for each
    object above it, and everything under it is counted once per node: so
    `videos(first: 50) { ... likers(first: 10) }` is 50 + 50 x 10 = 550 nodes.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.memo: dict[str, int] = {}
        self.used_variables = False

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> int:
        total = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner_type = parent if condition is None else self._type(condition.name.value)
                total += self.selection_set(selection.selection_set, inner_type)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        count = self.memo.get(name)
        if count is None:
            self.memo[name] = 0  # cycles were refused by validation; this only stops one
            definition = self.fragments.get(name)
            if definition is not None:
                condition = self._type(definition.type_condition.name.value)
                self.memo[name] = self.selection_set(definition.selection_set, condition)
            count = self.memo[name]
        return count

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        if node.selection_set is None or not isinstance(
            parent, (GraphQLObjectType, GraphQLInterfaceType)
        ):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        inner = self.selection_set(node.selection_set, get_named_type(definition.type))
        if "first" not in definition.args:
            return inner
        return self._first(node) * (1 + inner)

    def _first(self, node: FieldNode) -> int:
        value: Any = None
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, VariableNode):
                self.used_variables = True
                value = self.variables.get(argument.value.name.value)
            elif isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
        # No `first`, or an explicit null, is the default page (api/types.py).
        return max(value, 0) if isinstance(value, int) else DEFAULT_FIRST

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)


@dataclass(frozen=True)
class Cost:
    nodes: int
    depends_on_variables: bool


def node_count(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Cost | None:
    """The operation's worst case; None when there is no operation to run or its variables
    do not coerce (execution then answers with the usual request error)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return None
    root = schema.get_root_type(operation.operation)
    counter = NodeCount(schema, _fragments(document), coerced.coerced)
    nodes = counter.selection_set(operation.selection_set, root)
    return Cost(nodes=nodes, depends_on_variables=counter.used_variables)


def too_many_nodes(nodes: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"This query could return up to {nodes:,} nodes; the maximum is {limit:,}."
        " Ask for fewer items with `first`."
    )


def several_operations(document: DocumentNode) -> bool:
    """True when the document holds more than one operation (GraphQL spec, GetOperation)."""
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1
