"""api/execution.py's shortcut answers exactly as graphql-core's own executor does.

The same documents run through both executors, on the real schema as every persona and
on a small schema built to make every way out of the shortcut happen: nulls where the
type forbids them, exceptions, awaitables, values a scalar refuses, other iterables,
failing attributes, the wrong object type, abstract types and middleware.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NewType

import pytest
import strawberry
from graphql import GraphQLObjectType
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.execution import PlainDataExecutor, plain_field, reads_value_only
from api.schema import schema as app_schema
from tests.test_snapshots import DOCUMENT as PERSONA_DOCUMENT
from tests.world import PERSONAS, POPULAR, World

STOCK = StrawberryGraphQLCoreExecutionContext

LIKERS_PAGE = """
query($id: ID!) { video(id: $id) { likers(first: 20) {
  edges { cursor likedAt node { handle displayName } }
  pageInfo { hasNextPage endCursor }
} } }
"""
SHAPES = """
query($id: ID!, $yes: Boolean!, $no: Boolean!) {
  video(id: $id) {
    __typename
    author { __typename ...Who }
    first: likers(first: 2) { edges { node { handle h2: handle } } }
    all: likers { edges @include(if: $yes) { cursor node { ...Who } } pageInfo @skip(if: $no) {
      ... on PageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } }
    mixed: likers { edges { node { handle followerCount viewerFollowStatus } } }
    gone: likers { edges @skip(if: $yes) { cursor } pageInfo { __typename } }
  }
  asNode: node(id: $id) { __typename id ... on Video { caption author { handle } } }
}
fragment Who on Account { __typename id handle displayName isPrivate }
"""
BAD_CURSOR = 'query($id: ID!) { video(id: $id) { likers(after: "nope") { edges { cursor } } } }'


@pytest.fixture
def use_executor(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(executor: type[STOCK]) -> None:
        monkeypatch.setattr(app_schema, "execution_context_class", executor)

    yield use


async def test_the_shortcut_answers_every_persona_as_graphql_core_does(
    world: World, use_executor: Any
) -> None:
    popular = world.video_ids[POPULAR]
    documents = [
        (PERSONA_DOCUMENT, {"popular": popular, "clip": world.video_ids["bob: private clip"]}),
        (LIKERS_PAGE, {"id": popular}),
        (SHAPES, {"id": popular, "yes": True, "no": False}),
        (SHAPES, {"id": popular, "yes": False, "no": True}),
        (BAD_CURSOR, {"id": popular}),
    ]
    answers: dict[type[STOCK], list[Any]] = {}
    for executor in (STOCK, PlainDataExecutor):
        use_executor(executor)
        answers[executor] = [
            await world(document, variables, as_=persona)
            for document, variables in documents
            for persona in PERSONAS
        ]
    # The documents do reach data and errors (else this comparison would prove little).
    assert any(answer.get("data", {}).get("video") for answer in answers[STOCK])
    assert any("errors" in answer for answer in answers[STOCK])
    for stock, shortcut in zip(answers[STOCK], answers[PlainDataExecutor], strict=True):
        assert json.dumps(shortcut) == json.dumps(stock)  # the same keys in the same order


async def test_a_likers_page_runs_only_its_resolvers_through_graphql_core(
    world: World, use_executor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the speed of bench/README.md: every plain field of the page takes the
    shortcut, so a strawberry or graphql-core upgrade cannot switch it off unnoticed."""
    ran: list[str] = []
    ordinary = STOCK.execute_field

    def recording(self: STOCK, parent_type: Any, source: Any, fields: Any, *rest: Any) -> Any:
        ran.append(f"{parent_type.name}.{fields[0].node.name.value}")
        return ordinary(self, parent_type, source, fields, *rest)

    infos: list[str] = []
    build_info = STOCK.build_resolve_info

    def counting(self: STOCK, field: Any, nodes: Any, parent_type: Any, path: Any) -> Any:
        infos.append(f"{parent_type.name}.{nodes[0].name.value}")
        return build_info(self, field, nodes, parent_type, path)

    monkeypatch.setattr(STOCK, "execute_field", recording)
    monkeypatch.setattr(STOCK, "build_resolve_info", counting)
    use_executor(PlainDataExecutor)
    data = await world.ok(LIKERS_PAGE, {"id": world.video_ids[POPULAR]}, as_="bob")
    assert [e["node"]["handle"] for e in data["video"]["likers"]["edges"]] == [
        "erin",
        "bob",
    ]
    assert ran == ["Query.video", "Video.likers"]
    # Account's is_type_of reads the value only: no resolve info is built for a liker.
    assert infos == ["Query.video", "Video.likers"]


# A small schema that makes every way out of the shortcut happen.


# A scalar that serializes anything at all, an exception too, with str().
Label = NewType("Label", str)
CONFIG = StrawberryConfig(
    scalar_map={Label: strawberry.scalar(name="Label", serialize=str, parse_value=str)}
)


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):
    name: str
    key: Label
    count: int
    note: str | None
    at: datetime
    colour: Colour
    tags: list[str]
    grid: list[list[int]]


@strawberry.type
class Checked(Named):
    """Its own value-only is_type_of, which the shortcut calls with no resolve info."""

    name: str

    @classmethod
    @reads_value_only
    def is_type_of(cls, value: object, _info: object) -> bool:
        return isinstance(value, cls)


@strawberry.type
class Loose:
    """No interface, so no is_type_of: any object with the attributes will do."""

    name: str
    maybe: Item | None
    checks: list[Checked] | None = None


