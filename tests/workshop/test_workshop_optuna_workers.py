"""Notebook 06 across machines, for real: worker processes share one study in the workshop's PostgreSQL (Optuna's own
database and role) and log every trial as a child of one parent run on the workshop server, as an attendee; a worker
killed mid-trial there is failed, and its trial retried, by the next worker's heartbeat check."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import mlflow
import optuna
import pytest
from mlflow import MlflowClient
from mlflow.entities import Run
from optuna.storages import RDBStorage, RetryFailedTrialCallback, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

from course_tools.paths import environment
from tutorial_utils import load_splits
from tutorial_utils.datasets import split_datasets
from tutorial_utils.parallel_tuning import STORAGE_ENV, run_workers, wait_until_mid_trial, worker_command, worker_env
from tutorial_utils.paths import NOTEBOOKS_DIR

WORKER = NOTEBOOKS_DIR / "workers" / "tune_worker.py"
N_TRIALS, N_WORKERS, ITERATIONS = 4, 2, 5
HEARTBEAT_SECONDS, GRACE_SECONDS = 1, 2
DATABASE_URL = re.compile(r"postgres(ql)?(\+\w+)?://")
WORKER_TIMEOUT = 300
#: Seconds an MLflow request may take, for the test and its workers: the course's 3 s (`tracking.QUIET_ENV`) is for a
#: server that is down, and a loaded machine (2 cores shared with other jobs) can answer slower than that.
REQUEST_TIMEOUT = "60"

#: A worker whose storage has a heartbeat: it takes a trial, opens its child run, logs the trial's number and hangs.
HEARTBEAT_WORKER = """
import os, sys, time
import mlflow, optuna
from optuna.storages import RDBStorage
study_name, parent_run_id, experiment_id, interval, grace = sys.argv[1:]
storage = RDBStorage(os.environ["STORAGE_URL"], heartbeat_interval=int(interval), grace_period=int(grace))
def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    with mlflow.start_run(parent_run_id=parent_run_id, experiment_id=experiment_id):
        mlflow.log_param("trial_number", trial.number)
        time.sleep(120)
    return x
