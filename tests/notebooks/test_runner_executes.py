"""The runner executes real notebooks in the course kernel: `make course`, `make timings`, student copies."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools import cli as course
from course_tools import runner
from course_tools.notebooks import KERNEL_DISPLAY_NAME, KERNEL_NAME, execute_notebook, small_budget
from course_tools.paths import notebook_paths
from course_tools.student import solution_cells, write_student_copies
from tutorial_utils.paths import STORE_DIR_ENV

TINY_RUN = """import mlflow

tu.setup_tracking(EXPERIMENT_NAME)
with mlflow.start_run(run_name="tiny"):
    mlflow.log_metric("seed", SEED)"""
#: The summary's headline: the newest `tiny` run's `seed`, read back from the store.
TINY_HEADLINE = {"label": "seed", "metric": "seed", "filter": "tags.mlflow.runName = 'tiny'", "pick": "newest"}


def _tiny_notebook(path, code):
    parameters = 'SEED = 1  # seed (small: 2)\nEXPERIMENT_NAME = "tiny"  # experiment'
    cells = [
        new_markdown_cell("# tiny"),
        new_code_cell("import tutorial_utils as tu"),
        new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        new_code_cell(code),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME, "language": "python"}
    notebook.metadata["course"] = {"headline": TINY_HEADLINE}
    nbformat.write(notebook, path)
    return path


def test_run_executes_reports_and_fails_when_a_notebook_fails(tmp_path, monkeypatch, capsys):
    good = _tiny_notebook(tmp_path / "00_good.ipynb", TINY_RUN)
    bad = _tiny_notebook(tmp_path / "01_bad.ipynb", "raise RuntimeError('deliberate')")
    monkeypatch.setattr(runner, "notebook_paths", lambda: [good, bad])
    code = course.main(["run", "--budget", "small", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    printed = captured.out
    assert code == 1
    assert "01_bad.ipynb ... FAILED after " in printed and "deliberate" in printed
    assert "00_good.ipynb ... ok, " in printed  # one line per notebook, as it runs
    assert "Executing" not in printed + captured.err  # papermill's cell bars stay out of the terminal
    assert (tmp_path / "out" / "papermill.log").is_file()
    rows = {line.split()[0]: line.split() for line in printed.splitlines() if line.startswith(("00_", "01_"))}
    assert rows["00_good.ipynb"][1] == "ok" and rows["00_good.ipynb"][4:] == ["seed", "=", "2.0000"]
    assert 0 < float(rows["00_good.ipynb"][3]) <= float(rows["00_good.ipynb"][2])  # start-up, part of the seconds
    assert rows["01_bad.ipynb"][1] == "FAILED"
    assert (tmp_path / "out" / "01_bad.ipynb").is_file()  # the partly executed notebook is kept
    assert "make ui" in printed


def test_timings_command_times_both_budgets_and_writes_the_table(tmp_path, monkeypatch, capsys):
    notebook = _tiny_notebook(tmp_path / "00_tiny.ipynb", TINY_RUN)
    monkeypatch.setattr(runner, "notebook_paths", lambda: [notebook])
    out = tmp_path / "timings.md"
    assert course.main(["timings", "--out", str(out), "--repeats", "2", "--log", str(tmp_path / "timings.log")]) == 0
    assert out.read_text().splitlines()[2].startswith("| `00_tiny.ipynb` | ")
    printed = capsys.readouterr().out
    assert "small budget, execution 2 of 2" in printed and "full budget, execution 2 of 2" in printed
    assert "medians of 2 executions" in out.read_text()
    assert (tmp_path / "timings.log").is_file()
    with pytest.raises(SystemExit, match="at least 1"):
        course.main(["timings", "--repeats", "0"])


def test_the_student_copies_hold_no_solution_and_execute(tmp_path, monkeypatch):
    """`make student` for the real course: every solution is gone, and each copy runs top to bottom."""
    written = write_student_copies(notebook_paths(), tmp_path / "student")
    assert [path.name for path in written] == [path.name for path in notebook_paths()]
    monkeypatch.setenv(STORE_DIR_ENV, str(tmp_path / "store"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for source, copy in zip(notebook_paths(), written, strict=True):
        student = nbformat.read(copy, as_version=4)
        assert not solution_cells(student)
        hidden = [cell.source for cell in solution_cells(nbformat.read(source, as_version=4))]
        assert not [text for text in hidden for cell in student.cells if text in cell.source]
        executed = execute_notebook(copy, tmp_path / "executed" / copy.name, small_budget(source), progress_bar=False)
        assert not [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
