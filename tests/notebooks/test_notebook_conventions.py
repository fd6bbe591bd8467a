"""The committed notebooks follow the course conventions (COURSE_DESIGN.md, 'Notebook conventions')."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_tools.headline import headline_of
from course_tools.notebooks import KERNEL_NAME, parameters_cell, read_parameters
from course_tools.paths import notebook_paths
from course_tools.student import exercise_count, solution_cells
from course_tools.timings import read_timings, work_minutes
from tutorial_utils.exercises import ANSWER_CHECKS, exercises
from tutorial_utils.paths import REPO_ROOT

NOTEBOOKS = notebook_paths()
FORBIDDEN_IN_OUTPUTS = {
    "a machine path": re.compile(r"(/home/|/root/|/tmp/|/work/|/Users/|[A-Z]:\\\\|" + re.escape(str(REPO_ROOT)) + ")"),
    "a run or model id": re.compile(r"\b(m-)?[0-9a-f]{32}\b"),
    "a timestamp": re.compile(r"\b20\d\d-\d\d-\d\d[ T]\d\d:\d\d"),
    "a traceback": re.compile(r"Traceback \(most recent call last\)"),
}


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["00_setup_and_baselines.ipynb"]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request) -> tuple[Path, nbformat.NotebookNode]:
    return request.param, nbformat.read(request.param, as_version=4)


def test_name_title_and_opening_cell(notebook):
    path, nb = notebook
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {path.name[:2]} ")
    assert "What you will learn" in first.source and "Time to run" in first.source and "Builds on" in first.source


def test_closing_recap_exercises_and_one_tagged_solution_per_exercise(notebook):
    """The recap and the exercises, then each solution, followed by its check cell where the exercise has a check."""
    path, nb = notebook
    solutions = solution_cells(nb)
    checked = exercises(path.name[:2])
    end = nb.cells[-len(solutions) * (2 if checked else 1) :]
    closing = nb.cells[-len(end) - 1]
    assert closing.cell_type == "markdown" and "## Recap" in closing.source and "## Exercises" in closing.source
    assert 2 <= exercise_count(closing.source) <= 4
    assert len(solutions) == exercise_count(closing.source)
    assert end[:: 2 if checked else 1] == solutions, "the solution cells (each with its check cell) close the notebook"
    for number, cell in enumerate(solutions, start=1):
        assert cell.cell_type == "code" and cell.source.startswith(f"# Solution {number}")
    if checked:
        assert len(checked) == len(solutions), f"every exercise of {path.name} needs a check, or none"
        for exercise, cell in zip(checked, end[1::2], strict=True):
            assert "check" in cell.metadata.get("tags", [])
            assert re.fullmatch(rf'tu\.check_(answer\("{exercise}", \w+\)|exercise\("{exercise}"\))', cell.source)
            assert (exercise in ANSWER_CHECKS) == ("check_answer" in cell.source)


def test_parameters_cell_follows_the_imports_and_documents_every_knob(notebook):
    path, nb = notebook
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells[1] is parameters_cell(nb)
    assert "import " in code_cells[0].source
    parameters = read_parameters(path)
    assert {"SEED", "EXPERIMENT_NAME"} <= set(parameters)


def test_committed_with_clean_in_order_outputs(notebook):
    path, nb = notebook
    assert nb.metadata.kernelspec.name == KERNEL_NAME
    assert "papermill" not in nb.metadata
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code_cells] == list(range(1, len(code_cells) + 1))
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in nb.cells)
    assert headline_of(nb), "the notebook should name its headline in its metadata (course_tools.headline)"
    assert path.stat().st_size < 2_000_000


def test_outputs_carry_no_paths_ids_timestamps_or_errors(notebook):
    _, nb = notebook
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {index} failed: {output.ename}"
            text = output.get("text", "") + "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/")
            )
            for what, pattern in FORBIDDEN_IN_OUTPUTS.items():
                assert not pattern.search(text), f"cell {index} shows {what}: {pattern.search(text)[0]!r}"


def test_outputs_that_must_vary_are_marked_by_the_cell_tag_not_in_the_code(notebook):
    """The learner reads the code; nbval reads the tag (`nbval-ignore-output`), and so do the notebook tests."""
    _, nb = notebook
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert not [source.splitlines()[0] for source in code if "NBVAL_" in source]


def test_models_are_loaded_the_mlflow_3_way(notebook):
    """By `model_info.model_uri` or `models:/<model_id>` (the logged-model store), never `runs:/<run_id>/model`."""
    _, nb = notebook
    assert not [cell.source for cell in nb.cells if cell.cell_type == "code" and "runs:/" in cell.source]


README = (REPO_ROOT / "README.md").read_text()
TIMINGS = read_timings((REPO_ROOT / "docs" / "timings.md").read_text())
TIME_TO_RUN = re.compile(r"\*\*Time to run:\*\*(.*?)(?:\n\n|\n\*\*)", re.S)


def test_the_time_to_run_is_the_measured_one_everywhere(notebook):
    """The opening cell and the README's table give the seconds of docs/timings.md, full and small budget."""
    path, nb = notebook
    small, full = TIMINGS[path.stem]
    opening = TIME_TO_RUN.search(nb.cells[0].source)
    assert opening, "the opening cell needs a '**Time to run:**' paragraph"
    words = set(re.findall(r"\d+", opening.group(1)))
    assert f"about {full} seconds" in " ".join(opening.group(1).split()) and str(small) in words, (
        f"say 'about {full} seconds' at the default budget and {small} with the small one, as docs/timings.md does"
    )
    readme_row = next(line for line in README.splitlines() if f"(notebooks/{path.name})" in line)
    assert readme_row.rstrip().endswith(f"| {full} s / {small} s |"), readme_row


def test_the_time_to_work_through_is_the_estimate_everywhere(notebook):
    """The opening cell and the README give the estimate of `course_tools.timings.work_minutes`, named as one."""
    path, nb = notebook
    minutes = work_minutes(nb, TIMINGS[path.stem][1])
    opening = " ".join(nb.cells[0].source.split())
    assert f"**Time to work through it:** about {minutes} minutes, an estimate" in opening
    readme_row = next(line for line in README.splitlines() if f"(notebooks/{path.name})" in line)
    assert f"| ~{minutes} min | " in readme_row, readme_row


#: What nbconvert's HTML export (and so nbviewer) renders of a rich output; GitHub and JupyterLab render these too.
EXPORTED_MIMETYPES = {"text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown", "text/latex"}


def test_every_figure_displays_in_an_html_export(notebook):
    """A figure only in a type the export skips (an `image/gif` from IPython's `Image`) shows in JupyterLab only."""
    _, nb = notebook
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            rich = set(output.get("data", {})) - {"text/plain"}
            assert not rich or rich & EXPORTED_MIMETYPES, f"cell {index}: {sorted(rich)} is left out of an export"
