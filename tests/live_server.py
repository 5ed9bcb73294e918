"""A real `likegraph serve` in a subprocess, for the concurrency and crash tests.

The in-process ASGI client of conftest runs one request at a time on one connection;
these tests need what production has: several worker processes, each with its own
database connections, and a process that can be killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.ids import Kind, encode_id
from auth.sessions import start_session
from models import Account, Video
from tests.conftest import ENGINE, SECRET

# Several workers on PostgreSQL, as in production; SQLite has one writer at a time, but
# two workers still make two processes contend for its write lock.
WORKERS = 3 if ENGINE == "postgres" else 2
STARTUP_SECONDS = 60.0
REQUEST_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """`likegraph serve --workers N` on a free port of 127.0.0.1, in its own process group."""

    database_url: str
    directory: Path
    workers: int = WORKERS
    secret: str | None = SECRET
    port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)  # LIKEGRAPH_... variables
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / f"server-{self.port}-{self.starts}.log"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIKEGRAPH_")}
        env["DATABASE_URL"] = self.database_url
        if self.secret is not None:
            env["LIKEGRAPH_SECRET"] = self.secret
        env.update(self.settings)
        return env

    async def start(self) -> None:
        self.starts += 1
        command = [sys.executable, "-m", "api", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        with self.log_path.open("wb") as log:
            # A session of its own: SIGKILL reaches the parent and every worker at once.
            self.process = subprocess.Popen(
                command,
                cwd=self.directory,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=5.0) as http:
            while loop.time() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"likegraph serve exited:\n{self.log()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"likegraph serve did not answer in time:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown code runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None


@asynccontextmanager
async def live_server(
    database_url: str, directory: Path, **options: Any
) -> AsyncIterator[LiveServer]:
    server = LiveServer(database_url, directory, **options)
    await server.start()
    try:
        yield server
    finally:
        server.stop()


KEEPALIVE_SECONDS = 2.0


class Api:
    """GraphQL over real HTTP connections to a live server, as accounts named by token."""

    def __init__(self, server: LiveServer, connections: int = 32) -> None:
        # The client lets an idle connection go before the server's keep-alive timeout
        # (uvicorn's 5 s) would: reusing one the server is closing at that very moment
        # fails the request with a ReadError (seen once, on a machine at load 17).
        limits = httpx.Limits(
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=KEEPALIVE_SECONDS,
        )
        self.http = httpx.AsyncClient(base_url=server.url, timeout=REQUEST_SECONDS, limits=limits)

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()

    async def call(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        result: dict[str, Any] = response.json()
        return result

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a call that must succeed: any error (`database is locked` masked as
        INTERNAL included) fails the test."""
        result = await self.call(query, variables, token)
        assert "errors" not in result, result
        data: dict[str, Any] = result["data"]
        return data


LIKE = "mutation($v: ID!) { likeVideo(videoId: $v) { likeCount viewerHasLiked } }"
UNLIKE = "mutation($v: ID!) { unlikeVideo(videoId: $v) { likeCount viewerHasLiked } }"
SET_PRIVACY = "mutation($p: Boolean!) { setPrivacy(isPrivate: $p) { isPrivate } }"
FOLLOW = "mutation($h: String!) { follow(handle: $h) }"
UNFOLLOW = "mutation($h: String!) { unfollow(handle: $h) }"
APPROVE = "mutation($h: String!) { approveFollower(handle: $h) }"
BLOCK = "mutation($h: String!) { block(handle: $h) }"
UNBLOCK = "mutation($h: String!) { unblock(handle: $h) }"


@dataclass(frozen=True)
class Persona:
    id: int
    handle: str
    token: str


async def seed_accounts(prefix: str, count: int, *, private: bool = False) -> list[Persona]:
    """Accounts made directly in the database (argon2 for hundreds of sign-ups would only
    slow the test), with sessions and tokens signed by the secret the server is given."""
    await Account.bulk_create(
        [
            Account(
                handle=f"{prefix}{i}",
                display_name=f"{prefix} {i}",
                password_hash="not-a-login",
                is_private=private,
            )
            for i in range(count)
        ]
    )
    rows = await Account.filter(handle__startswith=prefix).order_by("id")
    return [Persona(a.id, a.handle, await start_session(a.id, SECRET, 3600)) for a in rows]


async def seed_video(author: Persona, caption: str = "a video") -> str:
    video = await Video.create(author_id=author.id, caption=caption, like_count=0)
    return encode_id(Kind.VIDEO, video.id)


def video_pk(global_id: str) -> int:
    from api.ids import decode_id

    return decode_id(global_id)[1]


async def gather_all(calls: Sequence[Any]) -> list[Any]:
    return list(await asyncio.gather(*calls))
