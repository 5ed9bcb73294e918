"""The limits a document meets before any field runs (README, "Limits a client meets").

Each measure walks every fragment definition once and remembers the result, so its work
grows with the length of the document whatever its fragments: 30 chained fragments that
each spread the next one twice are 2^30 paths, but 31 walks here. strawberry's
QueryDepthLimiter and MaxAliasesLimiter walk every path instead, which is why they are
not used. Only an operation whose expanded size is within MAX_SELECTIONS is walked path
by path, to find the fields that graphql-core would compare pairwise.

`DocumentLimits` (depth, aliases, size, repeated fields) needs only the document, so its
verdict is cached with the rest of validation. The node count needs the variables
(`first` may be one), so `NodeCounts` answers every request, after validation, from
counts kept by query text and by the values of the variables that `first` uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
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

from api.types import DEFAULT_FIRST, MAX_FIRST

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
# Fields and fragments an operation selects once every spread is expanded in place: a
# bound on the second walk below, and on the work of graphql-core's rules. The GraphiQL
# introspection query selects about 170; issue 9's fragment chain, 2^21.
MAX_SELECTIONS = 2000
# graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of fields that one
# place of the response merges: 600 copies of `viewer { handle }` (within the token limit)
# took it 2.7 s, 30 copies of `viewer` holding 7 `videos` each 1.7 s (133,000 pairs).
# A document without repeats has no pair at all; fragments that overlap a little, a few.
MAX_OVERLAPS = 2000
# Mutations that hash or check a password with argon2 (about 0.1 s of CPU each, by
# design): 30 aliased copies held a request for 4 to 7 s. One per document.
PASSWORD_MUTATIONS = frozenset({"signUp", "logIn", "changePassword", "deleteAccount"})


@dataclass
class Measure:
    """What one selection set holds, its fragments included (each spread counted)."""

    height: int = 0  # levels of fields below this one: a leaf field is 0
    aliases: int = 0
    selections: int = 0  # fields, spreads and inline fragments, each spread expanded

    def add(self, other: Measure) -> None:
        self.height = max(self.height, other.height)
        self.aliases += other.aliases
        self.selections += other.selections


class DocumentWalk:
    """Measures selection sets, each fragment definition once."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, Measure] = {}
        self.visits = 0  # selections looked at: tests/test_limits.py checks it stays linear
        self.entered: set[str] = set()
        # Fragments that spread themselves, through others or not: graphql-core's
        # NoFragmentCyclesRule refuses the document, and no measure of it means anything.
        self.cyclic = False

    def fragment(self, name: str) -> Measure:
        measure = self.memo.get(name)
        if measure is None:
            if name in self.entered:
                self.cyclic = True
                return Measure()
            self.entered.add(name)
            definition = self.fragments.get(name)
            # An unknown fragment is KnownFragmentNamesRule's to report: it counts nothing.
            measure = Measure()
            if definition is not None:
                measure = self.selection_set(definition.selection_set)
            self.memo[name] = measure
        return measure

    def selection_set(self, node: SelectionSetNode) -> Measure:
        measure = Measure()
        for selection in node.selections:
            self.visits += 1
            measure.selections += 1
            if isinstance(selection, FieldNode):
                measure.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    inner = self.selection_set(selection.selection_set)
                    measure.aliases += inner.aliases
                    measure.selections += inner.selections
                    # As strawberry's limiter did: introspection has its own depth rule
                    # (graphql-core's MaxIntrospectionDepthRule).
                    if not selection.name.value.startswith("__"):
                        measure.height = max(measure.height, 1 + inner.height)
            elif isinstance(selection, InlineFragmentNode):
                measure.add(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                measure.add(self.fragment(selection.name.value))
        return measure

    def root_fields(self, node: SelectionSetNode, names: frozenset[str]) -> int:
        """How many fields named in `names` run at this level, through inline fragments
        and spreads (each spread counted; each fragment walked once). Call it only on a
        document without fragment cycles."""
        memo: dict[str, int] = {}

        def count(selections: SelectionSetNode) -> int:
            found = 0
            for selection in selections.selections:
                if isinstance(selection, FieldNode):
                    found += selection.name.value in names
                elif isinstance(selection, InlineFragmentNode):
                    found += count(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name not in memo:
                        definition = self.fragments.get(name)
                        memo[name] = 0 if definition is None else count(definition.selection_set)
                    found += memo[name]
            return found

        return count(node)

    def places(self, node: SelectionSetNode) -> Counter[tuple[str, ...]]:
        """How many fields each place of the response merges (a place: its response names
        from the root). Expands every spread: only for operations within MAX_SELECTIONS."""
        found: Counter[tuple[str, ...]] = Counter()
        self._expand(node, (), found, frozenset())
        return found

    def _expand(
        self,
        node: SelectionSetNode,
        path: tuple[str, ...],
        found: Counter[tuple[str, ...]],
        entered: frozenset[str],
    ) -> None:
        for selection in node.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                place = (*path, (selection.alias or selection.name).value)
                found[place] += 1
                if selection.selection_set is not None:
                    self._expand(selection.selection_set, place, found, entered)
            elif isinstance(selection, InlineFragmentNode):
                self._expand(selection.selection_set, path, found, entered)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = self.fragments.get(name)
                if definition is not None and name not in entered:
                    self._expand(definition.selection_set, path, found, entered | {name})


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _overlap_error(places: Counter[tuple[str, ...]]) -> GraphQLError | None:
    pairs = sum(count * (count - 1) // 2 for count in places.values())
    if pairs <= MAX_OVERLAPS:
        return None
    place, count = places.most_common(1)[0]
    return GraphQLError(
        f"Fields selected more than once at the same place make {pairs:,} pairs to compare"
        f" (`{'.'.join(place)}` alone is selected {count:,} times); the maximum is"
        f" {MAX_OVERLAPS:,} pairs."
    )


class DocumentLimits(ValidationRule):
    """Depth, aliases, size and repeated fields, for every operation of the document.

    Measured when each operation is entered: graphql-core's own guard against fragments
    nested too deeply for the stack (validate's FragmentNestingVisitor) has run by then.
    """

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        self.walk = DocumentWalk(_fragments(node))

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *_args: Any
    ) -> VisitorAction:
        measure = self.walk.selection_set(node.selection_set)
        if self.walk.cyclic:
            return self.SKIP  # graphql-core's rules report the cycle
        errors = []
        if measure.height > MAX_DEPTH:
            errors.append(
                f"Fields are nested {measure.height} levels deep; the maximum depth is {MAX_DEPTH}."
            )
        if measure.aliases > MAX_ALIASES:
            errors.append(
                f"The operation uses {measure.aliases:,} aliases;"
                f" the maximum is {MAX_ALIASES} aliases."
            )
        if node.operation.value == "mutation":
            hashing = self.walk.root_fields(node.selection_set, PASSWORD_MUTATIONS)
            if hashing > 1:
                errors.append(
                    f"The operation runs {hashing} of {', '.join(sorted(PASSWORD_MUTATIONS))},"
                    " each of which checks or hashes a password; send them one per request."
                )
        if measure.selections > MAX_SELECTIONS:
            errors.append(
                f"The operation selects {measure.selections:,} fields and fragments once its"
                f" fragments are expanded; the maximum is {MAX_SELECTIONS:,}."
            )
        else:
            overlap = _overlap_error(self.walk.places(node.selection_set))
            if overlap is not None:
                errors.append(overlap.message)
        for message in errors:
            self.report_error(GraphQLError(message, node))
        return self.SKIP  # measured whole: the rest of its tree is not needed here

    def enter_fragment_definition(self, *_args: Any) -> VisitorAction:
        return self.SKIP  # measured through the operations that spread it


class Uncoercible(Exception):
    """A variable that `first` uses has a value of the wrong type."""


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
        operation: OperationDefinitionNode,
        inputs: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.definitions = {d.variable.name.value: d for d in operation.variable_definitions or ()}
        self.inputs = inputs
        self.memo: dict[str, int] = {}
        self.used: dict[str, Any] = {}  # the variables `first` uses, coerced

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
                value = self._variable(argument.value.name.value)
            elif isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
        # No `first`, or an explicit null, is the default page (api/types.py). A value out
        # of range counts as the most a page holds: its field refuses it with its own
        # error (BAD_USER_INPUT), which names what is wrong better than a count would.
        return min(max(value, 0), MAX_FIRST) if isinstance(value, int) else DEFAULT_FIRST

    def _variable(self, name: str) -> Any:
        """A variable's value as execution will see it (its default applied), coerced only
        when `first` uses it."""
        if name not in self.used:
            definition = self.definitions.get(name)
            if definition is None:
                return None
            given = {name: self.inputs[name]} if name in self.inputs else {}
            coerced = get_variable_values(self.schema, (definition,), given)
            if isinstance(coerced, list):
                raise Uncoercible(name)
            self.used[name] = coerced.coerced.get(name)
        return self.used[name]

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)


class NodeCounts:
    """Worst-case counts kept by query text, operation name and the values of the
    variables that `first` uses (most documents have none, so one count serves every
    request). Bounded: the entries kept longest make way."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.uses: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self.counts: dict[tuple[Any, ...], int] = {}

    def count(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        query: str,
        operation_name: str | None,
        inputs: Mapping[str, Any] | None,
    ) -> int | None:
        """None when there is no operation to run or a variable does not coerce (execution
        then answers with its usual request error)."""
        inputs = inputs or {}
        names = self.uses.get((query, operation_name))
        key = None
        if names is not None:
            key = (query, operation_name, *(_given(inputs, name) for name in names))
            nodes = self.counts.get(key)
            if nodes is not None:
                return nodes
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return None
        counter = NodeCount(schema, _fragments(document), operation, inputs)
        try:
            nodes = counter.selection_set(
                operation.selection_set, schema.get_root_type(operation.operation)
            )
        except Uncoercible:
            return None
        names = tuple(counter.used)
        key = (query, operation_name, *(_given(inputs, name) for name in names))
        self._keep(self.uses, (query, operation_name), names)
        self._keep(self.counts, key, nodes)
        return nodes

    def _keep(self, entries: dict[Any, Any], key: Any, value: Any) -> None:
        entries[key] = value
        if len(entries) > self.size:
            del entries[next(iter(entries))]


def _given(inputs: Mapping[str, Any], name: str) -> Any:
    """A variable's part of the key. A variable left out takes its default, which may be
    large; one sent as null asks for the default page: never the same entry."""
    if name not in inputs:
        return _LEFT_OUT
    return _hashable(inputs[name])


_LEFT_OUT = ("left out",)


def _hashable(value: Any) -> Any:
    # A value `first` can use is an int or null; anything else fails coercion, and is
    # kept apart by its type and text so that no two values share an entry.
    return value if value is None or type(value) is int else (type(value).__name__, repr(value))


def too_many_nodes(nodes: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"This query could return up to {nodes:,} nodes; the maximum is {limit:,}."
        " Ask for fewer items with `first`."
    )


def several_operations(document: DocumentNode) -> bool:
    """True when the document holds more than one operation (GraphQL spec, GetOperation)."""
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1