optuna.load_study(study_name=study_name, storage=storage).optimize(objective, n_trials=1)
"""


@dataclass(frozen=True)
class AttendeeStudy:
    """An attendee's experiment on the workshop server, with a RUNNING parent run, and a new study in Optuna's
    database; `env` is the attendee's MLflow login, `storage_url` Optuna's (with the optuna role's password)."""

    env: dict[str, str]
    storage_url: str
    experiment_id: str
    parent: Run
    study: optuna.Study

    def children(self) -> list[Run]:
        query = f"tags.mlflow.parentRunId = '{self.parent.info.run_id}'"
        return MlflowClient().search_runs([self.experiment_id], filter_string=query)


@pytest.fixture
def attendee_study(workshop_server) -> Iterator[AttendeeStudy]:
    """The parent is opened as `run_study` opens it in notebook 06 (the splits logged before any worker starts),
    by a new attendee, who stays signed in during the test; it ends when the test does."""
    assert workshop_server.optuna_storage is not None, "the workshop server runs on the course's own PostgreSQL"
    storage_url = workshop_server.optuna_storage.read_text().strip()
    (attendee,) = workshop_server.attendees(1)
    name = f"optuna-workers-{uuid.uuid4().hex[:8]}"
    with environment(**attendee, MLFLOW_HTTP_REQUEST_TIMEOUT=REQUEST_TIMEOUT):
        mlflow.set_tracking_uri(attendee["MLFLOW_TRACKING_URI"])  # the conftest resets it after the test
        experiment_id = MlflowClient().create_experiment(name)
        with mlflow.start_run(experiment_id=experiment_id, run_name="parallel-study") as parent:
            datasets = split_datasets(load_splits())
            mlflow.log_input(datasets["train"], context="training")
            mlflow.log_input(datasets["val"], context="validation")
            study = optuna.create_study(study_name=name, storage=RDBStorage(storage_url), direction="minimize")
            yield AttendeeStudy(attendee, storage_url, experiment_id, parent, study)


def test_two_workers_on_postgresql_log_every_trial_as_a_child_of_one_parent(attendee_study):
    study, parent = attendee_study.study, attendee_study.parent
    commands = [
        worker_command(
            WORKER,
            study_name=study.study_name,
            parent_run_id=parent.info.run_id,
            experiment_id=attendee_study.experiment_id,
            worker_index=index,
            max_trials=N_TRIALS,
            seed=0,
            iterations=ITERATIONS,
            thread_count=1,
        )
        for index in range(N_WORKERS)
    ]
    env = worker_env(attendee_study.env["MLFLOW_TRACKING_URI"], 1, attendee_study.storage_url)
    # the workers get Optuna's database only, in their environment: no database URL on a command line, none of MLflow's
    assert not [argument for command in commands for argument in command if DATABASE_URL.search(argument)]
    assert {name: value for name, value in env.items() if DATABASE_URL.search(value)} == {
        STORAGE_ENV: attendee_study.storage_url
    }
    url = make_url(attendee_study.storage_url)
    assert (url.username, url.database) == ("optuna", "optuna")
    assert {env[name] for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")} == {
        attendee_study.env["MLFLOW_TRACKING_USERNAME"],
        attendee_study.env["MLFLOW_TRACKING_PASSWORD"],
    }

    results = run_workers(commands, env=env, timeout=WORKER_TIMEOUT)

    assert [r.returncode for r in results] == [0] * N_WORKERS
    trials = optuna.load_study(study_name=study.study_name, storage=RDBStorage(attendee_study.storage_url)).trials
    children = attendee_study.children()
    assert N_TRIALS <= len(trials) <= N_TRIALS + N_WORKERS - 1  # two workers counting at once overshoot by one
    assert len(children) == len(trials)
    assert {t.state for t in trials} == {TrialState.COMPLETE}
    assert {c.info.status for c in children} == {"FINISHED"}
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    by_number = {int(c.data.params["trial_number"]): c for c in children}
    assert sorted(by_number) == [t.number for t in trials]
    for trial in trials:  # Optuna's record and MLflow's agree, trial by trial
        assert trial.value == by_number[trial.number].data.metrics["val_rmse"]
        assert str(trial.user_attrs["worker"]) == by_number[trial.number].data.tags["worker"]


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_killed_worker_s_trial_is_failed_and_retried_by_the_next_worker(attendee_study, tmp_path):
    study, parent = attendee_study.study, attendee_study.parent
    script = tmp_path / "heartbeat_worker.py"
    script.write_text(HEARTBEAT_WORKER)
    arguments = [study.study_name, parent.info.run_id, attendee_study.experiment_id]
    command = [sys.executable, str(script), *arguments, str(HEARTBEAT_SECONDS), str(GRACE_SECONDS)]
    env = worker_env(attendee_study.env["MLFLOW_TRACKING_URI"], 1, attendee_study.storage_url)
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        trial, child = wait_until_mid_trial(worker, study, parent.info.run_id, timeout=WORKER_TIMEOUT)
    finally:
        worker.send_signal(signal.SIGKILL)  # what a power cut does: the worker runs no clean-up of its own
        worker.communicate()
    time.sleep(GRACE_SECONDS + 2 * HEARTBEAT_SECONDS)  # its last heartbeat is now older than the grace period
    assert [t.state for t in study.get_trials()] == [TrialState.RUNNING]  # nobody has checked yet

    storage = RDBStorage(
        attendee_study.storage_url,
        heartbeat_interval=HEARTBEAT_SECONDS,
        grace_period=GRACE_SECONDS,
        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
    )
    later = optuna.load_study(study_name=study.study_name, storage=storage)
    later.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)  # fail_stale_trials runs before it asks

    killed, retry = later.get_trials()
    assert (killed.number, killed.state, retry.state) == (trial.number, TrialState.FAIL, TrialState.COMPLETE)
    assert retry.params == killed.params == trial.params
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retry) == killed.number
    client = MlflowClient()
    assert client.get_run(child.info.run_id).info.status == "RUNNING"  # Optuna's heartbeat knows nothing of MLflow
    client.set_terminated(child.info.run_id, "KILLED")
    assert [c.info.status for c in attendee_study.children()] == ["KILLED"]


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_the_retry_callback_s_older_names_are_deprecated_aliases():
    """What notebook 06 says of the names most guides use: in Optuna 5, deprecated aliases of the new ones."""
    with pytest.warns(FutureWarning, match="Use `RetryHeartbeatStaleTrialCallback` instead"):
        callback = RetryFailedTrialCallback(max_retry=1)
    assert isinstance(callback, RetryHeartbeatStaleTrialCallback)
    with pytest.warns(FutureWarning, match="Use `heartbeat_stale_trial_callback` instead"):
        storage = RDBStorage("sqlite:///:memory:", heartbeat_interval=1, failed_trial_callback=callback)
    assert storage.get_heartbeat_stale_trial_callback() is callback
