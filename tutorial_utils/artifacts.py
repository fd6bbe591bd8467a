"""Plumbing of notebook 05: signatures as tables, predict outcomes without noise, and the run's artifacts.

The MLflow calls the notebook teaches (`infer_signature`, `log_model`, `log_artifact`, `download_artifacts`,
`pyfunc.load_model`) stay in the notebook; these helpers only display, trim and plot.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec

from tutorial_utils.data import CLEANING_RULE
from tutorial_utils.metrics import checked_pair
from tutorial_utils.plots import draw_predicted_vs_actual

#: Longest message `_trim_message` keeps.
MAX_MESSAGE_CHARS = 160
_PATH = re.compile(r"(?:file://)?(?:/[\w.@+-]+){2,}/?")
_URL = re.compile(r"<?https?://[^\s>]+>?")


def signature_table(signature: ModelSignature | None) -> pd.DataFrame:
    """The input columns of a signature as a table: name, MLflow type, required (one row per column).

    Raises ValueError when there is no signature or its inputs are tensors rather than named columns.
    """
    if signature is None or signature.inputs is None:
        raise ValueError("the model has no input signature: log it with signature=infer_signature(X, y)")
    specs = signature.inputs.inputs
    if not all(isinstance(spec, ColSpec) and spec.name for spec in specs):
        raise ValueError("the signature's inputs are not named columns (a tensor signature?)")
    rows = [{"column": s.name, "type": s.type.name, "required": s.required} for s in specs]
    return pd.DataFrame(rows).set_index("column")


def _trim_message(text: str, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """An MLflow message cut to what matters: the part after its last `Error: `, first line, no paths or URLs.

    Schema errors repeat the whole input frame and schema before the reason; only the reason is kept.
    """
    if max_chars < 10:
        raise ValueError(f"max_chars must be at least 10, got {max_chars}")
    reason = text.rsplit("Error: ", 1)[-1].strip()
    reason = next((line.strip() for line in reason.splitlines() if line.strip()), "")
    reason = _PATH.sub("<path>", _URL.sub("", reason))
    return reason if len(reason) <= max_chars else reason[: max_chars - 3].rstrip() + "..."


@dataclass
class CapturedWarning:
    """A warning raised while a call ran: a Python warning (its category) or an MLflow log record."""

    source: str
    message: str


@contextmanager
def capture_warnings() -> Iterator[list[CapturedWarning]]:
    """Collect Python warnings and MLflow's WARNING log records (instead of printing them to stderr).

    MLflow reports some things as Python warnings and others through its `mlflow` logger, whose lines carry a
    timestamp; both are collected, in order, as `CapturedWarning`s with trimmed messages.
    """
    captured: list[CapturedWarning] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(CapturedWarning(f"log {record.levelname}", _trim_message(record.getMessage())))

    logger = logging.getLogger("mlflow")
    saved_handlers, saved_propagate = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [_Collect(level=logging.WARNING)], False
    try:
        with warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter("always")
            yield captured
    finally:
        logger.handlers, logger.propagate = saved_handlers, saved_propagate
        captured.extend(CapturedWarning(w.category.__name__, _trim_message(str(w.message))) for w in raised)


@dataclass
class Outcome:
    """What one call did: its result (None if it raised), the exception's type and reason, the warnings."""

    result: Any = None
    error: str = ""
    warnings: list[CapturedWarning] = field(default_factory=list)

    def __str__(self) -> str:
        if self.error:
            lines = [f"REJECTED  {self.error}"]
        else:
            values = np.round(np.asarray(self.result, dtype="float64"), 4).tolist()
            lines = [f"ACCEPTED  predictions {values}"]
        lines += [f"  warning ({w.source}): {w.message}" for w in self.warnings]
        return "\n".join(lines)


def attempt(call: Callable[[], Any]) -> Outcome:
    """Run `call()` and report what happened, path-free: accepted with a result, or rejected with a reason.

    Any `Exception` is caught and reported as `ExceptionType: trimmed reason`; warnings are captured.
    """
    if not callable(call):
        raise TypeError(f"attempt needs a function of no arguments, e.g. lambda: model.predict(X); got {call!r}")
    with capture_warnings() as captured:
        try:
            outcome = Outcome(result=call())
        except Exception as error:  # noqa: BLE001 - reporting any rejection is the point
            outcome = Outcome(error=f"{type(error).__name__}: {_trim_message(str(error))}")
    outcome.warnings = captured
    return outcome


def data_card(features: pd.DataFrame, sizes: pd.Series, checksum: str) -> dict[str, Any]:
    """What a model was trained on, for `mlflow.log_dict`: features and dtypes, the cleaning rule, split sizes,
    data checksum."""
    if features.columns.empty:
        raise ValueError("the feature frame has no columns")
    if not re.fullmatch(r"[0-9a-f]{64}", checksum):
        raise ValueError(f"checksum should be a hex SHA-256 (64 characters), got {checksum!r}")
    return {
        "features": {name: str(dtype) for name, dtype in features.dtypes.items()},
        "cleaning": CLEANING_RULE,
        "split_sizes": {str(name): int(size) for name, size in sizes.items()},
        "data_sha256": checksum,
    }


def read_json(path: str | Path) -> Any:
    """The content of a downloaded JSON artifact; FileNotFoundError or ValueError (not JSON) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no artifact file at {path.name!r}: was it downloaded?")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name} is not JSON: {error}") from error


#: The `MLmodel` keys whose values change with every execution or machine, and what is shown instead.
MLMODEL_BLANKS = {
    "artifact_path": "<the model's folder in the store>",
    "model_id": "<model id>",
    "model_uuid": "<model id>",
    "run_id": "<run id>",
    "utc_time_created": "<creation time>",
}


def mlmodel_text(model_dir: str | Path) -> str:
    """A downloaded model's whole `MLmodel` file as YAML text, its ids, folder and creation time blanked."""
    mlmodel = Path(model_dir) / "MLmodel"
    if not mlmodel.is_file():
        raise FileNotFoundError(f"no MLmodel file in the model folder {Path(model_dir).name!r}")
    content = yaml.safe_load(mlmodel.read_text())
    blanked = {key: MLMODEL_BLANKS.get(key, value) for key, value in content.items()}
    return yaml.safe_dump(blanked, sort_keys=False, width=100).rstrip()


def parse_predictions(stdout: str) -> list[float]:
    """The predictions `mlflow models predict` printed (`{"predictions": [...]}`, on the last JSON line)."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            answer = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(answer, dict) and "predictions" in answer:
            return [float(value) for value in answer["predictions"]]
        if isinstance(answer, list):
            return [float(value) for value in answer]
    raise ValueError(f"no predictions in the output: {stdout.strip()[-200:]!r}")


def plot_residuals(y_true: pd.Series | np.ndarray, y_pred: np.ndarray, title: str = "") -> Figure:
    """Predicted against actual (with the ideal diagonal) and residuals against predicted, side by side."""
    true, pred = checked_pair(y_true, y_pred)
    residuals = true - pred
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    scatter_ax, residual_ax = fig.subplots(1, 2)
    draw_predicted_vs_actual(scatter_ax, true, pred, title="predicted vs actual")
    residual_ax.scatter(pred, residuals, s=2, alpha=0.3, color="tab:orange")
    residual_ax.axhline(0, color="black", linewidth=1)
    residual_ax.set(title="residuals", xlabel="predicted log(price)", ylabel="actual - predicted")
    if title:
        fig.suptitle(title)
    return fig
