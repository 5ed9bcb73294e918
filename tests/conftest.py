"""Fixtures: a fresh real database per test, the real ASGI app, and named personas."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise import Tortoise

from api import db
from api.app import create_app
from api.settings import Settings

SECRET = "test-secret-not-for-production-0123456789"
_TEMPLATE: dict[str, Path] = {}

# `LIKEGRAPH_TEST_ENGINE=postgres` runs the suite on PostgreSQL (make test-postgres):
# each test gets a database of its own, copied from a migrated template.
ENGINE = os.environ.get("LIKEGRAPH_TEST_ENGINE", "sqlite")
PG_SERVER = os.environ.get("LIKEGRAPH_TEST_PG", "postgres://postgres@127.0.0.1:5432")
PG_TEMPLATE = "likegraph_test_template"

_COUNTER = itertools.count()

GqlResult = dict[str, Any]


async def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty database, made once per session and copied for each test."""
    if "path" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        await db.migrate(f"sqlite://{path}")
        await db.close()
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


async def _pg_admin(statement: str) -> None:
    conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_template() -> None:
    if "pg" not in _TEMPLATE:
        await _pg_admin(f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)")
        await _pg_admin(f"CREATE DATABASE {PG_TEMPLATE}")
        await db.migrate(f"{PG_SERVER}/{PG_TEMPLATE}")
        await db.close()
        _TEMPLATE["pg"] = Path(PG_TEMPLATE)


@pytest.fixture
async def database_url(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if ENGINE == "postgres":
        await _pg_template()
        name = f"likegraph_test_{os.getpid()}_{next(_COUNTER)}"
        await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}")
        url = f"{PG_SERVER}/{name}"
    else:
        path = tmp_path / "likegraph.sqlite3"
        shutil.copy(await _template_db(tmp_path_factory), path)
        url = f"sqlite://{path}"
    await db.connect(url)
    yield url
    await Tortoise.close_connections()
    if ENGINE == "postgres":
        await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret=SECRET, token_ttl=3600)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


class Gql:
    """Posts GraphQL documents as a named persona: `await gql(query, as_="bob")`."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Accept": "application/graphql-response+json"}
        if as_ is not None:
            sent["Authorization"] = f"Bearer {self.tokens[as_]}"
        sent.update(headers or {})
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None
    ) -> GqlResult:
        response = await self.raw(query, variables, as_=as_)
        result: GqlResult = response.json()
        return result

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None
    ) -> dict[str, Any]:
        """The `data` of a request that must succeed with no errors."""
        result = await self(query, variables, as_=as_)
        assert "errors" not in result, result
        data: dict[str, Any] = result["data"]
        return data

    async def sign_up(self, handle: str, *, private: bool = False) -> str:
        data = await self.ok(
            "mutation($h: String!, $p: Boolean) {"
            ' signUp(handle: $h, password: "password123", isPrivate: $p)'
            " { token account { id } } }",
            {"h": handle, "p": private},
        )
        self.tokens[handle] = data["signUp"]["token"]
        account_id: str = data["signUp"]["account"]["id"]
        return account_id


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Gql:
    return Gql(client)


def error_codes(result: GqlResult) -> list[str]:
    return [e["extensions"]["code"] for e in result.get("errors", [])]
