"""The schema, with its abuse limits."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from api.errors import ErrorCodes
from api.mutations import Mutation
from api.queries import Query
from api.types import Account, Video

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are answers, not incidents: ErrorCodes logs the internal ones."""


schema = Schema(
    query=Query,
    mutation=Mutation,
    types=[Account, Video],
    extensions=[
        # ErrorCodes comes first so that it sees (and codes) the limiters' errors too.
        ErrorCodes,
        # Factories, not instances: strawberry builds a fresh extension per request.
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ],
    config=StrawberryConfig(auto_camel_case=True),
)


def sdl() -> str:
    return schema.as_str() + "\n"
