"""Every course notebook, executed headlessly twice on a fresh store; then what it claims is checked there."""

from __future__ import annotations

import re

import mlflow
import pytest

from claims import claims_for
from course_tools.paths import notebook_paths
from notebook_runs import NotebookRun, run_twice, text_outputs
from tutorial_utils import load_splits
from tutorial_utils.datasets import split_datasets
from tutorial_utils.exercises import DONE, StoreView, exercise_verdict, exercises, lesson_status

MODEL_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9_]+)+")  # says what it is: baseline-lasso, lasso-alpha-0_01
SPLIT_OF_METRIC = {"val_": "val", "test_": "test"}  # a metric's prefix -> the split it must be measured on


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


def test_every_logged_model_carries_its_own_evidence(notebook_run: NotebookRun):
    """MLflow 3's way: a name that says what the model is, and its own scores linked to it, each with the split it
    was measured on, which the model's run records as an input with its context."""
    digests = {split: dataset.digest for split, dataset in split_datasets(load_splits()).items()}
    for model in notebook_run.logged_models():
        assert MODEL_NAME.fullmatch(model.name), f"logged model {model.name!r} needs a name that says what it is"
        run = notebook_run.client.get_run(model.source_run_id)
        inputs = {(d.dataset.name, d.dataset.digest): d.tags for d in run.inputs.dataset_inputs}
        scores = [m for m in model.metrics or [] if m.key.startswith(tuple(SPLIT_OF_METRIC))]
        if not run.info.run_name.startswith("exercise-"):
            assert scores, f"model {model.name!r} has no validation or test score linked to it"
        for metric in scores:
            split = next(split for prefix, split in SPLIT_OF_METRIC.items() if metric.key.startswith(prefix))
            assert (metric.dataset_name, metric.dataset_digest) == (f"diamonds-{split}", digests[split]), (
                f"{model.name}: {metric.key} must be linked to the dataset diamonds-{split}"
            )
            context = inputs.get((metric.dataset_name, metric.dataset_digest), [])
            assert [t.value for t in context if t.key == "mlflow.data.context"], (
                f"run {run.info.run_name!r} must record {metric.dataset_name} as an input with its context"
            )


def test_the_lesson_and_every_checked_exercise_read_done(notebook_run: NotebookRun):
    """What `make check` says of a notebook executed with its solutions: the lesson has run, every exercise is done."""
    mlflow.set_tracking_uri(notebook_run.client.tracking_uri)  # the answer checks load models through mlflow.*
    store = StoreView(notebook_run.client)
    number = notebook_run.path.name[:2]
    assert lesson_status(store, number) == DONE
    verdicts = [exercise_verdict(store, exercise) for exercise in exercises(number)]
    assert [str(v) for v in verdicts if v.status != DONE] == []
