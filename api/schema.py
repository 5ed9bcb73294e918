"""The schema, with its abuse limits."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.language.parser import parse
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document

from api.context import Context
from api.errors import ErrorCodes
from api.execution import PlainDataExecutor
from api.limits import MAX_TOKENS, DocumentLimits, NodeCounts, too_many_nodes
from api.mutations import Mutation
from api.queries import Query
from api.settings import DEFAULT_MAX_NODES
from api.types import Account, Video

# Parsed and validated documents are kept for the most recent distinct query texts: a
# client sends the same few documents again and again, and validation is otherwise about
# half the CPU of a typical request (bench/README.md). Bounded, so unique texts cannot
# grow memory.
DOCUMENT_CACHE_SIZE = 256

# The limits run first, alone: graphql-core's own rules are not all linear in the
# document (api/limits.py), so they only see documents within the limits.
LIMIT_RULES = (DocumentLimits,)


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
                errors = _validated[key] = validated(schema, context.graphql_document, rules)
                if len(_validated) > DOCUMENT_CACHE_SIZE:
                    del _validated[next(iter(_validated))]  # the entry kept longest
            context.pre_execution_errors = errors
        yield


def validated(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """The document's validation errors: the limits first, alone, then the rules."""
    return validate(schema, document, LIMIT_RULES) or validate_document(schema, document, rules)


class NodeLimit(SchemaExtension):
    """Refuses, before any field runs, an operation whose worst case is over the limit.

    After validation (the count trusts a valid document), for every request: `first` may
    be a variable, so the count is kept by the values of the variables it uses as well.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # An empty list, not None: the document was validated (by DocumentCache) and passed.
        if document is not None and context.query and context.pre_execution_errors == []:
            app_context = context.context
            limit = (
                app_context.settings.max_nodes
                if isinstance(app_context, Context)
                else DEFAULT_MAX_NODES
            )
            nodes = _node_counts.count(
                context.schema._schema,
                document,
                context.query,
                context.operation_name,
                context.variables,
            )
            if nodes is not None and nodes > limit:
                context.pre_execution_errors = [too_many_nodes(nodes, limit)]
        yield


_parse = functools.lru_cache(maxsize=DOCUMENT_CACHE_SIZE)(parse)
_validated: dict[tuple[GraphQLSchema, str | None, tuple[Any, ...]], list[GraphQLError]] = {}
_node_counts = NodeCounts(DOCUMENT_CACHE_SIZE)


def parsed(query: str) -> DocumentNode | None:
    """The document of a query text (cached, as for execution); None if it does not parse."""
    try:
        return _parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None


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
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        DocumentCache,
        NodeLimit,  # after DocumentCache, whose validation it follows
    ],
    config=StrawberryConfig(auto_camel_case=True),
    execution_context_class=PlainDataExecutor,
)


def sdl() -> str:
    return schema.as_str() + "\n"
