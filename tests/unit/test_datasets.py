"""The splits as MLflow datasets: named after their split, a digest that follows the content, no warnings."""

from __future__ import annotations

import warnings

import mlflow
import pandas as pd
import pytest

from tutorial_utils import load_splits, setup_tracking
from tutorial_utils.datasets import CONTEXTS, PRICE, split_dataset, split_datasets


@pytest.fixture(scope="module")
def splits():
    return load_splits()


def test_each_split_is_a_dataset_named_after_it_with_price_as_target(splits):
    datasets = split_datasets(splits)
    assert list(datasets) == list(CONTEXTS) == ["train", "val", "test"]
    for split, dataset in datasets.items():
        assert dataset.name == f"diamonds-{split}"
        assert dataset.targets == PRICE
        assert dataset.profile["num_rows"] == len(getattr(splits, split))


def test_the_digest_follows_the_content_not_the_call(splits):
    again = split_dataset(splits.val.copy(), "val")
    assert again.digest == split_datasets(splits)["val"].digest
    assert split_dataset(splits.val.iloc[1:], "val").digest != again.digest


def test_recording_a_split_warns_about_nothing(splits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split_dataset(splits.test, "test")


def test_an_empty_split_is_refused():
    with pytest.raises(ValueError, match="no rows"):
        split_dataset(pd.DataFrame(columns=["carat", PRICE]), "val")


def test_logging_a_split_as_a_run_input_warns_about_nothing(splits, fresh_store):
    setup_tracking("datasets-test")
    dataset = split_dataset(splits.val, "val")
    with warnings.catch_warnings(), mlflow.start_run():
        warnings.simplefilter("error")
        mlflow.log_input(dataset, context="validation")
