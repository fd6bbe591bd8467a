"""Unit tests of tutorial_utils.parallel_tuning: storages, worker processes, the speed-up table."""

from __future__ import annotations

import os
import sys

import optuna
import pytest
from matplotlib.figure import Figure
from optuna.storages import JournalStorage, RDBStorage

from tutorial_utils import parallel_tuning as pt
from tutorial_utils.parallel_tuning import (
    StudyTiming,
    WorkerFailed,
    describe_storage,
    open_storage,
    plot_speedup,
    run_workers,
    speedup_table,
    split_trials,
    storage_url,
    worker_command,
    worker_env,
)
from tutorial_utils.tuning import catboost_regressor, suggest_catboost_params


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


# --- storages ---------------------------------------------------------------------------------------------------


def test_empty_storage_url_is_the_journal_file_beside_the_local_store(fresh_store):
    assert storage_url("") == str(fresh_store / pt.JOURNAL_FILE_NAME)
    assert fresh_store.is_dir()
    assert storage_url(" sqlite:///x.db ") == "sqlite:///x.db"


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


@pytest.mark.parametrize(("n_trials", "n_workers", "shares"), [(12, 2, [6, 6]), (7, 3, [3, 2, 2]), (1, 1, [1])])
def test_split_trials_shares_out_every_trial(n_trials, n_workers, shares):
    assert split_trials(n_trials, n_workers) == shares


@pytest.mark.parametrize(("n_trials", "n_workers"), [(4, 0), (1, 2), (0, 1)])
def test_split_trials_refuses_idle_workers(n_trials, n_workers):
    with pytest.raises(ValueError, match="at least 1 worker"):
        split_trials(n_trials, n_workers)


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


def test_worker_env_passes_tracking_quiet_settings_repo_and_threads(monkeypatch):
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "ERROR")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = worker_env("sqlite:///x.db", 1)
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


def test_run_workers_kills_workers_after_the_timeout():
    with pytest.raises(WorkerFailed, match=r"still running after 0\.5 s were killed"):
        run_workers([python("import time; time.sleep(30)")], timeout=0.5)


def test_run_workers_needs_a_command():
    with pytest.raises(ValueError, match="no worker command"):
        run_workers([])


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
