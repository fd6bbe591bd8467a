"""Unit tests of tutorial_utils.parallel_tuning: storages, worker processes, the speed-up table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import mlflow
import optuna
import pytest
from matplotlib.figure import Figure
from optuna.storages import JournalStorage, RDBStorage
from optuna.study import MaxTrialsCallback
from optuna.visualization.matplotlib import plot_timeline

from tutorial_utils import parallel_tuning as pt
from tutorial_utils import tracking
from tutorial_utils.parallel_tuning import (
    StudyTiming,
    WorkerFailed,
    describe_storage,
    open_storage,
    plot_speedup,
    plot_timeline_by_worker,
    run_workers,
    speedup_table,
    storage_url,
    wait_until_mid_trial,
    worker_command,
    worker_env,
    worker_storage,
)
from tutorial_utils.tuning import catboost_regressor, optuna_figure, suggest_catboost_params


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


# --- storages ---------------------------------------------------------------------------------------------------


def test_empty_storage_url_is_the_journal_file_beside_the_local_store(fresh_store, monkeypatch):
    monkeypatch.delenv(pt.STORAGE_ENV, raising=False)
    assert storage_url("") == str(fresh_store / pt.JOURNAL_FILE_NAME)
    assert fresh_store.is_dir()
    assert storage_url(" sqlite:///x.db ") == "sqlite:///x.db"


def test_empty_storage_url_is_the_environment_s_when_set(fresh_store, monkeypatch):
    """A shared study's URL (with its password) stays in the shell, never in a committed notebook."""
    monkeypatch.setenv(pt.STORAGE_ENV, "postgresql+psycopg2://optuna:secret@host/optuna")
    assert storage_url("") == "postgresql+psycopg2://optuna:secret@host/optuna"
    assert storage_url("sqlite:///x.db") == "sqlite:///x.db"  # the parameter, when given, wins


def test_a_journal_file_is_shared_by_two_storage_objects(tmp_path):
    path = str(tmp_path / "s.journal")
    first, second = open_storage(path), open_storage(path)
    assert isinstance(first, JournalStorage)
    optuna.create_study(study_name="s", storage=first).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(optuna.load_study(study_name="s", storage=second).trials) == 2


def test_a_database_url_gives_an_rdb_storage(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'optuna.db'}")
    assert isinstance(storage, RDBStorage)
    optuna.create_study(study_name="s", storage=storage, load_if_exists=True)
    assert optuna.create_study(study_name="s", storage=storage, load_if_exists=True).study_name == "s"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("no such folder/s.journal", "does not exist"),
        ("postgresql+psycopg2://user:secret@host:notaport/db", "not a database URL"),
    ],
)
def test_bad_storage_urls_are_refused_clearly(url, message):
    with pytest.raises(ValueError, match=message) as error:
        open_storage(url)
    assert "secret" not in str(error.value)


def test_a_folder_is_not_a_journal_file(tmp_path):
    with pytest.raises(ValueError, match="must be a file"):
        open_storage(str(tmp_path))


def test_describe_storage_hides_passwords_and_paths(tmp_path):
    assert describe_storage(str(tmp_path / "a.journal")) == "JournalStorage on the local file a.journal"
    described = describe_storage("postgresql+psycopg2://ana:secret@db.example:5432/optuna")
    assert described == "RDBStorage at postgresql+psycopg2://ana:***@db.example:5432/optuna"
    assert describe_storage("postgresql://ana:secret@host:port/db") == "RDBStorage at postgresql://..."


# --- the search space and the model (tutorial_utils.tuning), as the workers use them ---------------------------


def test_search_space_replays_fixed_values_and_keeps_the_fixed_entries():
    values = {"depth": 6, "learning_rate": 0.1, "l2_leaf_reg": 3.0, "random_strength": 1.0, "subsample": 0.8}
    assert suggest_catboost_params(optuna.trial.FixedTrial(values)) == values | {"bootstrap_type": "Bernoulli"}


def test_catboost_regressor_fixes_seed_threads_and_files():
    params = catboost_regressor({"depth": 4}, 10, seed=7, thread_count=1).get_params()
    assert params | {"depth": 4, "random_seed": 7, "thread_count": 1, "iterations": 10} == params
    assert params["allow_writing_files"] is False and params["cat_features"] == ["cut", "color", "clarity"]


@pytest.mark.parametrize(("iterations", "threads"), [(0, 1), (10, 0), (10, -2)])
def test_catboost_regressor_refuses_no_trees_or_no_threads(iterations, threads):
    """Zero threads would not raise in CatBoost 1.2: it kills the process with a floating point exception."""
    with pytest.raises(ValueError, match="need iterations >= 1"):
        catboost_regressor({}, iterations, seed=0, thread_count=threads)


