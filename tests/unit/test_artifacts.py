import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from mlflow.models import infer_signature
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import Schema, TensorSpec

from tutorial_utils import artifacts
from tutorial_utils.data import CLEANING_RULE


def test_signature_table_lists_each_column_with_its_type():
    frame = pd.DataFrame({"carat": [0.3, 0.4], "cut": [1, 2]})
    with pytest.warns(UserWarning, match="integer column"):
        table = artifacts.signature_table(infer_signature(frame, np.array([1.0, 2.0])))
    assert list(table.index) == ["carat", "cut"]
    assert table["type"].tolist() == ["double", "long"]
    assert table["required"].tolist() == [True, True]


def test_signature_table_rejects_no_signature_and_tensor_inputs():
    with pytest.raises(ValueError, match="no input signature"):
        artifacts.signature_table(None)
    tensor = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float64"), (-1, 3))]))
    with pytest.raises(ValueError, match="not named columns"):
        artifacts.signature_table(tensor)


def test_trim_message_keeps_the_reason_without_paths_or_urls():
    text = "Failed to enforce schema of data '   a\n0  1.0' with schema '[...]'. Error: Model is missing inputs ['a']."
    assert artifacts._trim_message(text) == "Model is missing inputs ['a']."
    assert artifacts._trim_message("cannot open /home/me/x/model.skops now") == "cannot open <path> now"
    assert "http" not in artifacts._trim_message("See <https://mlflow.org/docs/x.html> for more")
    long = artifacts._trim_message("word " * 100, max_chars=40)
    assert len(long) <= 40 and long.endswith("...")


def test_trim_message_rejects_a_tiny_limit():
    with pytest.raises(ValueError, match="at least 10"):
        artifacts._trim_message("anything", max_chars=3)


def test_capture_warnings_collects_python_warnings_and_mlflow_log_records(capsys):
    logger = logging.getLogger("mlflow.models.utils")
    handlers_before = logging.getLogger("mlflow").handlers[:]
    with artifacts.capture_warnings() as captured:
        warnings.warn("careful", UserWarning, stacklevel=1)
        logger.warning("Found extra inputs: `['owner']`. These inputs will be ignored.")
        logger.info("chatter")
    assert [(w.source, w.message) for w in captured] == [
        ("log WARNING", "Found extra inputs: `['owner']`. These inputs will be ignored."),
        ("UserWarning", "careful"),
    ]
    assert logging.getLogger("mlflow").handlers == handlers_before
    assert "Found extra inputs" not in capsys.readouterr().err


def test_attempt_reports_a_result_or_the_trimmed_reason():
    accepted = artifacts.attempt(lambda: np.array([1.23456, 2.0]))
    assert str(accepted) == "ACCEPTED  predictions [1.2346, 2.0]"

    def fail():
        warnings.warn("first", UserWarning, stacklevel=1)
        raise ValueError("Error: column 'x' is missing")

    rejected = artifacts.attempt(fail)
    assert rejected.result is None
    assert str(rejected) == "REJECTED  ValueError: column 'x' is missing\n  warning (UserWarning): first"


def test_attempt_needs_a_function():
    with pytest.raises(TypeError, match="lambda"):
        artifacts.attempt(np.array([1.0]))


def test_data_card_lists_features_cleaning_sizes_and_checksum():
    card = artifacts.data_card(pd.DataFrame({"carat": [0.3]}), pd.Series({"train": np.int64(3), "val": 1}), "ab" * 32)
    assert card == {
        "features": {"carat": "float64"},
        "cleaning": CLEANING_RULE,
        "split_sizes": {"train": 3, "val": 1},
        "data_sha256": "ab" * 32,
    }
    assert "20 mm" in CLEANING_RULE
    json.dumps(card)  # log_dict needs plain types


def test_data_card_rejects_bad_input():
    with pytest.raises(ValueError, match="no columns"):
        artifacts.data_card(pd.DataFrame(), pd.Series(dtype="int64"), "ab" * 32)
    with pytest.raises(ValueError, match="SHA-256"):
        artifacts.data_card(pd.DataFrame({"a": [1.0]}), pd.Series({"train": 1}), "not-a-digest")


def test_read_json_reads_an_artifact_and_rejects_missing_or_bad_files(tmp_path):
    good, bad = tmp_path / "card.json", tmp_path / "bad.json"
    good.write_text('{"a": 1}')
    bad.write_text("a: [")
    assert artifacts.read_json(good) == {"a": 1}
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        artifacts.read_json(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="not JSON"):
        artifacts.read_json(bad)


def test_mlmodel_text_shows_the_whole_file_with_ids_blanked(tmp_path):
    mlmodel = {"artifact_path": "/home/me/store/m-1", "flavors": {"sklearn": {"pickled_model": "model.skops"}}}
    mlmodel |= {"model_id": "m-1", "run_id": "abc", "signature": {"inputs": "[]"}, "utc_time_created": "2026"}
    (tmp_path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    text = artifacts.mlmodel_text(tmp_path)
    assert yaml.safe_load(text) == mlmodel | {
        "artifact_path": "<the model's folder in the store>",
        "model_id": "<model id>",
        "run_id": "<run id>",
        "utc_time_created": "<creation time>",
    }
    assert "/home/me" not in text and "abc" not in text
    with pytest.raises(FileNotFoundError, match="no MLmodel"):
        artifacts.mlmodel_text(tmp_path / "elsewhere")


def test_parse_predictions_reads_the_cli_answer():
    assert artifacts.parse_predictions('noise\n{"predictions": [1.5, 2]}\n') == [1.5, 2.0]
    assert artifacts.parse_predictions("[0.5]") == [0.5]
    with pytest.raises(ValueError, match="no predictions"):
        artifacts.parse_predictions("Traceback: it broke")


def test_plot_residuals_returns_a_two_panel_figure():
    fig = artifacts.plot_residuals(pd.Series([1.0, 2.0, 3.0]), np.array([1.1, 1.9, 3.2]), title="LASSO")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_title() == "residuals"


def test_plot_residuals_rejects_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="one shape"):
        artifacts.plot_residuals(np.array([1.0, 2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="non-empty"):
        artifacts.plot_residuals(np.array([]), np.array([]))
