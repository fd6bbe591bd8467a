"""A student copy, executed with its answer cells left empty, runs to the end, and every checked exercise reads
"not yet", in the notebook and from the store, while the lesson reads done."""

from __future__ import annotations

import nbformat
import pytest
from mlflow.tracking import MlflowClient

from course_tools.notebooks import execute_notebook, small_budget
from course_tools.paths import notebook_paths, store_environment
from course_tools.student import student_copy
from notebook_runs import printed_text
from tutorial_utils.exercises import DONE, NOT_YET, StoreView, exercise_verdict, exercises, lesson_status

CHECKED = [path for path in notebook_paths() if exercises(path.name[:2])]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.stem)
def test_a_student_copy_with_empty_answers_reads_not_yet(path, tmp_path):
    copy = tmp_path / path.name
    nbformat.write(student_copy(nbformat.read(path, as_version=4)), copy)
    store = tmp_path / "store"
    with store_environment(store):
        executed = execute_notebook(copy, tmp_path / "executed.ipynb", small_budget(path), progress_bar=False)
    view, number = StoreView(MlflowClient(f"sqlite:///{store / 'mlflow.db'}")), path.name[:2]
    assert lesson_status(view, number) == DONE
    assert {e: exercise_verdict(view, e).status for e in exercises(number)} == dict.fromkeys(exercises(number), NOT_YET)
    printed = printed_text(executed)
    assert [e for e in exercises(number) if f"Exercise {e}: not yet." not in printed] == []
