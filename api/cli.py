"""The `likegraph` command (also `python -m api`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from api import db
from api.settings import SettingsError, load_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()
    # Apply migrations once, before any worker starts, so workers never race on them.
    asyncio.run(_migrate_only(settings.database_url))
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
    )
    return 0


async def _migrate_only(database_url: str) -> None:
    try:
        await db.migrate(database_url)
    finally:
        await db.close()


def _migrate(_: argparse.Namespace) -> int:
    settings = load_settings()
    asyncio.run(_migrate_only(settings.database_url))
    print(f"Migrations applied to {settings.database_url}.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from api.demo import load_demo

    settings = load_settings()
    asyncio.run(load_demo(settings, only_if_empty=args.if_empty))
    return 0


def _export_schema(_: argparse.Namespace) -> int:
    from api.schema import sdl

    sys.stdout.write(sdl())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="likegraph", description="A privacy-aware GraphQL backend for video likes."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply pending migrations and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser("demo", help="load the demo world (idempotent)")
    demo.add_argument(
        "--if-empty", action="store_true", help="only load it into a database with no accounts"
    )
    demo.set_defaults(run=_demo)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.set_defaults(run=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except SettingsError as exc:
        print(f"likegraph: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
