"""A throwaway local `mlflow server` on a free loopback port, for any backend store URI (SQLite, PostgreSQL)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 90.0


class ServerStartError(RuntimeError):
    """The mlflow server exited or did not answer in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_command(backend_store_uri: str, artifacts: Path, port: int) -> list[str]:
    """The `mlflow server` command line: one worker, served artifacts, loopback only."""
    return [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        backend_store_uri,
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]


@contextmanager
def mlflow_server(backend_store_uri: str, workdir: Path, timeout: float = START_TIMEOUT_S) -> Iterator[str]:
    """Start `mlflow server` on `backend_store_uri` (artifacts and log in `workdir`), yield its URI, stop it.

    Raises ServerStartError, with the end of the server's log, if it exits or does not answer within `timeout`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            server_command(backend_store_uri, workdir / "artifacts", port),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        try:
            _wait_until_healthy(uri, server, time.monotonic() + timeout, log_path)
            yield uri
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_healthy(uri: str, server: subprocess.Popen, deadline: float, log_path: Path) -> None:
    while True:
        try:
            urllib.request.urlopen(f"{uri}/health", timeout=2).close()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise ServerStartError(f"mlflow server did not start: {log_path.read_text()[-2000:]}") from None
            time.sleep(0.5)
