"""`schema.graphql` is the output of `likegraph export-schema`, and holds contract section 3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    print_ast,
)

ROOT = Path(__file__).resolve().parents[1]

# CONTRACT.md section 3, verbatim but for comments: the names and shapes clients rely on.
CONTRACT_SDL = """
scalar DateTime

interface Node { id: ID! }

enum FollowStatus { NONE PENDING APPROVED }

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type Account implements Node {
  id: ID!
  handle: String!
  displayName: String!
  isPrivate: Boolean!
  followerCount: Int!
  followingCount: Int!
  viewerFollowStatus: FollowStatus!
  videos(first: Int = 20, after: String): VideoConnection!
  likes(first: Int = 20, after: String): LikeConnection!
}

type Video implements Node {
  id: ID!
  caption: String!
  author: Account!
  createdAt: DateTime!
  likeCount: Int!
  viewerHasLiked: Boolean!
  likers(first: Int = 20, after: String): LikerConnection!
}

type Like {
  account: Account!
  video: Video!
  likedAt: DateTime!
}

type LikerEdge { cursor: String!  node: Account!  likedAt: DateTime! }
type LikerConnection { edges: [LikerEdge!]!  pageInfo: PageInfo! }
type LikeEdge { cursor: String!  node: Like! }
type LikeConnection { edges: [LikeEdge!]!  pageInfo: PageInfo! }
type VideoEdge { cursor: String!  node: Video! }
type VideoConnection { edges: [VideoEdge!]!  pageInfo: PageInfo! }

type AuthPayload { token: String!  account: Account! }

type Query {
  viewer: Account
  account(handle: String!): Account
  video(id: ID!): Video
  node(id: ID!): Node
}

type Mutation {
  signUp(handle: String!, password: String!, displayName: String, isPrivate: Boolean = false): AuthPayload!
  logIn(handle: String!, password: String!): AuthPayload!
  setPrivacy(isPrivate: Boolean!): Account!
  createVideo(caption: String!): Video!
  likeVideo(videoId: ID!): Video!
  unlikeVideo(videoId: ID!): Video!
  follow(handle: String!): FollowStatus!
  unfollow(handle: String!): FollowStatus!
  approveFollower(handle: String!): FollowStatus!
  removeFollower(handle: String!): FollowStatus!
  block(handle: String!): Boolean!
  unblock(handle: String!): Boolean!
  updateProfile(displayName: String!): Account!
  deleteVideo(id: ID!): Boolean!
  deleteAccount(password: String!): Boolean!
}
"""  # noqa: E501


def exported_sdl() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "api", "export-schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def _arg_shape(arg: GraphQLArgument) -> str:
    """`name: Type = default` as SDL prints it (both schemas here are built from SDL)."""
    assert arg.ast_node is not None
    return print_ast(arg.ast_node)


def _shape_differences(contract: GraphQLSchema, ours: GraphQLSchema) -> list[str]:
    """Every contract type, field, argument, default and enum value that ours lacks or changes.

    The project may add fields, types and arguments (an added argument must be optional).
    """
    problems: list[str] = []
    for name, wanted in contract.type_map.items():
        if name.startswith("__"):
            continue
        have = ours.type_map.get(name)
        if have is None or type(have) is not type(wanted):
            problems.append(f"type {name}: missing or of another kind")
            continue
        if isinstance(wanted, GraphQLEnumType):
            assert isinstance(have, GraphQLEnumType)
            if set(have.values) != set(wanted.values):
                problems.append(f"enum {name}: {sorted(have.values)} != {sorted(wanted.values)}")
        if not isinstance(wanted, GraphQLObjectType | GraphQLInterfaceType):
            continue
        assert isinstance(have, GraphQLObjectType | GraphQLInterfaceType)
        missing_interfaces = {i.name for i in wanted.interfaces} - {i.name for i in have.interfaces}
        if missing_interfaces:
            problems.append(f"type {name}: does not implement {sorted(missing_interfaces)}")
        for field_name, field in wanted.fields.items():
            got = have.fields.get(field_name)
            where = f"{name}.{field_name}"
            if got is None:
                problems.append(f"{where}: missing")
                continue
            if str(got.type) != str(field.type):
                problems.append(f"{where}: {got.type} != {field.type}")
            for arg_name, arg in field.args.items():
                got_arg = got.args.get(arg_name)
                if got_arg is None:
                    problems.append(f"{where}({arg_name}:): missing")
                elif _arg_shape(got_arg) != _arg_shape(arg):
                    problems.append(f"{where}({_arg_shape(got_arg)}) != ({_arg_shape(arg)})")
            for arg_name, got_arg in got.args.items():
                if arg_name not in field.args and _arg_shape(got_arg).endswith("!"):
                    problems.append(f"{where}({arg_name}:): an added argument is required")
    return problems


def test_schema_graphql_is_the_output_of_export_schema() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == exported_sdl(), "run `likegraph export-schema > schema.graphql`"


def test_the_schema_holds_every_name_and_shape_of_the_contract() -> None:
    ours = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    assert _shape_differences(build_schema(CONTRACT_SDL), ours) == []


def test_the_shape_check_catches_a_changed_field() -> None:
    # The check itself must fail on a drift: a nullable viewer made non-null, a lost default.
    drifted = CONTRACT_SDL.replace("viewer: Account\n", "viewer: Account!\n").replace(
        "likers(first: Int = 20", "likers(first: Int = 10"
    )
    problems = _shape_differences(build_schema(CONTRACT_SDL), build_schema(drifted))
    assert problems == [
        "Video.likers(first: Int = 10) != (first: Int = 20)",
        "Query.viewer: Account! != Account",
    ]
