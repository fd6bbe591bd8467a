import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tutorial_utils import serving

#: A stand-in for `mlflow models serve`: it starts a child (as the CLI starts uvicorn), writes the child's pid to a
#: file, and answers GET /ping with 200 after a short start-up.
FAKE_SERVER = """
import http.server, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[2], "w").write(str(child.pid))
time.sleep(0.5)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404)
        self.end_headers()
        self.wfile.write(b"pong")

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists and is no zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "zombie" in status.read_text())


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def _fake(tmp_path: Path) -> tuple[list[str], str, Path]:
    port = serving.free_port()
    pid_file = tmp_path / "child.pid"
    return [sys.executable, "-c", FAKE_SERVER, str(port), str(pid_file)], f"http://127.0.0.1:{port}", pid_file


def test_the_server_answers_inside_the_block_and_its_whole_group_is_gone_after(tmp_path):
    command, url, pid_file = _fake(tmp_path)
    with serving.scoring_server(command, url, timeout=30) as server:
        assert server.url == url and not server.stopped
        with urllib.request.urlopen(f"{server.url}/ping", timeout=5) as response:
            assert response.read() == b"pong"
        child = int(pid_file.read_text())
        assert _alive(child)
    assert server.stopped
    assert _wait_gone(child), "the server's own child (uvicorn, for mlflow) must be stopped too"


def test_an_error_inside_the_block_still_stops_the_server(tmp_path):
    command, url, pid_file = _fake(tmp_path)
    with pytest.raises(KeyboardInterrupt), serving.scoring_server(command, url, timeout=30) as server:
        raise KeyboardInterrupt
    assert server.stopped and _wait_gone(int(pid_file.read_text()))


def test_a_server_that_exits_first_raises_with_its_exit_code_and_stderr(tmp_path):
    command = [sys.executable, "-c", "import sys; sys.stderr.write('exec: uvicorn: not found'); sys.exit(127)"]
    with (
        pytest.raises(serving.ScoringServerError, match=r"exited with code 127(.|\n)*uvicorn: not found"),
        serving.scoring_server(command, f"http://127.0.0.1:{serving.free_port()}", timeout=30),
    ):
        pytest.fail("the block must not run")


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path):
    pid_file = tmp_path / "pid"
    command = [sys.executable, "-c", f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
               "print('still loading', flush=True); time.sleep(600)"]  # fmt: skip
    start = time.monotonic()
    with (
        pytest.raises(serving.ScoringServerError, match=r"did not answer(.|\n)*still loading"),
        serving.scoring_server(command, f"http://127.0.0.1:{serving.free_port()}", timeout=1.5, poll_seconds=0.1),
    ):
        pass
    assert time.monotonic() - start < 15
    assert _wait_gone(int(pid_file.read_text()))


def test_stopping_kills_a_server_that_ignores_sigterm(tmp_path):
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(600)"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True)
    assert process.stdout.readline() == b"up\n"
    serving.stop_process_group(process, timeout=0.5)
    assert process.returncode == -9
    process.stdout.close()


def test_bad_timeouts_are_refused():
    with pytest.raises(ValueError, match="positive"), serving.scoring_server(["true"], "http://x", timeout=0):
        pass


def test_registered_model_names_are_namespaced_with_a_dot(monkeypatch):
    monkeypatch.delenv(serving.USERNAME_ENV, raising=False)
    assert serving.registered_model_name("diamonds-price") == "diamonds-price"
    monkeypatch.setenv(serving.USERNAME_ENV, " attendee.01 ")
    assert serving.registered_model_name("diamonds-price") == "attendee.01.diamonds-price"
    assert serving.registered_model_name("attendee.01.diamonds-price") == "attendee.01.diamonds-price"
    assert serving.registered_model_name("diamonds-price", username="bob") == "bob.diamonds-price"
    for bad in ("a/b", "a:b", " "):
        with pytest.raises(ValueError, match="no valid registered model name"):
            serving.registered_model_name(bad, username="")


def test_this_interpreters_folder_comes_first_on_path():
    env = serving.environment_with_this_python({"PATH": f"/usr/bin{os.pathsep}{Path(sys.executable).parent}"})
    assert env["PATH"].split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin"]
    assert serving.environment_with_this_python({})["PATH"] == str(Path(sys.executable).parent)
