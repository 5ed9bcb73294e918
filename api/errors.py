"""One exception per `extensions.code` of the contract; everything else is masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

log = logging.getLogger("likegraph.errors")

INTERNAL_MESSAGE = "Internal server error."


class AppError(Exception):
    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class NotFound(AppError):
    code = "NOT_FOUND"


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"


class Conflict(AppError):
    code = "CONFLICT"


PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def _permission_code(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if code == Forbidden.code else None


ACCOUNT_GONE = "Your account no longer exists: sign up again, or log in as another account."


def account_gone() -> Unauthenticated:
    """The viewer's token was good but its account was deleted meanwhile."""
    return Unauthenticated(ACCOUNT_GONE)


def login_required() -> Unauthenticated:
    return Unauthenticated(
        "You must be logged in: send `Authorization: Bearer <token>` with a token from logIn"
        " or signUp."
    )


class ErrorCodes(SchemaExtension):
    """Gives every error its `extensions.code` and masks anything unexpected to INTERNAL."""

    def on_operation(self) -> Iterator[None]:
        self._executing = False
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._classify(e) for e in result.errors]

    def on_execute(self) -> Iterator[None]:
        self._executing = True
        yield

    def _classify(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, AppError):
            return self._with_code(error, original.message, original.code)
        if isinstance(original, GraphQLError) and _permission_code(original) is not None:
            # A field's permission class (strawberry raises its own GraphQLError, carrying
            # the code the class declares in error_extensions).
            return self._with_code(error, original.message, _permission_code(original) or "")
        if isinstance(error, GraphQLSyntaxError):
            return self._with_code(error, error.message, PARSE_FAILED)
        if original is None and not self._executing:
            return self._with_code(error, error.message, VALIDATION_FAILED)
        if (original is None or isinstance(original, GraphQLError)) and not error.path:
            # Variable coercion: the request's own values were wrong. graphql-core 3.3
            # keeps the value's own GraphQLError as original_error of the variable's error.
            return self._with_code(error, error.message, BadUserInput.code)
        log.error("internal error in a GraphQL request", exc_info=original or error)
        return self._with_code(error, INTERNAL_MESSAGE, AppError.code)

    @staticmethod
    def _with_code(error: GraphQLError, message: str, code: str) -> GraphQLError:
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": code},
        )
