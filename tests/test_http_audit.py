"""graphql-http's GraphQL-over-HTTP audit, run against the real `likegraph serve`.

The audit (npm `graphql-http`, pinned in tests/audit/package-lock.json, installed by
`make node-deps`) sends its requests over a real socket; every MUST and every SHOULD
has to pass. Node and npm are required: their absence fails the test, it never skips.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

AUDIT_DIR = Path(__file__).parent / "audit"
SECRET = "audit-secret-not-for-production-0123456789"
START_TIMEOUT_S = 30.0
AUDIT_TIMEOUT_S = 60.0
# graphql-http 1.23.1 holds 13 MUST and 23 SHOULD audits: fewer means some did not run.
MUST_COUNT, SHOULD_COUNT = 13, 23


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _likegraph() -> list[str]:
    script = Path(sys.executable).with_name("likegraph")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api"]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`likegraph serve` on a free port over the test's database; yields (base URL, log)."""
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "DATABASE_URL": database_url, "LIKEGRAPH_SECRET": SECRET}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*_likegraph(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,  # no .env of the working tree leaks into the server's settings
        )
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_healthy(base_url: str, log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(f"{base_url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"likegraph serve did not become healthy:\n{log.read_text()}")
            await asyncio.sleep(0.1)


async def _run_audit(url: str) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the GraphQL-over-HTTP audit needs Node.js and npm")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        pytest.fail("tests/audit/node_modules is missing: run `make node-deps`")
    process = await asyncio.create_subprocess_exec(
        node,
        str(AUDIT_DIR / "audit.mjs"),
        url,
        cwd=AUDIT_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), AUDIT_TIMEOUT_S)
    assert process.returncode == 0, stderr.decode()
    results: list[dict[str, Any]] = json.loads(stdout)
    return results


async def test_every_must_and_should_of_the_graphql_over_http_audit_passes(
    server: tuple[str, Path],
) -> None:
    base_url, log = server
    await _wait_healthy(base_url, log)
    results = await _run_audit(f"{base_url}/graphql")

    musts = [r for r in results if r["name"].startswith("MUST ")]
    shoulds = [r for r in results if r["name"].startswith("SHOULD ")]
    assert len(musts) >= MUST_COUNT and len(shoulds) >= SHOULD_COUNT, results
    failures = [
        f"{r['id']} {r['name']}: {r.get('reason')} {r.get('response', '')}"
        for r in musts + shoulds
        if r["status"] != "ok"
    ]
    assert not failures, "audit failures:\n" + "\n".join(failures)
