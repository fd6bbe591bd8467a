"""Plumbing for the MLflow course notebooks: data, tracking set-up, metrics, figures and notebook running.

The MLflow, Optuna and CatBoost calls the course teaches stay in the notebooks; this package holds the rest.
"""

from tutorial_utils.data import (
    CATEGORICAL_FEATURES,
    FEATURES,
    TARGET,
    DataFileError,
    Splits,
    catboost_features,
    clean_diamonds,
    implausible_rows,
    linear_features,
    load_diamonds,
    load_splits,
    log_price,
    split_diamonds,
)
from tutorial_utils.environment import check_environment
from tutorial_utils.exercises import check_answer, check_exercise
from tutorial_utils.metrics import dollar_rmse, rmse
from tutorial_utils.model_requirements import model_requirements
from tutorial_utils.plots import plot_data_tour, plot_predictions
from tutorial_utils.tracking import (
    ExperimentNotYours,
    ModelNotYours,
    TrackingLoginRejected,
    TrackingServerUnavailable,
    check_can_register,
    connection_check,
    setup_tracking,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURES",
    "TARGET",
    "DataFileError",
    "ExperimentNotYours",
    "ModelNotYours",
    "Splits",
    "TrackingLoginRejected",
    "TrackingServerUnavailable",
    "catboost_features",
    "check_answer",
    "check_can_register",
    "check_environment",
    "check_exercise",
    "clean_diamonds",
    "connection_check",
    "dollar_rmse",
    "implausible_rows",
    "linear_features",
    "load_diamonds",
    "load_splits",
    "log_price",
    "model_requirements",
    "plot_data_tour",
    "plot_predictions",
    "rmse",
    "setup_tracking",
    "split_diamonds",
]
