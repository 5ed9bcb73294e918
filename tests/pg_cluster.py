"""A PostgreSQL primary and a streaming replica of its own, in a temporary directory, for
tests/test_replicas.py and bench/replicas.py (PostgreSQL 15 server binaries needed)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("LIKEGRAPH_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A primary and a streaming replica, run by the `postgres` OS user when we are root
    (initdb refuses root), in directories that user owns."""

    root: Path
    apply_delay: str = "0"  # recovery_min_apply_delay: how late the replica applies commits
    primary_port: int = field(default_factory=_free_port)
    replica_port: int = field(default_factory=_free_port)

    @classmethod
    def in_new_directory(cls, apply_delay: str = "0") -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="likegraph-replicas-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(root, owner.pw_uid, owner.pw_gid)
        return cls(root, apply_delay)

    def destroy(self) -> None:
        """Stops both servers, whatever state they are in, and removes the directory."""
        for name in ("replica", "primary"):
            # Either may never have started, or have been stopped already.
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop(name)
        shutil.rmtree(self.root, ignore_errors=True)

    def run(self, program: str, *args: str) -> None:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> None:
        primary, replica = self.root / "primary", self.root / "replica"
        self.run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-N")
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nwal_level = replica\n"
                "max_wal_senders = 4\nfsync = off\nmax_connections = 40\n"
            )
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self.run("pg_ctl", "-D", str(primary), "-l", str(self.root / "primary.log"), "-w", "start")
        self.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        with (replica / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.replica_port}\nrecovery_min_apply_delay = '{self.apply_delay}'\n"
            )
        self.start_replica()

    def start_replica(self) -> None:
        replica = str(self.root / "replica")
        self.run("pg_ctl", "-D", replica, "-l", str(self.root / "replica.log"), "-w", "start")

    def stop(self, name: str) -> None:
        self.run("pg_ctl", "-D", str(self.root / name), "-m", "immediate", "-w", "stop")

    def url(self, port: int, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database}"
