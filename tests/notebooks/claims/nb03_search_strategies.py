"""What notebook 03 claims: a parent run per objective x strategy x seed with N_TRIALS child runs, a summary
run holding the figures, and printed tables that are what the store holds; the many-seed and five-dimension
statistics logged as printed, with one metric per strategy; the same on both executions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.entities import Run

from notebook_runs import NotebookRun, printed_text, running_best
from tutorial_utils.search_strategies import BRANIN_MINIMUM, trials_to_within

OBJECTIVES = ["branin", "catboost"]
STRATEGIES = ["grid", "random", "tpe"]
ALL_STRATEGIES = ["grid", "random", "sobol", "tpe"]
#: How the notebook reads each objective's trials: Branin against its known minimum, CatBoost against the best found.
TARGETS = {"branin": {"tolerances": (0.1, 0.5), "target": BRANIN_MINIMUM}, "catboost": {}}
#: The statistics of sections 2b and 2c, logged as text files under tables/ of the summary run.
STATISTICS = ["branin_many_seeds_trials_to_within", "branin_many_seeds_gaps", "five_dims_gaps"]
FIGURES = {
    "figures/bayes_opt.gif",
    "figures/bo_steps.png",
    "figures/branin_comparison.png",
    "figures/branin_seeds.png",
    "figures/branin_many_seeds.png",
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
            table = trials_to_within(_trials(own, children), **TARGETS[objective]).to_string()
            assert table in printed, f"the {objective} table printed is not the one the store holds:\n{table}"
            logged = run.client.download_artifacts(summary.info.run_id, f"tables/{objective}_trials_to_within.txt")
            assert Path(logged).read_text() == table
        for name in STATISTICS:
            logged = Path(run.client.download_artifacts(summary.info.run_id, f"tables/{name}.txt")).read_text()
            assert logged in printed, f"{name} as logged is not what the notebook printed"
        for prefix, name in (("branin_many_seeds", "branin_many_seeds_gaps"), ("five_dims", "five_dims_gaps")):
            logged = Path(run.client.download_artifacts(summary.info.run_id, f"tables/{name}.txt")).read_text()
            rows = {line.split()[0]: line.split() for line in logged.splitlines()[2:]}
            assert list(rows) == ALL_STRATEGIES
            for strategy, row in rows.items():
                assert row[1] == str(params["N_BRANIN_SEEDS"])  # every strategy ran on every seed
                assert summary.data.metrics[f"{prefix}_{strategy}_median_best"] == float(row[2])
    first_summary, second_summary = (run.client.download_artifacts(s.info.run_id, "tables") for s in summaries)
    for name in STATISTICS:  # the unlogged studies are seeded too: both executions printed the same statistics
        assert (Path(first_summary) / f"{name}.txt").read_text() == (Path(second_summary) / f"{name}.txt").read_text()
    catboost = [p for p in second if p.data.params["objective"] == "catboost"]
    tpe_best = trials_to_within(_trials(catboost, children))
    assert run.headline() == (f"CatBoost val_rmse, median best of TPE = {tpe_best.loc['tpe', 'median best value']:.4f}")
