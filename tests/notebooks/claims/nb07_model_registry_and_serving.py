"""What notebook 07 claims, on a fresh store (so on its fallback path: 04's `catboost-tuned` is not there, and it
trains `catboost-small`): per execution one CatBoost and one LASSO challenger, each in a run of its own and
registered as a version of `diamonds-price` with its description and tags; the alias `champion` on the newest
CatBoost version, the better model on validation; the challenger rejected, the decision recorded in a run; 04's tag
left only on the CatBoost runs; the scoring server answering 200 and 400 as printed, and no server left running.
"""

from __future__ import annotations

import numpy as np
import psutil
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion

from notebook_runs import NotebookRun, input_contexts, printed_text
from tutorial_utils import catboost_features, load_splits

MODEL_NAME = "diamonds-price"
RUN_NAMES = ["catboost-small", "lasso-challenger", "champion-decision"]
SERVED = ["input example: HTTP 200", "no carat column: HTTP 400", "carat as text: HTTP 400"]


def _versions(run: NotebookRun) -> list[ModelVersion]:
    """Every version of the registered model, oldest first."""
    found = run.client.search_model_versions(f"name = '{MODEL_NAME}'")
    return sorted(found, key=lambda v: int(v.version))


def _model_id(version: ModelVersion) -> str:
    assert version.source.startswith("models:/m-"), f"version {version.version} should point at a logged model"
    return version.source.removeprefix("models:/")


def _val_rmse(run: NotebookRun, version: ModelVersion) -> float:
    model = run.client.get_logged_model(_model_id(version))
    return next(m.value for m in model.metrics if m.key == "val_rmse")


def _check_runs(runs: list[Run]) -> dict[str, list[Run]]:
    """Two executions, each: the small CatBoost, the challenger, the decision; all finished, datasets recorded."""
    by_name = {name: [r for r in runs if r.info.run_name == name] for name in RUN_NAMES}
    assert sorted(r.info.run_name for r in runs) == sorted(RUN_NAMES * 2)
    assert {r.info.status for r in runs} == {"FINISHED"}
    for name in ("catboost-small", "lasso-challenger"):
        assert [input_contexts(r) for r in by_name[name]] == [{"training", "validation"}] * 2
        assert by_name[name][0].data.metrics == by_name[name][1].data.metrics  # the same model, twice
    # 04's tag: on the CatBoost runs (as 04 tags its study); the colleague's tag of the demonstration was removed
    assert [r.data.tags.get("best_model") for r in by_name["catboost-small"]] == ["true", "true"]
    assert [r.data.tags.get("best_model") for r in by_name["lasso-challenger"]] == [None, None]
    return by_name


def _check_registry(run: NotebookRun, by_name: dict[str, list[Run]]) -> ModelVersion:
    """The registered model, its four versions, their tags, and the alias. Returns the champion's version."""
    registered = run.client.get_registered_model(MODEL_NAME)
    assert registered.description.startswith("Predicts log(price in US dollars)")
    assert registered.tags == {"target": "log_price", "task": "regression", "course_notebook": "07"}
    versions = _versions(run)
    assert [int(v.version) for v in versions] == [1, 2, 3, 4]  # numbered in order, never reused
    assert {v.status for v in versions} == {"READY"}
    assert [v.tags["family"] for v in versions] == ["catboost", "lasso"] * 2
    assert [v.tags["validation_status"] for v in versions] == ["approved", "rejected"] * 2
    names = [run.client.get_logged_model(_model_id(v)).name for v in versions]
    assert names == ["catboost-small", "lasso-challenger"] * 2
    assert [v.tags["logged_model"] for v in versions] == names
    assert all(v.description.endswith(name) for v, name in zip(versions, names, strict=True))
    # each version points at the model its execution logged, and records that model's run
    expected_runs = [by_name[name][n // 2].info.run_id for n, name in enumerate(names)]
    assert [v.run_id for v in versions] == expected_runs
    assert [run.client.get_logged_model(_model_id(v)).source_run_id for v in versions] == expected_runs

    # one alias, `champion`, on the second execution's CatBoost version (the exercise's `challenger` was deleted)
    assert {alias: int(version) for alias, version in registered.aliases.items()} == {"champion": 3}
    champion = run.client.get_model_version_by_alias(MODEL_NAME, "champion")
    assert int(champion.version) == 3 and champion.aliases == ["champion"]
    assert _val_rmse(run, champion) < _val_rmse(run, versions[3]), "the alias sits on the better model"
    return champion


def _check_decisions(run: NotebookRun, decisions: list[Run], champion_val_rmse: float) -> None:
    for decision in decisions:
        assert decision.data.params == {
            "champion": "catboost-small",
            "challenger": "lasso-challenger",
            "promoted": "False",
        }
        assert decision.data.metrics["champion_val_rmse"] == champion_val_rmse
        assert decision.data.metrics["challenger_val_rmse"] > champion_val_rmse
        assert input_contexts(decision) == {"validation"}
    assert run.headline() == f"champion val_rmse = {champion_val_rmse:.4f}"


def _server_processes(run: NotebookRun) -> list[psutil.Process]:
    """Processes still running that serve a model from this run's store (the `mlflow` CLI or its uvicorn)."""
    left = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            command = " ".join(process.info["cmdline"] or [])
            if "scoring_server" not in command and "models serve" not in command:
                continue
            if str(run.store) in " ".join(process.environ().values()):
                left.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return left


def check(run: NotebookRun) -> None:
    by_name = _check_runs(run.runs())
    champion = _check_registry(run, by_name)
    champion_val_rmse = _val_rmse(run, champion)
    assert 0.05 < champion_val_rmse < 0.2
    _check_decisions(run, by_name["champion-decision"], champion_val_rmse)

    # models:/diamonds-price@champion loads the newest CatBoost model and predicts as it does
    import mlflow  # the test sets the tracking URI of this store for mlflow.* calls

    rows = catboost_features(load_splits().val.head(5))
    by_alias = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion").predict(rows)
    logged = mlflow.pyfunc.load_model(f"models:/{_model_id(champion)}").predict(rows)
    assert np.array_equal(by_alias, logged)

    # the scoring server answered as the notebook prints, on both executions, and stopped
    for execution in run.executions:
        text = printed_text(execution)
        for line in SERVED:
            assert line in text, f"the notebook should print {line!r}"
        assert "Model is missing inputs ['carat']" in text
        assert "Failed to convert column carat to type 'float64'" in text
        assert "the server has stopped: True" in text
        assert "warns: ['FutureWarning: ``mlflow.models.utils.validate_serving_input`` is deprecated" in text
    assert _server_processes(run) == [], "no scoring server may outlive the notebook"
