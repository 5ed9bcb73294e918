"""PostgreSQL functions generated from Python: statements that need a fresh snapshot each,
sent in one round trip.

A write that must wait for a lock and then read with a snapshot taken after the wait
(rule 11: a like waits for a block under way, then sees it) cannot be one statement, since
a statement reads with the snapshot it started with. Sent one by one, with BEGIN and
COMMIT, each statement costs the worker a round trip (~0.1-0.15 ms of CPU,
bench/README.md). A VOLATILE PL/pgSQL function takes a fresh snapshot for each statement
it runs, so the statements can go in one call, and a call in a statement of its own is
its own transaction.

The body is built at run time by the same Python as any other statement (the policy's
SQL conditions included), so no rule is written twice, in Python and in a migration.
The function is named after a digest of its definition and created the first time a
call finds it missing: a changed rule gives a new name, never a different body under an
old one, so processes running the old code during a deploy keep their function. Old
functions stay behind, unused (a few catalog rows each).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

T = TypeVar("T")

# The SQLSTATE of "function ... does not exist".
UNDEFINED_FUNCTION = "42883"
_QUOTE = "$likegraph_function$"


class Function(NamedTuple):
    name: str
    definition: str  # the CREATE OR REPLACE FUNCTION statement

    def call(self, arity: int) -> str:
        """The call with the statement's first `arity` placeholders as its arguments, in
        order: the body was built with those same placeholders."""
        return f"{self.name}({', '.join(f'${n}' for n in range(1, arity + 1))})"


def plpgsql(prefix: str, returns: str, body: str, params: Sequence[Any]) -> Function:
    """A VOLATILE PL/pgSQL function running `body`, whose `$1`..`$N` are the placeholders
    of `params` (the values a statement built with `models.sql.Sql` has collected so far):
    the call passes them on as the function's arguments."""
    if _QUOTE in body:
        raise ValueError("the body contains the function's own quote")
    arguments = ", ".join(_pg_type(value) for value in params)
    signature_and_body = f"({arguments}) RETURNS {returns} {body}"
    digest = hashlib.sha256(signature_and_body.encode()).hexdigest()[:16]
    name = f"{prefix}_{digest}"
    definition = (
        f"CREATE OR REPLACE FUNCTION {name}({arguments}) RETURNS {returns}"
        f" LANGUAGE plpgsql VOLATILE AS {_QUOTE} BEGIN {body} END {_QUOTE}"
    )
    return Function(name, definition)


async def creating(
    client: BaseDBAsyncClient, function: Function, run: Callable[[], Awaitable[T]]
) -> T:
    """`run()`, which calls `function` in a statement of its own (not inside a
    transaction, which the failed call would abort); if the database does not have the
    function yet, creates it and runs again."""
    try:
        return await run()
    except Exception as exc:
        if not _undefined_function(exc):
            raise
    await create(client, function)
    return await run()


async def create(client: BaseDBAsyncClient, function: Function) -> None:
    """Creates `function` unless the database has it."""
    # Two processes creating the same function at once would fail one of them with
    # "tuple concurrently updated": the advisory lock lines them up.
    async with in_transaction(client.connection_name) as transaction:
        await transaction.execute_query(
            "SELECT pg_advisory_xact_lock(hashtext($1))", [function.name]
        )
        _, found = await transaction.execute_query(
            "SELECT to_regproc($1) IS NOT NULL AS found", [function.name]
        )
        if not found[0]["found"]:
            await transaction.execute_script(function.definition)


def _undefined_function(exc: BaseException) -> bool:
    # Tortoise raises its OperationalError from asyncpg's, which carries the SQLSTATE.
    return any(
        getattr(error, "sqlstate", None) == UNDEFINED_FUNCTION for error in (exc, exc.__cause__)
    )


def _pg_type(value: Any) -> str:
    # bool before int: a bool is an int to Python.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, datetime):
        return "timestamptz"
    if isinstance(value, str):
        return "text"
    raise TypeError(f"no PostgreSQL argument type for {type(value).__name__}")
