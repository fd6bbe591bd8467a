"""What notebook 06 claims: per execution, three studies (the parallel one and two timing references), each one
parent run with FINISHED children that its workers logged, tagged with their worker: the workers took trials until
the study had N_TRIALS, overshooting by at most N_WORKERS - 1 when two of them counted at the same moment (the
notebook shows how), and the trials per worker add up; each study complete in the journal storage; the references
re-ran all of the parallel study's trials to the same values. Section 9's study: its first worker, killed mid-trial,
left a child run that ends KILLED and a trial that ends FAIL; a second worker ran DEMO_TRIALS complete trials, the
first re-running the killed one's parameters. Exercise 2's broken study ended FAILED, its one trial FAILED in MLflow
and in Optuna."""

from __future__ import annotations

from collections import Counter

import optuna
from mlflow.entities import Run

from notebook_runs import NotebookRun, input_contexts, running_best
from tutorial_utils.parallel_tuning import JOURNAL_FILE_NAME, open_storage

EXERCISE_PREFIX = "exercise-"
DEMO_NAME = "killed-worker-study"
KILLED_ITERATIONS = "10000"  # the killed worker's trees: a trial of minutes, surely running when the kill comes
SEARCH_SPACE = {"depth", "learning_rate", "l2_leaf_reg", "random_strength", "subsample"}


def _check_study(run: NotebookRun, runs: list[Run], parent: Run, n_trials: int) -> list[float]:
    """One study's parent, its `n_trials` children and stored trials; returns its trials' values, sorted."""
    params = run.parameters
    n_workers, threads = int(parent.data.params["n_workers"]), int(parent.data.params["thread_count"])
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert parent.info.status == "FINISHED"
    assert len(children) == n_trials
    assert {c.info.status for c in children} == {"FINISHED"}
    assert sorted(int(c.data.params["trial_number"]) for c in children) == list(range(n_trials))
    assert {c.info.run_name for c in children} == {f"trial-{n:02d}" for n in range(n_trials)}
    per_worker = Counter(int(c.data.tags["worker"]) for c in children)
    assert set(per_worker) <= set(range(n_workers)) and sum(per_worker.values()) == n_trials
    for child in children:
        worker = int(child.data.tags["worker"])
        assert set(child.data.params) >= SEARCH_SPACE
        assert child.data.params["sampler_seed"] == str(params["SEED"] + worker)
        assert child.data.params["thread_count"] == str(threads)
        assert child.data.params["iterations"] == str(params["TUNING_ITERATIONS"])

    journal = str(run.store / JOURNAL_FILE_NAME)  # the default storage: beside the notebook run's local store
    study = optuna.load_study(study_name=parent.data.params["study_name"], storage=open_storage(journal))
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * n_trials
    best_child = min(children, key=lambda c: c.data.metrics["val_rmse"])
    assert parent.data.metrics["best_val_rmse"] == best_child.data.metrics["val_rmse"] == study.best_value
    for name in SEARCH_SPACE:
        assert parent.data.params[f"best_{name}"] == best_child.data.params[name]
    assert parent.data.metrics["wall_seconds"] > 0
    by_number = {int(c.data.params["trial_number"]): c for c in children}
    for trial in study.trials:  # Optuna's record and MLflow's agree, trial by trial
        assert trial.value == by_number[trial.number].data.metrics["val_rmse"]
        assert trial.user_attrs["worker"] == int(by_number[trial.number].data.tags["worker"])
    values = [by_number[n].data.metrics["val_rmse"] for n in range(n_trials)]
    assert run.history(parent.info.run_id, "best_val_rmse") == running_best(values)
    assert input_contexts(best_child) == {"training", "validation"}, "each trial run records the splits it used"
    assert input_contexts(parent) == {"training", "validation"}, "the parent logs the datasets before its workers do"
    return sorted(t.value for t in study.trials)


def _check_broken_studies(runs: list[Run], broken: list[Run], journal: str) -> None:
    """Exercise 2: per execution, a FAILED parent whose one child FAILED, as did the study's one trial."""
    assert [p.info.run_name for p in broken] == ["exercise-broken-study"] * 2
    for parent in broken:
        assert parent.info.status == "FAILED"
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert [c.info.status for c in children] == ["FAILED"]
        study = optuna.load_study(study_name=parent.data.params["study_name"], storage=open_storage(journal))
        assert [t.state.name for t in study.trials] == ["FAIL"]


