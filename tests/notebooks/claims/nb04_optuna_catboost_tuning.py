"""What notebook 04 claims: one tuning parent per execution with N_TRIALS trial runs (each with its datasets), the
study's design and running best and the early-stopping curve recorded on the parent, FINALISTS early-stopped
refits of the best trials with the best of them chosen, the refit's tree count by the rule the parent records, a
FAILED demo trial, a final model in a child run of its own that carries its test_rmse, and the same study, to the
last digit, on both executions. Exercise 2's solution adds a pruning study per execution, its parent and trials
named `exercise-...`: pruned trials end KILLED, with their reported values as a stepped metric."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import Run

from notebook_runs import NotebookRun, input_contexts, running_best
from tutorial_utils import catboost_features, load_splits, log_price, rmse

SEARCH_SPACE = ["depth", "learning_rate", "l2_leaf_reg", "random_strength", "subsample"]


def _children(runs: list[Run], parent: Run, prefix: str = "") -> list[Run]:
    """The child runs of `parent` whose names start with `prefix`, in trial order."""
    found = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return sorted((r for r in found if r.info.run_name.startswith(prefix)), key=lambda r: r.info.run_name)


def _check_study_record(run: NotebookRun, parent: Run, children: list[Run]) -> None:
    """The parent alone lets one rebuild the study: its design, its trials, its running best, its curve."""
    params = run.parameters
    design = mlflow.artifacts.load_dict(f"{parent.info.artifact_uri}/study/search_space.json")
    assert sorted(design["distributions"]) == sorted(SEARCH_SPACE)
    assert design["distributions"]["learning_rate"] == {
        "name": "FloatDistribution",
        "attributes": {"low": 0.02, "high": 0.3, "log": True, "step": None},
    }
    assert design["sampler"] == "TPESampler" and design["sampler_settings"]["seed"] == params["SEED"]
    assert parent.data.params["sampler_multivariate"] == "True"
    trials = run.client.load_table(parent.info.experiment_id, "study/trials.json", run_ids=[parent.info.run_id])
    assert list(trials["trial"]) == list(range(params["N_TRIALS"]))
    values = [c.data.metrics["val_rmse"] for c in children]
    assert run.history(parent.info.run_id, "best_val_rmse") == running_best(values)
    first = params["TUNING_ITERATIONS"]  # the curves record the chosen finalist's new trees, from its trial's on
    curve = run.history(parent.info.run_id, "curve_val_rmse", first_step=first)
    best_iteration = int(parent.data.metrics["best_iteration"])
    assert len(run.history(parent.info.run_id, "curve_learn_rmse", first_step=first)) == len(curve)
    assert first + curve.index(min(curve)) == best_iteration


def _check_tuning_parent(run: NotebookRun, runs: list[Run], parent: Run) -> list[Run]:
    """One execution's tuning parent: its trials, its best values, its tag, metrics and figures."""
    params = run.parameters
    children = _children(runs, parent, "trial-")
    assert len(children) == params["N_TRIALS"]
    assert [c.info.run_name for c in children] == [f"trial-{n:02d}" for n in range(params["N_TRIALS"])]
    for number, child in enumerate(children):
        assert child.info.status == "FINISHED"
        assert set(SEARCH_SPACE) <= set(child.data.params), child.data.params
        assert child.data.params["trial_number"] == str(number)
        assert child.data.params["sampler_seed"] == str(params["SEED"])
        assert child.data.params["iterations"] == str(params["TUNING_ITERATIONS"])
        assert "val_rmse" in child.data.metrics
        assert input_contexts(child) == {"training", "validation"}
    best_child = min(children, key=lambda c: c.data.metrics["val_rmse"])
    metrics = parent.data.metrics
    assert parent.info.status == "FINISHED"
    assert metrics["best_val_rmse"] == best_child.data.metrics["val_rmse"]
    assert parent.data.tags.get("best_model") == "true"
    _check_finalists(run, runs, parent, children)
    _check_refit_rule(parent)
    assert "test_rmse" not in metrics, "the test score belongs to the final model's run"
    _check_study_record(run, parent, children)
    artifacts = {f.path for f in run.client.list_artifacts(parent.info.run_id, "figures")}
    assert artifacts == {
        f"figures/{name}.png"
        for name in (
            "validation_curve",
            "optimization_history",
            "param_importances",
            "slices",
            "parallel_coordinate",
            "contour",
        )
    }
    return children


