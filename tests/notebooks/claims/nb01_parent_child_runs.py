"""What notebook 01 claims: per execution, six flat runs; a parent per family holding one child per configuration
(one added later with parent_run_id); a failure demo whose bad child alone FAILED; a FINISHED "forgotten" run; a
sweep parent with N_SWEEP children; the same numbers for flat runs, children and both executions. The exercise
solutions add a third family and a three-level session, FINISHED, named `exercise-...`."""

from __future__ import annotations

from mlflow.entities import Run

from notebook_runs import NotebookRun, printed_text

PARENT_TAG = "mlflow.parentRunId"
EXERCISE_PREFIX = "exercise-"


def _children(runs: list[Run], parent: Run) -> list[Run]:
    """The child runs of `parent`, in the order they were started."""
    return [r for r in runs if r.data.tags.get(PARENT_TAG) == parent.info.run_id]


def _named(runs: list[Run], name: str, executions: int = 2) -> list[Run]:
    """The top-level runs called `name`, one per execution, oldest first."""
    found = [r for r in runs if r.info.run_name == name and PARENT_TAG not in r.data.tags]
    assert len(found) == executions, f"expected {executions} top-level runs {name!r}, found {len(found)}"
    return found


def _check_family(runs: list[Run], parent: Run, family: str, param: str, values: list) -> dict[str, float]:
    """A family parent: its shared settings, one FINISHED child per value with that value and a val_rmse."""
    assert parent.info.status == "FINISHED"
    assert parent.data.params["model"] == family and param not in parent.data.params
    children = _children(runs, parent)
    assert [c.info.run_name for c in children] == [f"{family}-{param}-{value}" for value in values]
    for child, value in zip(children, values, strict=True):
        assert child.info.status == "FINISHED"
        assert child.data.params == {param: str(value)}
        assert 0.05 < child.data.metrics["val_rmse"] < 1.1
    return {c.info.run_name: c.data.metrics["val_rmse"] for c in children}


def _check_execution(run: NotebookRun, runs: list[Run], n: int) -> dict[str, float]:
    """One execution's runs; returns the val_rmse of every family child and sweep child by name."""
    params = run.parameters
    lasso, catboost = _named(runs, "lasso")[n], _named(runs, "catboost")[n]
    lasso_values = [*params["LASSO_ALPHAS"], params["LATE_ALPHA"]]
    results = _check_family(runs, lasso, "lasso", "alpha", lasso_values)
    results |= _check_family(runs, catboost, "catboost", "depth", params["CATBOOST_DEPTHS"])
    assert catboost.data.params["iterations"] == str(params["CATBOOST_ITERATIONS"])
    assert catboost.data.params["random_seed"] == str(params["SEED"])
    late = _children(runs, lasso)[-1]
    assert late.info.start_time > lasso.info.end_time, "the late child was added after its parent ended"

    # the flat runs of section 1 are the same configurations, with the same numbers, and no parent or children
    flat_names = set(results) - {late.info.run_name}
    flat = [r for r in runs if r.info.run_name in flat_names and PARENT_TAG not in r.data.tags]
    flat = flat[n * len(flat_names) : (n + 1) * len(flat_names)]
    assert sorted(r.info.run_name for r in flat) == sorted(flat_names)
    for flat_run in flat:
        assert flat_run.data.metrics["val_rmse"] == results[flat_run.info.run_name]
        assert not _children(runs, flat_run)

    demo = _named(runs, "failure-demo")[n]
    demo_children = _children(runs, demo)
    assert demo.info.status == "FINISHED"
    assert [c.data.params["depth"] for c in demo_children] == [str(d) for d in params["FAILURE_DEMO_DEPTHS"]]
    assert [c.info.status for c in demo_children] == ["FINISHED", "FAILED", "FINISHED"]
    assert ["val_rmse" in c.data.metrics for c in demo_children] == [True, False, True]

    forgotten = _named(runs, "forgotten")[n]
    assert forgotten.info.status == "FINISHED" and not _children(runs, forgotten)

    sweep = _named(runs, "lasso-sweep")[n]
    sweep_children = _children(runs, sweep)
    assert sweep.data.params["n_alphas"] == str(params["N_SWEEP"]) == str(len(sweep_children))
    for child in sweep_children:
        assert child.info.status == "FINISHED"
        assert set(child.data.params) == {"alpha"}
        assert 0 <= child.data.metrics["n_features"] <= 9 and 0.1 < child.data.metrics["val_rmse"] < 1.1
    assert sweep_children[0].data.metrics["n_features"] == 0 and sweep_children[-1].data.metrics["n_features"] == 9
    return results | {f"sweep/{c.info.run_name}": c.data.metrics["val_rmse"] for c in sweep_children}


def _check_exercises(run: NotebookRun, exercise: list[Run]) -> None:
    """Per execution: a third family of three children, and a session -> family -> configuration tree."""
    assert {r.info.status for r in exercise} == {"FINISHED"}
    for l2_parent in _named(exercise, "exercise-catboost-l2"):
        children = _children(exercise, l2_parent)
        assert [set(c.data.params) for c in children] == [{"l2_leaf_reg"}] * 3
        assert l2_parent.data.params["depth"] == "6"
    for session in _named(exercise, "exercise-session"):
        families = _children(exercise, session)
        assert [f.info.run_name for f in families] == ["exercise-lasso", "exercise-catboost"]
        grandchildren = [len(_children(exercise, family)) for family in families]
        assert grandchildren == [len(run.parameters["LASSO_ALPHAS"]), 2]
    assert len(exercise) == 2 * (4 + 3 + grandchildren[0] + grandchildren[1])


def check(run: NotebookRun) -> None:
    everything = run.runs()  # oldest first
    runs = [r for r in everything if not r.info.run_name.startswith(EXERCISE_PREFIX)]
    _check_exercises(run, [r for r in everything if r.info.run_name.startswith(EXERCISE_PREFIX)])
    assert {r.info.status for r in runs} <= {"FINISHED", "FAILED"}
    assert [r.info.status for r in runs].count("FAILED") == 2, "only the failure demo's bad child fails"
    assert not [r for r in runs if r.info.run_name == "next"], "the second start_run of the trap made no run"
    configs = len(run.parameters["LASSO_ALPHAS"]) + len(run.parameters["CATBOOST_DEPTHS"])
    top_level = configs + 4 + 1  # flat runs; parents lasso, catboost, failure-demo, lasso-sweep; forgotten
    children = configs + 1 + len(run.parameters["FAILURE_DEMO_DEPTHS"]) + run.parameters["N_SWEEP"]
    assert len(runs) == 2 * (top_level + children)
    first, second = (_check_execution(run, runs, n) for n in (0, 1))
    assert first == second, "the same parameters give the same numbers on every execution"

    catboost_best = min(v for name, v in second.items() if name.startswith("catboost-depth-"))
    assert run.headline() == f"best CatBoost child val_rmse = {catboost_best:.4f}"
    for execution in run.executions:
        printed = printed_text(execution)
        assert "depth 20 failed: Maximum tree depth is 16" in printed
        assert "Run with UUID <run id> is already active" in printed
        assert "after mlflow.end_run(): None" in printed
