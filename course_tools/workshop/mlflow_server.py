"""Starting and stopping an `mlflow server` process: the workshop server, the tests' and the benchmarks' servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course_tools.workshop.network import LOOPBACK, free_port

#: Leads the server's PYTHONPATH: its `sitecustomize` turns Nagle's algorithm off in uvicorn's workers (see there).
SERVER_SITE = Path(__file__).resolve().parent / "server_site"
READY_TIMEOUT = 240.0  # about 10 s on an idle 2-core machine; 4 workers took 50-91 s at a load average of 12-50


class ServerStartError(RuntimeError):
    """The mlflow server exited, or did not answer in time."""


def server_command(
    backend_uri: str, artifacts_dir: Path, host: str, port: int, workers: int = 1, app_name: str | None = None
) -> list[str]:
    """The `mlflow server` command line: served artifacts, one interface, optionally an app such as basic-auth."""
    app = ["--app-name", app_name] if app_name else []
    return [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        *app,
        "--backend-store-uri",
        backend_uri,
        "--serve-artifacts",
        "--artifacts-destination",
        str(artifacts_dir),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def local_uri(host: str, port: int) -> str:
    """Where this machine reaches the server (loopback when it listens on every interface)."""
    return f"http://{LOOPBACK if host in ('0.0.0.0', '::') else host}:{port}"


@dataclass
class RunningServer:
    """A running `mlflow server`; `uri` is its address from this machine."""

    uri: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        """Stop the server and its workers (its own process group)."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def wait_until_up(server: RunningServer, timeout: float = READY_TIMEOUT) -> None:
    """Poll `/health` until the server answers; stop it and raise with the end of its log if it exits or is late."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{server.uri}/health", timeout=2).close()
            return
        except (urllib.error.URLError, OSError):
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                log = server.log_path.read_text(errors="replace")[-2000:]
                raise ServerStartError(f"mlflow server did not start (log {server.log_path}):\n{log}") from None
            time.sleep(0.5)


def server_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env`, with `SERVER_SITE` first on its PYTHONPATH."""
    path = [str(SERVER_SITE), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(path)}


def launch(
    backend_uri: str,
    data_dir: Path,
    *,
    host: str = LOOPBACK,
    port: int | None = None,
    workers: int = 1,
    app_name: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = READY_TIMEOUT,
) -> RunningServer:
    """Start `mlflow server` on `backend_uri` (artifacts and log in `data_dir`) and wait until it answers.

    `port` None picks a free one. The server gets its own process group, so `stop()` ends all its workers.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = data_dir / "server.log"
    with log_path.open("a") as log:
        process = subprocess.Popen(
            server_command(backend_uri, data_dir / "artifacts", host, port, workers, app_name),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            env=server_environment(os.environ if env is None else env),
            start_new_session=True,
        )
    server = RunningServer(local_uri(host, port), process, log_path)
    wait_until_up(server, timeout)
    return server


@contextmanager
def local_server(backend_uri: str, data_dir: Path, timeout: float = READY_TIMEOUT) -> Iterator[str]:
    """A plain server (no auth, one worker, loopback, a free port) inside the block; yields its URI."""
    server = launch(backend_uri, data_dir, timeout=timeout)
    try:
        yield server.uri
    finally:
        server.stop()