def _check_finalists(run: NotebookRun, runs: list[Run], parent: Run, trials: list[Run]) -> None:
    """The FINALISTS best trials, trained on with early stopping as `finalist-NN` children; the parent's best params,
    chosen trial and tree count are those of the finalist with the lowest early-stopped val_rmse."""
    params = run.parameters
    finalists = _children(runs, parent, "finalist-")
    best_trials = sorted(trials, key=lambda c: c.data.metrics["val_rmse"])[: params["FINALISTS"]]
    assert sorted(f.data.params["trial_number"] for f in finalists) == sorted(
        t.data.params["trial_number"] for t in best_trials
    )
    for finalist in finalists:
        assert finalist.info.status == "FINISHED"
        assert finalist.data.params["iterations"] == str(params["MAX_ITERATIONS"])
        assert finalist.data.params["init_trees"] == str(params["TUNING_ITERATIONS"])  # grown from its trial's model
        assert params["TUNING_ITERATIONS"] <= finalist.data.metrics["best_iteration"] < params["MAX_ITERATIONS"]
        assert input_contexts(finalist) == {"training", "validation"}
    chosen = min(finalists, key=lambda f: f.data.metrics["val_rmse"])
    assert parent.data.params["chosen_trial"] == chosen.data.params["trial_number"]
    for name in SEARCH_SPACE:
        assert parent.data.params[f"best_{name}"] == chosen.data.params[name]
    assert parent.data.metrics["best_iteration"] == chosen.data.metrics["best_iteration"]
    assert parent.data.metrics["early_stopping_val_rmse"] == chosen.data.metrics["val_rmse"]
    assert parent.data.params["early_stopped_trees"] == str(int(chosen.data.metrics["best_iteration"]) + 1)


def _check_refit_rule(parent: Run) -> None:
    """The refit's tree count: the early-stopped count times the ratio of rows to the power of the growth measured
    on half the training rows, clipped to [0, 1]."""
    splits = load_splits()
    full, half = int(parent.data.params["early_stopped_trees"]), parent.data.metrics["trees_half_train"]
    growth = float(np.clip(np.log(full / half) / np.log(2), 0, 1))
    assert np.isclose(parent.data.metrics["trees_growth"], growth)
    ratio = (len(splits.train) + len(splits.val)) / len(splits.train)
    assert parent.data.params["n_trees"] == str(round(full * ratio**growth))
    assert parent.data.params["refit_trees_rule"].startswith("measured growth")


def _final_model_test_rmse(run: NotebookRun, runs: list[Run], parent: Run) -> float:
    """The parent's one `catboost-tuned` child logged one model, `catboost-tuned`, with a signature and an input
    example, that reproduces the test_rmse linked to it; the parent itself logged no model. Returns that score."""
    (refit,) = _children(runs, parent, "catboost-tuned")
    assert refit.info.status == "FINISHED"
    assert refit.data.params["iterations"] == parent.data.params["n_trees"]
    logged = run.logged_model(refit.info.run_id)
    assert logged.name == "catboost-tuned"
    assert {m.key for m in logged.metrics} == {"test_rmse", "test_rmse_usd"}, "its own scores, nothing else"
    assert not mlflow.search_logged_models(
        experiment_ids=[run.experiment().experiment_id],
        filter_string=f"source_run_id = '{parent.info.run_id}'",
        output_format="list",
    )
    info = mlflow.models.get_model_info(logged.model_uri)
    assert info.signature is not None and info.signature.inputs.input_names()[:2] == ["carat", "cut"]
    assert info.saved_input_example_info is not None
    test_rmse = next(m.value for m in logged.metrics if m.key == "test_rmse")
    assert 0.05 < test_rmse < 0.2
    test = load_splits().test
    predictions = mlflow.pyfunc.load_model(logged.model_uri).predict(catboost_features(test))
    assert np.isclose(rmse(log_price(test), np.asarray(predictions)), test_rmse)
    return test_rmse


def _check_failure_demo(runs: list[Run], parent: Run) -> None:
    """The demo study's enqueued bad trial ended as a FAILED child run, with its reason; the study went on."""
    children = _children(runs, parent)
    assert parent.info.status == "FINISHED"
    assert len(children) == 3
    assert children[0].info.status == "FAILED"
    assert "subsample" in children[0].data.tags["error"]
    assert "FINISHED" in {c.info.status for c in children[1:]}
    for child in children:
        assert (child.info.status == "FAILED") == ("val_rmse" not in child.data.metrics)


