"""Running uvicorn, with one fix for several workers.

uvicorn's multi-worker mode binds its listening socket with protocol 0, so asyncio
never sets TCP_NODELAY on the connections it accepts, and each keep-alive response waits
for a delayed ACK (about 40 ms; uvicorn issue #3149). `TcpConfig` binds an explicit TCP
socket instead; bench/README.md has the before and after.
"""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "api.app:create_app"
log = logging.getLogger("uvicorn.error")


class TcpConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        if self.uds is not None or self.fd is not None:
            return super().bind_socket()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            log.error(exc)
            sys.exit(3)  # uvicorn's STARTUP_FAILURE
        log.info(
            "likegraph serving on http://%s:%d with %d workers", self.host, self.port, self.workers
        )
        sock.set_inheritable(True)
        return sock


def serve(host: str, port: int, workers: int) -> None:
    if workers <= 1:
        uvicorn.run(APP, factory=True, host=host, port=port, log_level="info")
        return
    config = TcpConfig(APP, factory=True, host=host, port=port, workers=workers, log_level="info")
    Multiprocess(config, sockets=[config.bind_socket()]).run()