def _check_killed_worker_studies(run: NotebookRun, runs: list[Run], demos: list[Run], journal: str) -> None:
    """Section 9, per execution: trial 0's worker killed mid-trial, its child run KILLED and its trial FAIL (ended by
    hand); then DEMO_TRIALS complete trials by worker 1, the first re-running trial 0's parameters; none RUNNING."""
    params = run.parameters
    n_trials = params["DEMO_TRIALS"]
    assert [p.info.run_name for p in demos] == [DEMO_NAME] * 2
    for parent in demos:
        assert parent.info.status == "FINISHED"
        assert parent.data.params["n_trials"] == str(n_trials)
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        by_number = {int(c.data.params["trial_number"]): c for c in children}
        assert sorted(by_number) == list(range(n_trials + 1)) and len(children) == n_trials + 1
        killed, *others = (by_number[n] for n in sorted(by_number))
        assert (killed.info.status, killed.data.tags["worker"]) == ("KILLED", "0")
        assert killed.data.params["iterations"] == KILLED_ITERATIONS and "val_rmse" not in killed.data.metrics
        for child in others:
            assert (child.info.status, child.data.tags["worker"]) == ("FINISHED", "1")
            assert child.data.params["iterations"] == str(params["DEMO_ITERATIONS"])
            assert child.data.params["sampler_seed"] == str(params["SEED"] + 1)
        study = optuna.load_study(study_name=parent.data.params["study_name"], storage=open_storage(journal))
        assert [t.state.name for t in study.trials] == ["FAIL"] + ["COMPLETE"] * n_trials
        assert study.trials[1].params == study.trials[0].params, "the killed trial's parameters were retried first"
        for trial in study.trials[1:]:  # Optuna's record and MLflow's agree, trial by trial
            assert trial.value == by_number[trial.number].data.metrics["val_rmse"]
        assert not [r for r in children if r.info.status == "RUNNING"]


def check(run: NotebookRun) -> None:
    params = run.parameters
    everything = run.runs()
    journal = str(run.store / JOURNAL_FILE_NAME)
    assert not [r for r in everything if r.info.status == "RUNNING"], "no run is left RUNNING, the killed one included"
    broken = [r for r in everything if r.info.run_name.startswith(EXERCISE_PREFIX)]
    _check_broken_studies(everything, broken, journal)
    demos = [r for r in everything if r.info.run_name == DEMO_NAME]
    _check_killed_worker_studies(run, everything, demos, journal)
    set_apart = {p.info.run_id for p in broken + demos}
    runs = [r for r in everything if set_apart.isdisjoint({r.info.run_id, r.data.tags.get("mlflow.parentRunId")})]
    assert {r.info.status for r in runs} == {"FINISHED"}
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    names = ["parallel-study", "reference-1-worker-1-thread", f"reference-1-worker-{params['CORES']}-threads"]
    assert [p.info.run_name for p in parents] == names * 2, "each execution adds its three studies, in order"
    names_of_studies = {p.data.params["study_name"] for p in parents + demos}
    assert len(names_of_studies) == 8, "every execution creates new studies: no trials mixed in from a re-run"

    for execution in range(2):
        parallel, *references = parents[3 * execution : 3 * execution + 3]
        assert parallel.data.params["n_workers"] == str(params["N_WORKERS"])
        assert [r.data.params["n_workers"] for r in references] == ["1", "1"]
        # the workers take trials until the study has N_TRIALS; two that count at once can overshoot, by one each
        assert parallel.data.params["n_trials"] == str(params["N_TRIALS"])
        got = len([r for r in runs if r.data.tags.get("mlflow.parentRunId") == parallel.info.run_id])
        assert params["N_TRIALS"] <= got <= params["N_TRIALS"] + params["N_WORKERS"] - 1
        assert [r.data.params["n_trials"] for r in references] == [str(got)] * 2, "they replay every trial"
        values = _check_study(run, runs, parallel, got)
        for reference in references:  # the same trials, re-run: the same values to the last digit
            assert _check_study(run, runs, reference, got) == values
        assert parallel.data.metrics["speedup"] > 0
    assert run.headline() == f"speedup = {parallel.data.metrics['speedup']:.4f}"  # the newest study's
