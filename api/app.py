"""The ASGI app: `api.app:app`, or `api.app:create_app()` for other settings."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api import db, ids, likes
from api.export import ExportEndpoint
from api.graphiql import graphiql_routes
from api.http import GraphQLEndpoint
from api.settings import Settings, load_settings


def create_app(settings: Settings | None = None, *, apply_migrations: bool = True) -> Starlette:
    settings = settings or load_settings()
    ids.configure(settings.secret)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # uvicorn runs the lifespan in a task of its own: requests reach the database
        # through the process-wide fallback (tests/test_demo.py checks it).
        if apply_migrations:
            await db.migrate(
                settings.database_url, for_all_tasks=True, replica_urls=settings.replica_urls
            )
        else:
            await db.connect(
                settings.database_url, for_all_tasks=True, replica_urls=settings.replica_urls
            )
        await likes.create_functions()
        # What starting made (modules, the schema, the ORM: ~56,000 objects) lives as
        # long as the process. Frozen, a full collection no longer walks it: 0.5 ms
        # instead of 10-15 ms, a pause that every request in flight used to wait out.
        gc.freeze()
        try:
            yield
        finally:
            await db.close()

    async def healthz(_: Request) -> Response:
        try:
            await db.conn().execute_query("SELECT 1")
        except Exception:  # any failure to answer is "unhealthy", never a crash
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    graphql = GraphQLEndpoint(settings)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/export", ExportEndpoint(settings).handle, methods=["GET"]),
        *graphiql_routes(),
    ]
    return Starlette(routes=routes, middleware=_cors(settings), lifespan=lifespan)


def _cors(settings: Settings) -> list[Middleware]:
    """Browser apps on the listed origins may call the API (LIKEGRAPH_CORS_ORIGINS).

    The token travels in the Authorization header, never in a cookie: no credentials
    mode, which also lets `*` mean any origin.
    """
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Content-Disposition"],
            max_age=600,
        )
    ]


_app: Starlette | None = None


def __getattr__(name: str) -> Starlette:
    # `api.app:app` is built on first access, so importing this module reads no settings.
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        _app = create_app()
    return _app