class RaisingName:
    @property
    def name(self) -> str:
        raise RuntimeError("no name today")


async def _later(value: str) -> str:
    return value


def item(**overrides: Any) -> Item:
    values: dict[str, Any] = {
        "name": "a",
        "key": "k1",
        "count": 1,
        "note": None,
        "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "colour": Colour.RED,
        "tags": ["x", "y"],
        "grid": [[1, 2], [3]],
    } | overrides
    return Item(**values)


@strawberry.type
class Query:
    @strawberry.field
    def good(self) -> list[Item]:
        return [item(), item(name="b", note="n")]

    @strawberry.field
    def null_name(self) -> list[Item | None]:
        return [item(), item(name=None)]

    @strawberry.field
    def exception_value(self) -> Item | None:
        # Label would serialize an exception as its message: as a value, it must raise.
        return item(key=ValueError("an exception as a value"))

    @strawberry.field
    def awaitable_value(self) -> Item:
        return item(key=_later("awaited"))

    @strawberry.field
    def refused_scalar(self) -> Item | None:
        return item(count="not a number")

    @strawberry.field
    def generator_list(self) -> Item:
        return item(tags=(tag for tag in ("g", "h")))

    @strawberry.field
    def raising_attribute(self) -> Loose | None:
        return RaisingName()  # type: ignore[return-value]  # an object with the attribute

    @strawberry.field
    def wrong_type(self) -> Loose:
        return Loose(name="loose", maybe=Loose(name="not an item", maybe=None))  # type: ignore[arg-type]

    @strawberry.field
    def abstract(self) -> list[Named]:
        return [item(), Checked(name="checked")]

    @strawberry.field
    def checked(self) -> Loose:
        # A plain list attribute, so the shortcut completes it: its second item is wrong.
        return Loose(name="holder", maybe=None, checks=[Checked(name="c"), item()])  # type: ignore[list-item]


ITEM = "__typename name key count note at colour tags grid"
PROBES = [
    f"{{ good {{ {ITEM} again: name ... on Item {{ tags }} ... on Named {{ name }} }} }}",
    f"{{ nullName {{ {ITEM} }} }}",
    f"{{ exceptionValue {{ {ITEM} }} }}",
    f"{{ awaitableValue {{ {ITEM} }} }}",
    f"{{ refusedScalar {{ {ITEM} }} }}",
    f"{{ generatorList {{ {ITEM} }} }}",
    "{ rawName: raisingAttribute { name } }",
    "{ wrongType { name maybe { name } } }",
    "{ abstract { __typename name ... on Item { count } } }",
    "{ checked { name checks { name } } }",
]


class Shouting(SchemaExtension):
    """Middleware: every field passes through `resolve`, and strings come out upper case."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) else result


def _answer(result: Any) -> str:
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors})


@pytest.mark.parametrize("extensions", [[], [Shouting]], ids=["plain", "middleware"])
async def test_every_way_out_of_the_shortcut_ends_as_graphql_core_ends_it(
    extensions: list[type[SchemaExtension]],
) -> None:
    stock = strawberry.Schema(query=Query, extensions=extensions, config=CONFIG)
    shortcut = strawberry.Schema(
        query=Query,
        extensions=extensions,
        config=CONFIG,
        execution_context_class=PlainDataExecutor,
    )
    answers = []
    for document in PROBES:
        expected = _answer(await stock.execute(document))
        assert _answer(await shortcut.execute(document)) == expected, document
        answers.append(json.loads(expected))
    # The probes do what they are named for: the errors are graphql-core's.
    messages = [e["message"] for answer in answers for e in answer["errors"]]
    assert "Cannot return null for non-nullable field Item.name." in messages
    assert "an exception as a value" in messages
    assert "no name today" in messages
    assert any(m.startswith("Int cannot represent non-integer value") for m in messages)
    assert any(m.startswith("Expected value of type 'Item'") for m in messages)
    assert any(m.startswith("Expected value of type 'Checked'") for m in messages)
    # Middleware sees the coroutine and the generator themselves, not the strings in them.
    assert answers[3]["data"]["awaitableValue"]["key"] == "awaited"
    assert answers[5]["data"]["generatorList"]["tags"] == ["g", "h"]


# A field with no resolver of its own but a permission class: strawberry still marks its
# resolver `_is_default`, so a shortcut that trusted the mark alone would read the
# attribute and skip the check.


class Denied(BasePermission):
    message = "Nobody may read this."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Guarded:
    name: str
    secret: str = strawberry.field(permission_classes=[Denied])


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def guarded(self) -> list[Guarded]:
        return [Guarded(name="open", secret="hidden")]


async def test_a_plain_field_with_a_permission_is_left_to_graphql_core() -> None:
    shortcut = strawberry.Schema(query=GuardedQuery, execution_context_class=PlainDataExecutor)
    guarded_type = shortcut._schema.type_map["Guarded"]
    assert isinstance(guarded_type, GraphQLObjectType)
    # The attribute beside it still takes the shortcut; the guarded one never does.
    assert plain_field(guarded_type.fields["name"]) is not None
    assert plain_field(guarded_type.fields["secret"]) is None

    result = await shortcut.execute("{ guarded { name secret } }")
    assert result.data is None  # `secret` is non-null: the denial nulls the whole list
    assert [error.message for error in result.errors or []] == ["Nobody may read this."]
    assert "hidden" not in json.dumps(_answer(result))
    allowed = await shortcut.execute("{ guarded { name } }")
    assert allowed.data == {"guarded": [{"name": "open"}]}
