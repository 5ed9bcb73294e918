"""`likegraph serve`: uvicorn workers, each on a listening socket of its own.

With one listening socket shared by every worker, whichever worker wakes first accepts
the next connection, and a client's keep-alive connections could all land on one worker
(issue 12: in 8 runs of 16 one worker took all 16). Here the parent binds one socket
per worker on the same port with `SO_REUSEPORT`, and the kernel spreads new connections
over them by a hash of their addresses. The parent keeps every socket open, so when a
worker dies its socket stays in the group and the connections sent to it wait in its
backlog for the replacement instead of being refused.

Every socket is created as `IPPROTO_TCP`: asyncio sets `TCP_NODELAY` on accepted
connections only when the listener's protocol says TCP, and without it each keep-alive
response waits for a delayed ACK (about 40 ms; uvicorn issue #3149, bench/README.md).
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import cast

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from auth import sessions
from auth.endings import Board

APP = "api.app:create_app"
log = logging.getLogger("uvicorn.error")
_spawn = multiprocessing.get_context("spawn")

# A worker slot that dies this many times within the window stops the server: something
# (the database, the code) fails on every start, and restarting cannot fix it.
RESTARTS_ALLOWED = 5
RESTART_WINDOW_SECONDS = 60.0


class ServeError(Exception):
    """The server cannot start: the message is one line that says what to do."""


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    access_log: bool = False


def _tcp_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # A restart may bind while the previous run's connections sit in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _bind(sock: socket.socket, host: str, port: int) -> None:
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            other = port + 1 if port < 65535 else port - 1
            raise ServeError(
                f"Port {port} is already in use: run `make run PORT={other}`"
                f" or `likegraph serve --port {other}`."
            ) from exc
        raise ServeError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc


def listen(options: Options) -> list[socket.socket]:
    """One listening socket per worker, all on `options.port`.

    The first is bound without `SO_REUSEPORT`, so the bind fails if anything at all
    listens on the port, another likegraph with its own `SO_REUSEPORT` sockets included
    (the kernel would otherwise let a second server of the same user join the group and
    share its connections). Only then does it join a group with the others.
    """
    first = _tcp_socket(options.host)
    _bind(first, options.host, options.port)
    sockets = [first]
    try:
        if options.workers > 1:
            first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            port = first.getsockname()[1]  # the port the kernel chose, for --port 0
            for _ in range(options.workers - 1):
                sock = _tcp_socket(options.host)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                _bind(sock, options.host, port)
                sockets.append(sock)
        # Listening now, before migrations and worker start-up, holds the port: a second
        # server started meanwhile gets the message above, and early clients wait.
        for sock in sockets:
            sock.listen(2048)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def config(options: Options) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        # Pinned in pyproject.toml; named here so that a missing one fails at start-up
        # rather than falling back to the slower h11 and asyncio loop.
        http="httptools",
        loop="uvloop",
        ws="none",
        lifespan="on",
        access_log=options.access_log,
        log_level="info",
        workers=options.workers,
    )


def serve(options: Options, sockets: list[socket.socket]) -> int:
    """Serve on `sockets` (from `listen`) until interrupted; the exit status."""
    cfg = config(options)
    host, port = sockets[0].getsockname()[:2]
    log.info(
        "likegraph serving on http://%s:%d with %d worker%s (Press CTRL+C to quit)",
        f"[{host}]" if ":" in host else host,
        port,
        options.workers,
        "" if options.workers == 1 else "s",
    )
    if options.workers == 1:
        uvicorn.Server(cfg).run(sockets=sockets)
        return 0
    return Supervisor(cfg, sockets).run()


def _worker(cfg: uvicorn.Config, sock: socket.socket, board: Board) -> None:
    cfg.configure_logging()  # a spawned process starts with no logging set up
    sessions.share_endings(board)
    threading.Thread(target=_stop_when_orphaned, daemon=True).start()
    uvicorn.Server(cfg).run(sockets=[sock])


def _stop_when_orphaned() -> None:
    # A supervisor killed outright (SIGKILL, the OOM killer) runs no clean-up: without
    # this its workers would go on serving the port with no one to replace them, and a
    # new `serve` would find the port taken. SIGTERM is uvicorn's graceful stop.
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    """Starts one worker per socket, replaces a worker that dies, stops them all on
    SIGINT, SIGTERM or SIGHUP (and they stop by themselves if it is killed).

    A worker that fails its start-up (uvicorn's exit status 3: the app or its lifespan
    failed, e.g. an unreachable database) would fail the same way again: the server
    stops with status 1, as uvicorn's own supervisor does; so it does when one worker
    keeps dying (RESTARTS_ALLOWED within RESTART_WINDOW_SECONDS).
    """

    def __init__(self, cfg: uvicorn.Config, sockets: list[socket.socket]) -> None:
        self.cfg = cfg
        self.sockets = sockets
        self.workers: list[SpawnProcess | None] = [None] * len(sockets)
        # Where each worker posts the sessions it ends, for the others: auth/endings.py.
        self.board = Board(_spawn, len(sockets))
        self.deaths: list[deque[float]] = [deque() for _ in sockets]
        self.stopping = False

    def _start(self, slot: int) -> None:
        process = _spawn.Process(
            target=_worker,
            args=(self.cfg, self.sockets[slot], self.board.writing_to(slot)),
            name=f"likegraph-worker-{slot}",
        )
        process.start()
        self.workers[slot] = process

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._stop)
        for slot in range(len(self.sockets)):
            self._start(slot)
        status = 0
        while not self.stopping:
            live = {p.sentinel: slot for slot, p in enumerate(self.workers) if p is not None}
            for sentinel in multiprocessing.connection.wait(list(live), timeout=0.5):
                if self.stopping:
                    break
                status = self._replace(live[cast(int, sentinel)])
                if status:
                    self.stopping = True
                    break
        self._stop_all()
        return status

    def _replace(self, slot: int) -> int:
        dead = self.workers[slot]
        assert dead is not None
        dead.join()
        if dead.exitcode == STARTUP_FAILURE:
            log.error("Worker [%s] failed to start: stopping the server.", dead.pid)
            return 1
        now = time.monotonic()
        deaths = self.deaths[slot]
        deaths.append(now)
        while deaths and now - deaths[0] > RESTART_WINDOW_SECONDS:
            deaths.popleft()
        if len(deaths) > RESTARTS_ALLOWED:
            log.error(
                "Worker [%s] died %d times in %.0f s: stopping the server.",
                dead.pid,
                len(deaths),
                RESTART_WINDOW_SECONDS,
            )
            return 1
        log.warning("Worker [%s] died (exit status %s): starting another.", dead.pid, dead.exitcode)
        self._start(slot)
        return 0

    def _stop_all(self) -> None:
        running = [p for p in self.workers if p is not None and p.exitcode is None]
        for process in running:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + 30
        for process in running:
            process.join(max(deadline - time.monotonic(), 0))
            if process.exitcode is None:
                log.warning("Worker [%s] did not stop in time: killing it.", process.pid)
                process.kill()
                process.join()
