"""Error metrics of the course: RMSE on the log-price scale and in US dollars."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def checked_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 arrays of one non-empty shape; ValueError otherwise."""
    true, pred = np.asarray(y_true, dtype="float64"), np.asarray(y_pred, dtype="float64")
    if true.shape != pred.shape or true.size == 0:
        raise ValueError(f"need two non-empty arrays of one shape, got {true.shape} and {pred.shape}")
    return true, pred


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error."""
    true, pred = checked_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((true - pred) ** 2)))


def dollar_rmse(log_true: ArrayLike, log_pred: ArrayLike) -> float:
    """RMSE in US dollars of predictions made on the log-price scale."""
    true, pred = checked_pair(log_true, log_pred)
    return rmse(np.exp(true), np.exp(pred))
