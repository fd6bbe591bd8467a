"""What notebook 03 claims: a parent run per objective x strategy x seed with N_TRIALS child runs, a summary
run holding the figures, and printed tables that are what the store holds; the same on both executions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.entities import Run

from notebook_runs import NotebookRun, printed_text, running_best
from tutorial_utils.search_strategies import trials_to_within

OBJECTIVES = ["branin", "catboost"]
STRATEGIES = ["grid", "random", "tpe"]
FIGURES = {
    "figures/bayes_opt.gif",
    "figures/bo_steps.png",
    "figures/branin_comparison.png",
    "figures/branin_seeds.png",
    "figures/catboost_comparison.png",
    "figures/catboost_seeds.png",
}


def _trials(parents: list[Run], children: dict[str, list[Run]]) -> pd.DataFrame:
    """The trials of one objective as the store holds them: strategy, seed, trial number, value."""
    return pd.DataFrame(
        [
            {
                "strategy": parent.data.params["strategy"],
                "seed": int(parent.data.params["seed"]),
                "trial": int(child.info.run_name.removeprefix("trial-")) + 1,
                "value": child.data.metrics["value"],
            }
            for parent in parents
            for child in children[parent.info.run_id]
        ]
    )


def check(run: NotebookRun) -> None:
    params = run.parameters
    n_trials, seeds = params["N_TRIALS"], [params["SEED"] + i for i in range(params["N_SEEDS"])]
    runs = run.runs()
    assert {r.info.status for r in runs} == {"FINISHED"}
    children: dict[str, list[Run]] = {}
    for r in runs:
        if parent_id := r.data.tags.get("mlflow.parentRunId"):
            children.setdefault(parent_id, []).append(r)
    tops = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]

    # one parent per objective x strategy x seed and execution, each with N_TRIALS finished children
    expected = sorted(f"{o}-{s}-seed{seed}" for o in OBJECTIVES for s in STRATEGIES for seed in seeds) * 2
    parents = [r for r in tops if r.info.run_name != "summary"]
    assert sorted(r.info.run_name for r in parents) == sorted(expected)
    for parent in parents:
        trials = children.get(parent.info.run_id, [])
        assert len(trials) == n_trials, f"{parent.info.run_name} has {len(trials)} children, not {n_trials}"
        assert sorted(t.info.run_name for t in trials) == [f"trial-{n:03d}" for n in range(n_trials)]
        assert parent.data.metrics["best_value"] == min(t.data.metrics["value"] for t in trials)
        # the running best, one step per trial, as the UI draws it
        trial_values = [t.data.metrics["value"] for t in sorted(trials, key=lambda t: t.info.run_name)]
        assert run.history(parent.info.run_id, "best_value") == running_best(trial_values)
    assert len(runs) == len(parents) * (n_trials + 1) + 2

    # both executions found exactly the same values
    def values(execution: list[Run]) -> dict[str, list[float]]:
        return {
            p.info.run_name: [
                t.data.metrics["value"] for t in sorted(children[p.info.run_id], key=lambda t: t.info.run_name)
            ]
            for p in execution
        }

    half = len(parents) // 2
    first, second = parents[:half], parents[half:]
    assert values(first) == values(second)

    # the summary runs hold the figures and the tables, and the tables are what the store's children say
    summaries = [r for r in tops if r.info.run_name == "summary"]
    assert len(summaries) == 2
    for summary, notebook in zip(summaries, run.executions, strict=True):
        artifacts = {a.path for a in run.client.list_artifacts(summary.info.run_id, "figures")}
        assert artifacts == FIGURES, artifacts
        printed = printed_text(notebook)
        for objective in OBJECTIVES:
            own = [p for p in second if p.data.params["objective"] == objective]
            table = trials_to_within(_trials(own, children)).to_string()
            assert table in printed, f"the {objective} table printed is not the one the store holds:\n{table}"
            logged = run.client.download_artifacts(summary.info.run_id, f"tables/{objective}_trials_to_within.txt")
            assert Path(logged).read_text() == table
    tpe_best = trials_to_within(_trials([p for p in second if p.data.params["objective"] == "catboost"], children))
    assert run.headline() == (f"CatBoost val_rmse, median best of TPE = {tpe_best.loc['tpe', 'median best value']:.4f}")
