"""The `likegraph` command (also `python -m api`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from api import db, ids, likes
from api.settings import SettingsError, load_database_url, load_settings


def _serve(args: argparse.Namespace) -> int:
    from api.serve import Options, ServeError, listen, serve

    settings = load_settings()
    options = Options(
        host=args.host, port=args.port, workers=args.workers, access_log=args.access_log
    )
    try:
        # The port first: a second server fails at once, before it touches the database.
        sockets = listen(options)
    except ServeError as exc:
        print(exc, file=sys.stderr)
        return 1
    # Apply migrations once, before any worker starts, so workers never race on them.
    asyncio.run(_migrate_only(settings.database_url))
    return serve(options, sockets)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


async def _migrate_only(database_url: str) -> None:
    try:
        await db.migrate(database_url)
        await likes.create_functions()
    finally:
        await db.close()


def _migrate(_: argparse.Namespace) -> int:
    settings = load_settings()
    asyncio.run(_migrate_only(settings.database_url))
    print(f"Migrations applied to {settings.database_url}.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from api.demo import DemoError, load_demo

    settings = load_settings()
    try:
        asyncio.run(load_demo(settings, only_if_empty=args.if_empty))
    except DemoError as exc:
        print(f"likegraph demo: {exc}", file=sys.stderr)
        return 1
    return 0


def _generate(args: argparse.Namespace) -> int:
    from api.generate import Options, main

    settings = load_settings()
    ids.configure(settings.secret)  # the summary prints hottestVideoId
    options = Options(
        accounts=args.accounts,
        videos=args.videos,
        likes=args.likes,
        private_ratio=args.private_ratio,
        follows_per_account=args.follows_per_account,
        seed=args.seed,
    )
    return main(settings.database_url, options)


def _check(args: argparse.Namespace) -> int:
    from api.check import main

    # Only the database: a check must leave no secret file behind (load_settings makes one).
    return main(load_database_url(), repair=args.repair)


def _insights_release(args: argparse.Namespace) -> int:
    from api.insights_cli import release

    return release(load_settings(), args.days)


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
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes, each on its own SO_REUSEPORT socket (default 1)",
    )
    serve.add_argument(
        "--access-log", action="store_true", help="log every request (off by default: it is slow)"
    )
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser("demo", help="load the demo world (idempotent)")
    demo.add_argument(
        "--if-empty", action="store_true", help="only load it into a database with no accounts"
    )
    demo.set_defaults(run=_demo)

    generate = commands.add_parser(
        "generate",
        help="bulk-fill an empty database with a synthetic social graph for load tests",
        description="Bulk-fills an EMPTY database (migrations applied first) with accounts"
        " user1..userN, videos, follows and likes. Every password is password123: it is"
        " hashed once with argon2 and that one hash is stored for every account. The last"
        " line of output is a JSON summary with hottestVideoId and hottestVideoAuthor.",
    )
    generate.add_argument("--accounts", type=int, required=True, metavar="N")
    generate.add_argument("--videos", type=int, required=True, metavar="N")
    generate.add_argument("--likes", type=int, required=True, metavar="N")
    generate.add_argument(
        "--private-ratio", type=float, default=0.3, metavar="R", help="share of private accounts"
    )
    generate.add_argument(
        "--follows-per-account", type=float, default=10.0, metavar="F", help="average out-degree"
    )
    generate.add_argument(
        "--seed", type=int, default=None, metavar="S", help="makes the run repeatable"
    )
    generate.set_defaults(run=_generate)

    check = commands.add_parser(
        "check",
        help="verify stored counters and copies against their rows; exit 1 on drift",
        description="Checks video.like_count against the likes, video_like.liker_public"
        " against the liker's is_private, and rule 7 (no follow edge across a block, no"
        " PENDING request to a public account). Exits 1 when anything drifted, 2 when"
        " the database has no likegraph tables.",
    )
    check.add_argument(
        "--repair",
        action="store_true",
        help="fix every drift in one transaction, report what was fixed, and exit 0",
    )
    check.set_defaults(run=_check)

    insights = commands.add_parser("insights", help="creator insights (docs/insights.md)")
    insights_commands = insights.add_subparsers(dest="insights_command", required=True)
    release = insights_commands.add_parser(
        "release",
        help="release every closed day not yet released (reads release the rest lazily)",
        description="Computes, noises and stores once the daily figures of every video for"
        " each closed UTC day of the last DAYS days that no read or earlier run released."
        " Safe to run beside a serving process: a day is released once whoever wins.",
    )
    release.add_argument("--days", type=int, default=365, metavar="DAYS", help="(default 365)")
    release.set_defaults(run=_insights_release)

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
