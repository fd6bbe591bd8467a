"""Plumbing for notebook 07: a registered model's name on a shared server, and a scoring server that always stops.

The notebook builds the `mlflow models serve` command and makes the REST calls itself; this module finds a free
port, starts the command in a process group of its own, waits until the server answers, and stops the whole group
(the `mlflow` CLI and the `uvicorn` it starts) when the block ends, whether it ends normally, by an error or by an
interrupt.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tutorial_utils.tracking import USERNAME_ENV

LOOPBACK = "127.0.0.1"
#: What MLflow 3.17 refuses in a registered model's name (`mlflow.utils.validation._validate_model_name`).
FORBIDDEN_IN_MODEL_NAMES = ("/", ":")
STDERR_TAIL_CHARS = 2000


class ScoringServerError(RuntimeError):
    """The scoring server exited, or did not answer in time; the message ends with the tail of its stderr."""


@dataclass
class ScoringServer:
    """A running scoring server: its base URL and its process (the `mlflow` CLI, leader of its process group)."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def stopped(self) -> bool:
        """Whether the server's process has ended."""
        return self.process.poll() is not None


def registered_model_name(name: str, username: str | None = None) -> str:
    """`name`, or "<username>.<name>" on a shared server (`username`, default `MLFLOW_TRACKING_USERNAME`).

    Experiments are namespaced "<username>/<name>" (`tracking.setup_tracking`), but a registered model's name may
    not contain '/' or ':', so a dot separates the two. Raises ValueError for a name or username MLflow refuses.
    """
    username = (os.environ.get(USERNAME_ENV, "") if username is None else username).strip() or None
    full = name if username is None or name.startswith(f"{username}.") else f"{username}.{name}"
    if not name.strip() or any(c in full for c in FORBIDDEN_IN_MODEL_NAMES):
        raise ValueError(f"{full!r} is no valid registered model name: it must not be empty or contain '/' or ':'")
    return full


def environment_with_this_python(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's environment) with this interpreter's folder first on PATH.

    `mlflow models serve` starts `uvicorn` by name; in a kernel whose virtual environment is not activated, the
    folder that holds it is not on PATH and the command exits with 127 ("command not found").
    """
    env = dict(os.environ if env is None else env)
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([here, *[p for p in env.get("PATH", "").split(os.pathsep) if p and p != here]])
    return env


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _tail(path: Path, chars: int = STDERR_TAIL_CHARS) -> str:
    text = path.read_text(errors="replace") if path.is_file() else ""
    return text[-chars:].strip() or "(nothing on stderr)"


def _answers(url: str, timeout: float) -> bool:
    """Whether GET `url` returns 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop `process` and every process of its group: SIGTERM, wait up to `timeout` s, then SIGKILL."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left (uvicorn, if the CLI went first)
    process.wait(timeout=timeout)


@contextmanager
def scoring_server(
    command: Sequence[str],
    url: str,
    *,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/ping",
    timeout: float = 120.0,
    poll_seconds: float = 0.25,
) -> Iterator[ScoringServer]:
    """Run `command` (a server that will listen at `url`) for the duration of the block; yield it once
    GET `url + ready_path` answers 200.

    Raises ScoringServerError, with the tail of the server's stderr, if it exits first or does not answer within
    `timeout` seconds. On leaving the block, however it is left, the server's whole process group is stopped.
    """
    if timeout <= 0 or poll_seconds <= 0:
        raise ValueError(f"timeout and poll_seconds must be positive, got {timeout} and {poll_seconds}")
    with tempfile.TemporaryDirectory(prefix="scoring-server-") as scratch:
        log = Path(scratch) / "stderr.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                list(command),
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # a process group of its own, so that stopping it stops uvicorn too
            )
        server = ScoringServer(url.rstrip("/"), process)
        try:
            deadline = time.monotonic() + timeout
            while not _answers(server.url + ready_path, timeout=poll_seconds * 4):
                if process.poll() is not None:
                    raise ScoringServerError(
                        f"the scoring server exited with code {process.returncode} before it answered; "
                        f"its stderr ends with:\n{_tail(log)}"
                    )
                if time.monotonic() > deadline:
                    raise ScoringServerError(
                        f"the scoring server did not answer at {server.url}{ready_path} within {timeout:g} s; "
                        f"its stderr ends with:\n{_tail(log)}"
                    )
                time.sleep(poll_seconds)
            yield server
        finally:
            stop_process_group(process)
