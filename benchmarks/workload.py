"""Notebook 04's tuning workload, for the benchmarks: its knobs (read from its `parameters` cell, not executed), its
data, and objectives built on the course's one search space and CatBoost model (`tutorial_utils.tuning`).

The benchmarks never execute notebook cells as a library: a refactor of the notebooks' code cannot break them. What
they share with the notebooks is the package (`suggest_catboost_params`, `catboost_regressor`) and the knobs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import optuna
from catboost import CatBoostRegressor
from mlflow.data.pandas_dataset import PandasDataset

from course_tools.notebooks import read_parameters
from tutorial_utils.data import catboost_features, load_splits, log_price
from tutorial_utils.datasets import split_datasets
from tutorial_utils.metrics import rmse
from tutorial_utils.paths import NOTEBOOKS_DIR
from tutorial_utils.tuning import catboost_regressor, suggest_catboost_params

STUDY_NOTEBOOK = NOTEBOOKS_DIR / "04_optuna_catboost_tuning.ipynb"


def notebook_knobs(path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The defaults of a notebook's `parameters` cell, with `overrides` applied as papermill would.

    Raises ValueError for an override the parameters cell does not define.
    """
    knobs = {name: parameter.default for name, parameter in read_parameters(path).items()}
    unknown = set(overrides or {}) - set(knobs)
    if unknown:
        raise ValueError(f"{path.name}: unknown parameter(s) {sorted(unknown)}; the parameters cell defines them all")
    return knobs | (overrides or {})


@dataclass
class TuningWorkload:
    """Notebook 04's knobs, its training and validation data and their MLflow datasets; `fit_seconds` collects the
    time of every fit."""

    knobs: dict[str, Any]
    X_train: Any
    y_train: Any
    X_val: Any
    y_val: Any
    datasets: dict[str, PandasDataset]
    fit_seconds: list[float] = field(default_factory=list)

    def train(self, params: dict[str, Any], iterations: int, thread_count: int | None = None) -> CatBoostRegressor:
        """Fit the course's CatBoost model on the training split, timed into `fit_seconds`."""
        threads = self.knobs["THREAD_COUNT"] if thread_count is None else thread_count
        model = catboost_regressor(params, iterations, seed=self.knobs["SEED"], thread_count=threads)
        start = time.perf_counter()
        try:
            return model.fit(self.X_train, self.y_train)
        finally:
            self.fit_seconds.append(time.perf_counter() - start)

    def score(self, trial: optuna.Trial, iterations: int | None = None, thread_count: int | None = None) -> float:
        """The objective without any tracking: suggest, fit (`TUNING_ITERATIONS` trees by default), validation RMSE."""
        model = self.train(suggest_catboost_params(trial), iterations or self.knobs["TUNING_ITERATIONS"], thread_count)
        return rmse(self.y_val, model.predict(self.X_val))

    def trial_params(self, trial: optuna.Trial) -> dict[str, Any]:
        """What notebook 04 logs on each child run: the sampled values and three fixed entries."""
        extra = {"iterations": self.knobs["TUNING_ITERATIONS"], "trial_number": trial.number}
        return {**suggest_catboost_params(trial), **extra, "sampler_seed": self.knobs["SEED"]}

    def tracked_objective(self, trial: optuna.Trial) -> float:
        """The course's child run per trial, as notebook 04 logs it: its two datasets, one `log_params` call, one
        `log_metrics` call linked to the validation dataset."""
        with mlflow.start_run(run_name=f"trial-{trial.number:02d}", nested=True):
            mlflow.log_input(self.datasets["train"], context="training")
            mlflow.log_input(self.datasets["val"], context="validation")
            mlflow.log_params(self.trial_params(trial))
            value = self.score(trial)  # Optuna hands the trial's values back unchanged
            mlflow.log_metrics({"val_rmse": value}, dataset=self.datasets["val"])
        return value


def load_workload(overrides: dict[str, Any] | None = None) -> TuningWorkload:
    """Notebook 04's workload with its knobs (and `overrides`) and the course's data splits."""
    splits = load_splits()
    return TuningWorkload(
        notebook_knobs(STUDY_NOTEBOOK, overrides),
        catboost_features(splits.train),
        log_price(splits.train),
        catboost_features(splits.val),
        log_price(splits.val),
        split_datasets(splits),
    )
