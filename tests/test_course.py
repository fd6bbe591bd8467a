import socket

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools import cli as course
from course_tools.notebooks import KERNEL_DISPLAY_NAME, KERNEL_NAME


def _tiny_notebook(path, code):
    cells = [
        new_markdown_cell("# tiny"),
        new_code_cell("import tutorial_utils as tu"),
        new_code_cell("SEED = 1  # seed (small: 2)", metadata={"tags": ["parameters"]}),
        new_code_cell(code),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME, "language": "python"}
    nbformat.write(notebook, path)
    return path


def test_format_results_lists_status_seconds_headline_and_total():
    table = course.format_results(
        [
            course.NotebookResult("00_a.ipynb", True, 12.34, "val_rmse = 0.1", startup=5.06),
            course.NotebookResult("01_b", False, 1.0, ""),
        ]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["notebook", "status", "seconds", "start-up", "headline"]
    assert lines[2].split() == ["00_a.ipynb", "ok", "12.3", "5.1", "val_rmse", "=", "0.1"]
    assert lines[3].split() == ["01_b", "FAILED", "1.0", "0.0"]
    assert lines[4].split() == ["total", "1/2", "ok", "13.3", "5.1"]
    assert lines[5].startswith("(start-up: starting the kernel")


def test_run_executes_reports_and_fails_when_a_notebook_fails(tmp_path, monkeypatch, capsys):
    good = _tiny_notebook(tmp_path / "00_good.ipynb", "tu.show_headline('seed', SEED)")
    bad = _tiny_notebook(tmp_path / "01_bad.ipynb", "raise RuntimeError('deliberate')")
    monkeypatch.setattr(course, "notebook_paths", lambda: [good, bad])
    code = course.main(["run", "--budget", "small", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 1
    assert "01_bad.ipynb FAILED: " in printed and "deliberate" in printed
    rows = {line.split()[0]: line.split() for line in printed.splitlines() if line.startswith(("00_", "01_"))}
    assert rows["00_good.ipynb"][1] == "ok" and rows["00_good.ipynb"][4:] == ["seed", "=", "2.0000"]
    assert 0 < float(rows["00_good.ipynb"][3]) <= float(rows["00_good.ipynb"][2])  # start-up, part of the seconds
    assert rows["01_bad.ipynb"][1] == "FAILED"
    assert (tmp_path / "out" / "01_bad.ipynb").is_file()  # the partly executed notebook is kept
    assert "make ui" in printed


def test_unknown_notebook_names_are_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(course, "notebook_paths", lambda: [tmp_path / "00_a.ipynb"])
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
