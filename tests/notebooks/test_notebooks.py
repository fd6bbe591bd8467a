"""Every course notebook, executed headlessly twice on a fresh store; then what it claims is checked there."""

from __future__ import annotations

import mlflow
import pytest

from claims import claims_for
from course_tools.paths import notebook_paths
from notebook_runs import NotebookRun, run_twice, text_outputs


@pytest.fixture(scope="module", params=notebook_paths(), ids=lambda p: p.stem)
def notebook_run(request, tmp_path_factory) -> NotebookRun:
    return run_twice(request.param, tmp_path_factory.mktemp(request.param.stem))


def test_notebook_makes_the_claims_it_teaches(notebook_run: NotebookRun):
    mlflow.set_tracking_uri(notebook_run.client.tracking_uri)  # for mlflow.* calls in the claims
    claims_for(notebook_run.path)(notebook_run)


def test_no_run_is_left_running(notebook_run: NotebookRun):
    experiment_ids = [e.experiment_id for e in notebook_run.client.search_experiments()]
    running = notebook_run.client.search_runs(experiment_ids, filter_string="attributes.status = 'RUNNING'")
    assert running == []


def test_rerunning_gives_the_same_outputs(notebook_run: NotebookRun):
    first, second = (text_outputs(nb) for nb in notebook_run.executions)
    assert first == second
