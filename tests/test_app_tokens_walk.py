"""THE SCHEMA WALK (rule 17): every field of every type, and who may read it.

An app token must never read an identity: no field that can return an account or a like
may be open to it without a decision. The walk starts at `Query` and follows every field
an app can read; a field whose type is an account, a like, or an edge or connection of
them must carry `IdentityList` (api/permissions.py) or stand on ALLOWED below, with the
reason. A field added later without a decision fails here; so does a mutation without
`NoApps`. The table of every field and who reads it is a committed snapshot: a new field
of any type shows up in its diff, to be read before `--snapshot-update`.

tests/test_app_tokens.py checks the same guards behaviourally, over HTTP.
"""

from __future__ import annotations

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from syrupy.assertion import SnapshotAssertion

from api.execution import plain_field
from api.permissions import IdentityList, NoApps
from api.schema import schema

# What names or lists a person: an account, a like (it names its liker), and every edge
# and connection that holds them.
IDENTITY_TYPES = frozenset(
    {
        "Account",
        "Like",
        "LikerEdge",
        "LikeEdge",
        "AccountEdge",
        "LikerConnection",
        "LikeConnection",
        "AccountConnection",
    }
)

# Fields that return an identity and stay open to apps, each with its reason.
ALLOWED = {
    ("Query", "viewer"): "rule 17: the app's owner, by the app's own grant",
    ("Query", "account"): "rule 6: a profile the caller names by handle; anonymous reads it",
    ("Query", "node"): "rules 2 and 6: an object by an ID the caller holds; as for anonymous",
    ("Video", "author"): "rule 2: a visible video's author is public content; anonymous reads it",
}

GRAPH = schema._schema


def _definition(field: GraphQLField) -> StrawberryField | None:
    found = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return found if isinstance(found, StrawberryField) else None


def _permissions(field: GraphQLField) -> list[type]:
    definition = _definition(field)
    return [] if definition is None else list(definition.permission_classes)


def _guarded(field: GraphQLField) -> bool:
    return IdentityList in _permissions(field)


def _possible(type_: GraphQLNamedType) -> set[str]:
    """The object types a value of this type can be (an interface: its implementations)."""
    if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
        return {t.name for t in GRAPH.get_possible_types(type_)}
    return {type_.name}


def _returns_identity(field: GraphQLField) -> bool:
    return bool(_possible(get_named_type(field.type)) & IDENTITY_TYPES)


def _user_types() -> list[GraphQLObjectType | GraphQLInterfaceType]:
    return [
        t
        for name, t in sorted(GRAPH.type_map.items())
        if not name.startswith("__") and isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
    ]


def reachable_by_apps() -> set[str]:
    """Every type an app reaches from `Query` through fields it may read (the mutation
    root is closed to it: see the test of NoApps)."""
    assert GRAPH.query_type is not None
    seen: set[str] = set()
    todo = [GRAPH.query_type.name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        type_ = GRAPH.type_map[name]
        for possible in _possible(type_) - seen:
            todo.append(possible)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field in type_.fields.values():
                if not _guarded(field):
                    todo.append(get_named_type(field.type).name)
    return seen


def guarded_identity_fields() -> set[tuple[str, str]]:
    """(type, field) of every field that carries the identity-list guard."""
    return {(t.name, name) for t in _user_types() for name, f in t.fields.items() if _guarded(f)}


def test_every_field_an_app_reaches_that_returns_an_identity_is_guarded_or_allowed() -> None:
    reachable = reachable_by_apps()
    undecided = [
        f"{t.name}.{name}"
        for t in _user_types()
        if t.name in reachable
        for name, field in t.fields.items()
        if _returns_identity(field) and not _guarded(field) and (t.name, name) not in ALLOWED
    ]
    assert undecided == [], (
        "These fields can return an account or a like to an app token: give each"
        " permission_classes=[IdentityList] (api/permissions.py), or an entry in ALLOWED"
        " with its reason."
    )


def test_no_list_of_identities_is_reachable_by_an_app_but_through_a_guard() -> None:
    """Edges, connections and likes are reached only through guarded fields: an app gets
    no account or like out of them, wherever they are nested."""
    assert reachable_by_apps() & IDENTITY_TYPES == {"Account"}


def test_the_guards_and_the_allow_list_are_real() -> None:
    """The walk cannot pass vacuously: the lists it knows are guarded, and each allowed
    field exists and returns an identity (a stale entry would let its name be reused)."""
    assert {("Video", "likers"), ("Account", "likes")} <= guarded_identity_fields()
    for (type_name, field_name), reason in ALLOWED.items():
        type_ = GRAPH.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType), type_name
        assert _returns_identity(type_.fields[field_name]), (type_name, field_name, reason)


def test_every_guarded_field_returns_an_identity() -> None:
    """IdentityList on a field that cannot return one would be a decision made in error."""
    for type_name, field_name in guarded_identity_fields():
        type_ = GRAPH.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
        assert _returns_identity(type_.fields[field_name]), (type_name, field_name)


def test_every_mutation_is_closed_to_apps() -> None:
    assert GRAPH.mutation_type is not None
    open_ = [
        name for name, f in GRAPH.mutation_type.fields.items() if NoApps not in _permissions(f)
    ]
    assert open_ == [], "Give these mutations permission_classes=[NoApps] (api/permissions.py)."


def test_the_executor_shortcut_never_takes_a_permissioned_field() -> None:
    """api/execution.py answers plain fields itself; one with a permission class must
    always go through strawberry, which runs the check."""
    for t in _user_types():
        if isinstance(t, GraphQLObjectType):
            for name, field in t.fields.items():
                if _permissions(field):
                    assert plain_field(field) is None, (t.name, name)


# Fields whose resolver asks the policy and answers null with no error (CONTRACT section 7).
RESOLVER_DECIDES = {
    ("Account", "appTokens"): "the account itself, logged in (can_manage_app_tokens); else null",
    ("Account", "audienceProfile"): "the account itself (can_read_audience_profile); else null",
    ("Query", "viewer"): "the account, or its app (viewer_account_id); else null",
}


def who_reads(type_name: str, field_name: str, field: GraphQLField, reachable: bool) -> str:
    permissions = [p.__name__ for p in _permissions(field)]
    if permissions:
        said = "only whom " + " and ".join(permissions) + " allows (FORBIDDEN otherwise)"
    elif (type_name, field_name) in RESOLVER_DECIDES:
        said = RESOLVER_DECIDES[(type_name, field_name)]
    elif (type_name, field_name) in ALLOWED:
        said = "everyone it is visible to, apps included: " + ALLOWED[(type_name, field_name)]
    elif _returns_identity(field):
        said = "an identity behind a guard: never an app"
    else:
        said = "everyone who reaches it, as the policy filters (no identity)"
    return said if reachable else said + " [apps cannot reach it]"


def test_who_reads_every_field(snapshot: SnapshotAssertion) -> None:
    """Every field of every type, and who reads it: a new field changes this table."""
    reachable = reachable_by_apps()
    table = {
        f"{t.name}.{name}": who_reads(
            t.name, name, field, t.name in reachable or t.name == "Mutation"
        )
        for t in _user_types()
        for name, field in t.fields.items()
    }
    assert table == snapshot
