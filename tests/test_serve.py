"""`likegraph serve` (api/serve.py): a listening socket per worker, a taken port named."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from api.serve import Options, ServeError, listen
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parent.parent
LISTEN, ESTABLISHED = "0A", "01"  # TCP states as /proc/net/tcp writes them


def taken_message(port: int) -> str:
    return (
        f"Port {port} is already in use: run `make run PORT={port + 1}`"
        f" or `likegraph serve --port {port + 1}`."
    )


def test_each_worker_gets_its_own_tcp_socket_on_the_one_port() -> None:
    sockets = listen(Options(port=0, workers=3))
    try:
        assert len({s.fileno() for s in sockets}) == 3
        assert len({s.getsockname() for s in sockets}) == 1
        for sock in sockets:
            # asyncio sets TCP_NODELAY on accepted connections only when the listener's
            # protocol is IPPROTO_TCP; without it each keep-alive response waits ~40 ms
            # for a delayed ACK (45.6 ms per request measured with `uvicorn --workers 2`).
            assert sock.proto == socket.IPPROTO_TCP
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_second_server_on_a_port_in_use_is_refused_even_with_reuseport(workers: int) -> None:
    # The first server's sockets share the port by SO_REUSEPORT; a second server of the
    # same user must not silently join them and take half of their connections.
    first = listen(Options(port=0, workers=2))
    port = first[0].getsockname()[1]
    try:
        with pytest.raises(ServeError) as refused:
            listen(Options(port=port, workers=workers))
        assert str(refused.value) == taken_message(port)
    finally:
        for sock in first:
            sock.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_on_a_taken_port_exits_with_one_line_that_names_another_port(
    workers: int, tmp_path: Path
) -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIKEGRAPH_")}
        env["DATABASE_URL"] = f"sqlite://{tmp_path / 'untouched.sqlite3'}"
        done = subprocess.run(
            [sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.decode() == taken_message(port) + "\n"
    # It stopped before touching the database: nothing was migrated.
    assert not (tmp_path / "untouched.sqlite3").exists()


SUPERVISE = """
import sys, uvicorn
from api.serve import Options, Supervisor, listen
options = Options(port=0, workers=2)
config = uvicorn.Config("tests.serve_apps:cannot_start", lifespan="on", workers=2)
sys.exit(Supervisor(config, listen(options)).run())
"""


def test_a_worker_that_cannot_start_stops_the_server_instead_of_restarting() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SUPERVISE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert "failed to start: stopping the server." in done.stderr
    assert "starting another" not in done.stderr


def test_make_run_passes_the_port_and_workers_to_serve() -> None:
    done = subprocess.run(
        ["make", "-n", "run", "PORT=8123", "WORKERS=3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "likegraph serve --port 8123 --workers 3" in done.stdout


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _tcp_inodes(port: int, state: str, remote_port: int | None = None) -> set[str]:
    """Inodes of the sockets whose local port is `port`, in `state` (and connected from
    `remote_port`, when given)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
            if local == port and fields[3] == state and remote_port in (None, remote):
                found.add(fields[9])
    return found


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def workers_of(server_pid: int, port: int) -> dict[int, str]:
    """The worker processes of a server: {pid: inode of the listening socket it serves}.
    The supervisor holds every listening socket; a worker, one. A child caught between
    fork and exec still holds all of the supervisor's descriptors (they close at exec):
    it is not a worker yet, and is left out until it is."""
    listening = _tcp_inodes(port, LISTEN)
    found = {}
    for child in _children(server_pid):
        mine = _socket_inodes(child) & listening
        if len(mine) == 1:
            (found[child],) = mine
    return found


async def served_by(port: int, workers: dict[int, str], connections: int) -> Counter[int]:
    """Opens fresh connections, answers one request on each, and counts, per worker, the
    connections it holds: the process that accepted a connection owns its socket."""
    streams = []
    try:
        for _ in range(connections):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            streams.append((reader, writer))
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: likegraph\r\n\r\n")
        for reader, _ in streams:
            # A connection sent to a worker still starting waits in its socket's backlog.
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
            assert head.startswith(b"HTTP/1.1 200 ")
        established = _tcp_inodes(port, ESTABLISHED)
        return Counter({pid: len(_socket_inodes(pid) & established) for pid in workers})
    finally:
        for _, writer in streams:
            writer.close()


async def test_two_workers_both_take_connections_and_a_dead_one_is_replaced(
    database_url: str, tmp_path: Path
) -> None:
    async with live_server(database_url, tmp_path, workers=2) as server:
        assert server.process is not None
        workers = workers_of(server.process.pid, server.port)
        assert len(workers) == 2
        assert len(set(workers.values())) == 2, "the workers share one listening socket"

        # 32 connections hashed over two sockets: all on one has odds of 2 in 2**32.
        seen = await served_by(server.port, workers, connections=32)
        assert sum(seen.values()) == 32
        assert all(seen[pid] > 0 for pid in workers), seen

        victim, its_socket = next(iter(workers.items()))
        os.kill(victim, signal.SIGKILL)
        for _ in range(300):
            now = workers_of(server.process.pid, server.port)
            if len(now) == 2 and victim not in now:
                break
            await asyncio.sleep(0.1)
        assert len(now) == 2 and victim not in now, now
        # The replacement serves the dead worker's socket, which the supervisor kept.
        assert its_socket in now.values()

        seen = await served_by(server.port, now, connections=32)
        assert all(seen[pid] > 0 for pid in now), seen
        assert server.process.poll() is None