def _check_pruning_exercise(exercise_runs: list[Run], n_trials: int) -> None:
    """Exercise 2: one `exercise-pruning` parent per execution with `n_trials` trials; a pruned trial is KILLED
    and tagged, the rest FINISHED with their val_rmse; both executions prune the same trials after as many trees."""
    parents = [r for r in exercise_runs if r.info.run_name == "exercise-pruning"]
    assert len(parents) == 2 and {p.info.status for p in parents} == {"FINISHED"}
    executions = [_children(exercise_runs, p) for p in parents]
    assert len(executions[0]) + len(executions[1]) + 2 == len(exercise_runs)
    for children in executions:
        assert [c.info.run_name for c in children] == [f"exercise-trial-{n:02d}" for n in range(n_trials)]
        for child in children:
            pruned = child.data.tags["optuna_state"] == "PRUNED"
            assert child.info.status == ("KILLED" if pruned else "FINISHED")
            assert ("val_rmse" in child.data.metrics) != pruned
            assert "best_model" not in child.data.tags
            assert "intermediate_val_rmse" in child.data.metrics
    first, second = ([(c.info.status, c.data.metrics) for c in children] for children in executions)
    assert first == second


def _check_payoff(run: NotebookRun, parent: Run, test_rmse: float) -> None:
    """The baseline-against-tuned table on the parent: its rows as the metrics say, the tuned row's test score the
    final model's."""
    table = Path(run.client.download_artifacts(parent.info.run_id, "tables/tuning_payoff.txt")).read_text()
    rows = {line.split("  ")[0]: line.split()[-5:] for line in table.splitlines()[1:]}
    metrics = parent.data.metrics
    baseline, tuned = rows["00 baseline"], rows["tuned"]
    assert baseline[0] == str(run.parameters["BASELINE_ITERATIONS"]) and tuned[0] == parent.data.params["n_trees"]
    assert float(baseline[1]) == metrics["baseline_val_rmse"] and float(baseline[3]) == metrics["baseline_test_rmse"]
    assert float(tuned[2]) == metrics["train_only_test_rmse"]
    assert float(tuned[3]) == round(test_rmse, 4)


def check(run: NotebookRun) -> None:
    every_run = run.runs()
    runs = [r for r in every_run if not r.info.run_name.startswith("exercise-")]
    exercise_runs = [r for r in every_run if r.info.run_name.startswith("exercise-")]
    _check_pruning_exercise(exercise_runs, n_trials=2 * run.parameters["REPRO_TRIALS"])
    tuning = [r for r in runs if r.info.run_name == "catboost-optuna"]
    demos = [r for r in runs if r.info.run_name == "optuna-failure-demo"]
    assert len(tuning) == 2 and len(demos) == 2, "each execution adds one tuning parent and one demo parent"
    assert {r.info.status for r in runs} <= {"FINISHED", "FAILED"}
    trials = [_check_tuning_parent(run, runs, parent) for parent in tuning]
    for parent in demos:
        _check_failure_demo(runs, parent)
    test_rmse = [_final_model_test_rmse(run, runs, parent) for parent in tuning]
    assert test_rmse[0] == test_rmse[1]
    for parent, score in zip(tuning, test_rmse, strict=True):
        _check_payoff(run, parent, score)

    # the same seed gives the same study to the last digit: every trial, the best params, test_rmse
    first, second = tuning
    assert [c.data.params for c in trials[0]] == [c.data.params for c in trials[1]]
    assert [c.data.metrics for c in trials[0]] == [c.data.metrics for c in trials[1]]
    best_params = [{k: v for k, v in p.data.params.items() if k.startswith("best_")} for p in tuning]
    assert best_params[0] == best_params[1]
    assert first.data.metrics == second.data.metrics  # best_val_rmse, best_iteration, the curve, ...

    # finding the model by its tag picks one run deterministically: the newest, i.e. the second execution's
    tagged = run.client.search_runs(
        [run.experiment().experiment_id],
        filter_string="tags.best_model = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    assert [r.info.run_id for r in tagged] == [second.info.run_id]
    assert run.headline() == f"test_rmse = {test_rmse[1]:.4f}"
