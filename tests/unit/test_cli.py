import socket

import pytest

from course_tools import cli as course
from course_tools import runner


def test_format_results_lists_status_seconds_headline_and_total():
    table = course.format_results(
        [
            runner.NotebookResult("00_a.ipynb", True, 12.34, "val_rmse = 0.1", startup=5.06),
            runner.NotebookResult("01_b", False, 1.0, ""),
        ]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["notebook", "status", "seconds", "start-up", "headline"]
    assert lines[2].split() == ["00_a.ipynb", "ok", "12.3", "5.1", "val_rmse", "=", "0.1"]
    assert lines[3].split() == ["01_b", "FAILED", "1.0", "0.0"]
    assert lines[4].split() == ["total", "1/2", "ok", "13.3", "5.1"]
    assert lines[5].startswith("(start-up: starting the kernel")


def test_unknown_notebook_names_are_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "notebook_paths", lambda: [tmp_path / "00_a.ipynb"])
    with pytest.raises(SystemExit, match=r"unknown notebook.*99_nope"):
        course.main(["render", "99_nope"])


def test_ui_refuses_a_port_in_use(capsys):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert course.port_in_use(port)
        assert course.main(["ui", "--port", str(port)]) == 1
    message = capsys.readouterr().err
    assert f"Port {port} is already in use" in message and f"make ui PORT={port + 1}" in message


def test_port_in_use_is_false_for_a_free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not course.port_in_use(port)