def running(pid: int) -> bool:
    """Not exited: a worker whose parent died is reaped by whoever adopts it, or not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_workers_stop_when_their_supervisor_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    async with live_server(database_url, tmp_path, workers=2) as server:
        assert server.process is not None
        workers = workers_of(server.process.pid, server.port)
        assert len(workers) == 2
        os.kill(server.process.pid, signal.SIGKILL)  # the supervisor alone, no clean-up
        server.process.wait(timeout=30)
        try:
            for _ in range(300):
                if not any(running(pid) for pid in workers):
                    break
                await asyncio.sleep(0.1)
            assert not any(running(pid) for pid in workers)
        finally:
            for pid in filter(running, workers):  # leave no orphan behind a failure
                os.kill(pid, signal.SIGKILL)
        # Nothing serves the port any more: a new server could take it.
        listen(Options(port=server.port))[0].close()


async def _post(
    stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], query: str, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    """One GraphQL request on a kept-alive connection: (status, body)."""
    reader, writer = stream
    body = json.dumps({"query": query}).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write(
        f"POST /graphql HTTP/1.1\r\nHost: likegraph\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)).decode()
    status = int(head.split(" ", 2)[1])
    length = next(
        int(line.split(":", 1)[1])
        for line in head.split("\r\n")
        if line.lower().startswith("content-length:")
    )
    answer: dict[str, Any] = json.loads(await reader.readexactly(length))
    return status, answer


def _owner(port: int, client_port: int, workers: dict[int, str]) -> int:
    """The worker that accepted the connection from `client_port` to `port`."""
    (inode,) = _tcp_inodes(port, ESTABLISHED, client_port)
    (pid,) = [pid for pid in workers if inode in _socket_inodes(pid)]
    return pid


VIEWER = "{ viewer { handle } }"


async def test_a_session_ended_in_one_worker_is_refused_by_the_other_at_once(
    database_url: str, tmp_path: Path
) -> None:
    """A token stops working on the next request after logOut, logOutEverywhere or a
    revocation, whichever worker takes that request. Each worker remembers the sessions
    it found alive for an hour here, so only the board the workers share can tell the
    other one."""
    hour = {"LIKEGRAPH_SESSION_RECHECK": "3600"}
    async with live_server(database_url, tmp_path, workers=2, settings=hour) as server:
        assert server.process is not None
        workers = workers_of(server.process.pid, server.port)
        streams = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(16)]
        try:
            for stream in streams:  # accepted, each by one worker
                assert (await _post(stream, "{ __typename }"))[0] == 200
            by_worker = {}
            for stream in streams:
                client_port = stream[1].get_extra_info("sockname")[1]
                by_worker.setdefault(_owner(server.port, client_port, workers), stream)
            assert len(by_worker) == 2, "16 connections, all on one worker: odds 2 in 2**16"
            here, there = by_worker.values()

            async def token(query: str, field: str, as_: str | None = None) -> str:
                status, answer = await _post(here, query, as_)
                assert status == 200 and "errors" not in answer, answer
                value: str = answer["data"][field]["token"]
                return value

            login = '(handle: "walt", password: "password123")'
            first = await token(f"mutation {{ signUp{login} {{ token }} }}", "signUp")
            second = await token(f"mutation {{ logIn{login} {{ token }} }}", "logIn")
            app = await token(
                'mutation { createAppToken(name: "stats", scopes: [INSIGHTS_READ])'
                " { token appToken { id } } }",
                "createAppToken",
                first,
            )
            _, answer = await _post(here, "{ viewer { appTokens { id } } }", first)
            app_id = answer["data"]["viewer"]["appTokens"][0]["id"]
            for each in (first, second, app):  # the other worker now remembers all three
                assert await _post(there, VIEWER, each) == (
                    200,
                    {"data": {"viewer": {"handle": "walt"}}},
                )

            assert (await _post(here, f'mutation {{ revokeAppToken(id: "{app_id}") }}', first))[
                0
            ] == 200
            assert (await _post(there, VIEWER, app))[0] == 401
            assert (await _post(there, VIEWER, first))[0] == 200

            assert await _post(here, "mutation { logOut }", first) == (
                200,
                {"data": {"logOut": True}},
            )
            assert (await _post(there, VIEWER, first))[0] == 401
            assert (await _post(there, VIEWER, second))[0] == 200  # its other session lives on

            assert (await _post(here, "mutation { logOutEverywhere }", second))[0] == 200
            assert (await _post(there, VIEWER, second))[0] == 401
        finally:
            for _, writer in streams:
                writer.close()
