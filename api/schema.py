"""The schema, with its abuse limits."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema
from graphql.language.parser import parse
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document

from api.errors import ErrorCodes
from api.execution import PlainDataExecutor
from api.mutations import Mutation
from api.queries import Query
from api.types import Account, Video

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
# Parsed and validated documents are kept for the most recent distinct query texts: a
# client sends the same few documents again and again, and validation is otherwise about
# half the CPU of a typical request (bench/README.md). Bounded, so unique texts cannot
# grow memory.
DOCUMENT_CACHE_SIZE = 256

# The limits' validation rules are built once: the validation cache is keyed by the rule
# classes, and a limiter made per request would make new classes and never hit it.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class DocumentCache(SchemaExtension):
    """Parses and validates each distinct query text once, both keyed by the text.

    strawberry's ParserCache and ValidationCache do the same, but the latter keys its
    entries by the parsed document, and hashing one walks its whole syntax tree on every
    request (about 10 us for a likers page); a string's hash is computed once and kept.
    A document that fails to parse is left to strawberry's own parse, whose errors go
    the usual way (and get GRAPHQL_PARSE_FAILED).
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with suppress(GraphQLError):
            context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            schema, rules = context.schema._schema, context.validation_rules
            key = (schema, context.query, rules)
            errors = _validated.get(key)
            if errors is None:
                errors = _validated[key] = validate_document(
                    schema, context.graphql_document, rules
                )
                if len(_validated) > DOCUMENT_CACHE_SIZE:
                    del _validated[next(iter(_validated))]  # the entry kept longest
            context.pre_execution_errors = errors
        yield


_parse = functools.lru_cache(maxsize=DOCUMENT_CACHE_SIZE)(parse)
_validated: dict[tuple[GraphQLSchema, str | None, tuple[Any, ...]], list[GraphQLError]] = {}


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
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        DocumentCache,
    ],
    config=StrawberryConfig(auto_camel_case=True),
    execution_context_class=PlainDataExecutor,
)


def sdl() -> str:
    return schema.as_str() + "\n"