# --- workers -----------------------------------------------------------------------------------------------------


def test_worker_command_spells_options_with_hyphens(tmp_path):
    script = tmp_path / "w.py"
    script.write_text("")
    assert worker_command(script, study_name="s", n_trials=3) == [
        sys.executable,
        str(script),
        "--study-name",
        "s",
        "--n-trials",
        "3",
    ]
    with pytest.raises(FileNotFoundError, match="no worker script"):
        worker_command(tmp_path / "missing.py")


def test_the_storage_url_never_goes_on_the_command_line(tmp_path):
    """A database URL holds its password, and `ps` shows every command line to every local user."""
    script = tmp_path / "w.py"
    script.write_text("")
    with pytest.raises(ValueError, match=r"in the worker's environment \(STORAGE_URL\), not on its command line"):
        worker_command(script, storage="postgresql+psycopg2://optuna:secret@host/optuna")
    env = worker_env("sqlite:///x.db", 1, "postgresql+psycopg2://optuna:secret@host/optuna")
    assert env[pt.STORAGE_ENV] == "postgresql+psycopg2://optuna:secret@host/optuna"


def test_a_worker_opens_the_storage_its_environment_names(tmp_path, monkeypatch):
    monkeypatch.setenv(pt.STORAGE_ENV, str(tmp_path / "s.journal"))
    optuna.create_study(study_name="s", storage=worker_storage())
    assert optuna.load_study(study_name="s", storage=open_storage(str(tmp_path / "s.journal"))).study_name == "s"
    monkeypatch.setenv(pt.STORAGE_ENV, " ")
    with pytest.raises(ValueError, match="set STORAGE_URL to the study's storage URL"):
        worker_storage()
    monkeypatch.delenv(pt.STORAGE_ENV)
    with pytest.raises(ValueError, match="set STORAGE_URL"):
        worker_storage()


def test_worker_env_drops_the_active_run_of_the_notebook(monkeypatch):
    """With MLFLOW_RUN_ID inherited, a worker's first start_run would resume the launching run (mlflow 15713)."""
    for name in pt.INHERITED_RUN_STATE:
        monkeypatch.setenv(name, "from-the-notebook")
    env = worker_env("sqlite:///x.db", 1, "s.journal")
    assert [name for name in pt.INHERITED_RUN_STATE if name in env] == []
    assert "MLFLOW_RUN_ID" in pt.INHERITED_RUN_STATE and "MLFLOW_EXPERIMENT_ID" in pt.INHERITED_RUN_STATE


def test_worker_env_passes_tracking_quiet_settings_repo_and_threads(monkeypatch):
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "ERROR")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = worker_env("sqlite:///x.db", 1, "s.journal")
    assert env["MLFLOW_TRACKING_URI"] == "sqlite:///x.db"
    assert env["MLFLOW_LOGGING_LEVEL"] == "ERROR"  # the environment wins over QUIET_ENV
    assert env["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(pt.REPO_ROOT), "/elsewhere"]
    assert env["OMP_NUM_THREADS"] == "1"


def test_run_workers_runs_all_at_once_and_collects_output(tmp_path):
    # each worker waits for the other's file: they can only finish if they run at the same time
    code = "import sys, time, pathlib; d = pathlib.Path(sys.argv[1]); (d / sys.argv[2]).touch()\n"
    code += "while len(list(d.iterdir())) < 2: time.sleep(0.01)\nprint('done', sys.argv[2])"
    results = run_workers([[*python(code), str(tmp_path), str(i)] for i in range(2)], timeout=60)
    assert [(r.index, r.returncode, r.stdout) for r in results] == [(0, 0, "done 0\n"), (1, 0, "done 1\n")]
    assert all(r.seconds > 0 for r in results)


def test_a_failing_worker_raises_with_its_stderr_tail_after_the_others_end(tmp_path):
    marker = tmp_path / "second-finished"
    ok = python(f"import time, pathlib; time.sleep(0.3); pathlib.Path({str(marker)!r}).touch()")
    failing = python("import sys; print('\\n'.join(f'line {i}' for i in range(30)), file=sys.stderr); sys.exit(3)")
    with pytest.raises(WorkerFailed) as error:
        run_workers([failing, ok])
    message = str(error.value)
    assert message.startswith("worker 0 exited with code 3; its stderr ends:")
    assert "line 29" in message and "line 10" in message and "line 9\n" not in message
    assert "worker 1" not in message
    assert marker.exists()  # the healthy worker was not cut short


def test_a_worker_without_stderr_says_so():
    with pytest.raises(WorkerFailed, match=r"code 1; its stderr ends:\n    \(no stderr\)"):
        run_workers([python("raise SystemExit(1)")])


def test_run_workers_stops_every_worker_after_the_timeout(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    hang = python(f"import os, pathlib, time; pathlib.Path({str(pids)!r}, str(os.getpid())).touch(); time.sleep(60)")
    quick = python("print('done')")
    started = time.perf_counter()
    with pytest.raises(WorkerFailed, match=r"still running after 1 s were stopped"):
        run_workers([hang, quick, hang], timeout=1)
    assert time.perf_counter() - started < 1 + pt.STOP_GRACE_SECONDS
    assert len(list(pids.iterdir())) == 2
    for pid in pids.iterdir():  # gone (and reaped): no process is left
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid.name), 0)


def test_run_workers_needs_a_command():
    with pytest.raises(ValueError, match="no worker command"):
        run_workers([])


# --- sharing the trials out ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("check_first", "trials"), [(True, 3), (False, 4)])
def test_a_late_worker_checks_the_budget_before_its_first_trial(tmp_path, check_first, trials):
    """Two workers in turn, as tune_worker.py runs them: the second finds the budget taken. MaxTrialsCallback only
    checks after a trial, so without the check first the late worker would run one trial too many."""
    storage = open_storage(str(tmp_path / "s.journal"))
    optuna.create_study(study_name="s", storage=storage)
    for _worker in range(2):
        study = optuna.load_study(study_name="s", storage=storage)
        if not check_first or len(study.get_trials(states=pt.COUNTED)) < 3:
            study.optimize(lambda t: t.suggest_float("x", 0, 1), callbacks=[MaxTrialsCallback(3, states=pt.COUNTED)])
    assert len(optuna.load_study(study_name="s", storage=storage).trials) == trials


def test_two_workers_checking_at_the_same_moment_overshoot_by_one():
    """Why the study can end with up to n_workers - 1 extra trials: counting and starting are two steps."""
    study = optuna.create_study()
    first, second = study.ask(), study.ask()  # two workers, one trial each
    study.tell(first, 1.0)
    study.tell(second, 1.0)
    budget = 3
    go_on = [len(study.get_trials(states=pt.COUNTED)) < budget for _worker in range(2)]  # both count 2 trials
    for _ in filter(None, go_on):
        study.ask()
    assert go_on == [True, True] and len(study.trials) == budget + 1


def test_a_failed_trial_leaves_its_place_to_a_new_one(tmp_path):
    """A trial that failed (a killed worker's, marked FAIL) does not count: the study still gets 3 complete trials;
    a queued (WAITING) trial does not count until a worker takes it."""
    study = optuna.create_study(study_name="s", storage=open_storage(str(tmp_path / "s.journal")))
    study.tell(study.ask({"x": optuna.distributions.FloatDistribution(0, 1)}), state=optuna.trial.TrialState.FAIL)
    study.enqueue_trial({"x": 0.5})
    assert len(study.get_trials(states=pt.COUNTED)) == 0
    study.optimize(lambda t: t.suggest_float("x", 0, 1), callbacks=[MaxTrialsCallback(3, states=pt.COUNTED)])
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]
    assert study.trials[1].params == {"x": 0.5}  # the queued trial came first


# --- a worker caught mid-trial -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mid_trial_store(tmp_path_factory) -> str:
    """One SQLite store for this section's tests (creating a store takes seconds); its URI."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mid-trial') / 'mlflow.db'}"
    tracking.ensure_store(uri)
    return uri


@pytest.fixture
def parent_run(mid_trial_store):
    """A parent run in an experiment of its own, the tracking URI set to its store; the run ends after the test."""
    mlflow.set_tracking_uri(mid_trial_store)  # what wait_until_mid_trial's client reads (the conftest resets it)
    client = mlflow.MlflowClient(mid_trial_store)
    parent = client.create_run(client.create_experiment(f"mid-trial-{time.monotonic_ns()}"), run_name="parent")
    yield client, parent
    client.set_terminated(parent.info.run_id)


@pytest.fixture
def alive():
    """A process that sleeps until the test ends it."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def _child(client, parent, **params: str):
    run = client.create_run(parent.info.experiment_id, tags={"mlflow.parentRunId": parent.info.run_id})
    for name, value in params.items():
        client.log_param(run.info.run_id, name, value)
    return run


def test_wait_until_mid_trial_finds_the_running_trial_and_its_child(parent_run, alive):
    client, parent = parent_run
    study = optuna.create_study()
    done = study.ask()
    study.tell(done, 1.0)
    running = study.ask()
    client.set_terminated(_child(client, parent, trial_number=str(done.number)).info.run_id)  # finished: skipped
    _child(client, parent)  # started, no trial number logged yet: skipped
    child = _child(client, parent, trial_number=str(running.number))
    trial, run = wait_until_mid_trial(alive, study, parent.info.run_id, timeout=30)
    assert (trial.number, trial.state.name) == (running.number, "RUNNING")
    assert (run.info.run_id, run.info.status) == (child.info.run_id, "RUNNING")


def test_wait_until_mid_trial_fails_when_the_worker_exits_first(parent_run):
    _client, parent = parent_run
    code = "import sys; print('no such study', file=sys.stderr); sys.exit(2)"
    for text in (True, False):  # its stderr piped as text or as bytes
        process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=text)
        process.wait()
        with pytest.raises(WorkerFailed, match=r"exited with code 2 before it was mid-trial:\n    no such study$"):
            wait_until_mid_trial(process, optuna.create_study(), parent.info.run_id, timeout=30)
    quiet = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])  # its stderr not piped
    quiet.wait()
    with pytest.raises(WorkerFailed, match=r"code 3 before it was mid-trial:\n    \(no stderr\)"):
        wait_until_mid_trial(quiet, optuna.create_study(), parent.info.run_id, timeout=30)


def test_wait_until_mid_trial_gives_up_after_the_timeout(parent_run, alive):
    client, parent = parent_run
    study = optuna.create_study(study_name="idle")
    study.ask()  # running, but its child run never logs the trial's number
    _child(client, parent)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=re.escape("no trial of study 'idle' was mid-trial within 0.5 s")):
        wait_until_mid_trial(alive, study, parent.info.run_id, timeout=0.5)
    assert time.monotonic() - started < 5


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_the_timeline_is_coloured_by_worker_in_seconds(tmp_path):
    study = optuna.create_study()
    for worker in (0, 1, 0):
        trial = study.ask()
        trial.set_user_attr("worker", worker)
        study.tell(trial, 1.0)
    figure = plot_timeline_by_worker(optuna_figure(plot_timeline, study), study)
    ax = figure.axes[0]
    colours = [bar.get_facecolor() for bar in ax.containers[0]]
    assert colours[0] == colours[2] != colours[1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["worker 0", "worker 1"]
    assert ax.get_xlabel() == "seconds since the first trial started"
    first = min(bar.get_x() for bar in ax.containers[0])
    assert [ax.xaxis.get_major_formatter()(first + s / 86400, 0) for s in (-0.3, 2)] == ["0", "2"]
    assert ax.xaxis.get_major_locator().tick_values(first, first + 11 / 86400)[:3] == pytest.approx(
        [first, first + 5 / 86400, first + 10 / 86400]
    )


# --- speed-up ----------------------------------------------------------------------------------------------------


def test_speedup_table_against_the_first_study():
    table = speedup_table(
        [StudyTiming("1x1", 1, 1, 40.0), StudyTiming("1x2", 1, 2, 25.0), StudyTiming("2x1", 2, 1, 20.0)]
    )
    assert list(table.index) == ["1x1", "1x2", "2x1"]
    assert table["cores"].tolist() == [1, 2, 2]
    assert table["speedup"].tolist() == [1.0, 1.6, 2.0]
    assert table["efficiency"].tolist() == [1.0, 0.8, 1.0]


def test_speedup_table_baseline_with_several_cores():
    table = speedup_table([StudyTiming("1x2", 1, 2, 30.0), StudyTiming("4x2", 4, 2, 10.0)])
    assert table.loc["4x2", ["speedup", "efficiency"]].tolist() == [3.0, 0.75]


@pytest.mark.parametrize(("workers", "threads", "seconds"), [(0, 1, 1.0), (1, 0, 1.0), (1, 1, 0.0), (1, 1, -2.0)])
def test_study_timing_refuses_impossible_values(workers, threads, seconds):
    with pytest.raises(ValueError, match="must be >= 1"):
        StudyTiming("bad", workers, threads, seconds)


def test_speedup_table_needs_timings():
    with pytest.raises(ValueError, match="no timings"):
        speedup_table([])


def test_plot_speedup_labels_each_bar_with_its_speedup():
    figure = plot_speedup(speedup_table([StudyTiming("a", 1, 1, 4.0), StudyTiming("b", 2, 1, 2.0)]))
    assert isinstance(figure, Figure)
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == ["x1.00", "x2.00"]
