"""The course's splits as MLflow datasets: a name, a digest and a schema that a run records as an input."""

from __future__ import annotations

import warnings

import mlflow.data
import pandas as pd
from mlflow.data.pandas_dataset import PandasDataset

from tutorial_utils.data import Splits

SOURCE = "data/diamonds.csv"  # the file every split comes from, relative to the course's root
PRICE = "price"  # the column the models predict (on the log scale)
CONTEXTS = {"train": "training", "val": "validation", "test": "test"}  # split -> the context a run logs it with


def split_dataset(frame: pd.DataFrame, split: str) -> PandasDataset:
    """One split (its raw columns, price included) as the MLflow dataset `diamonds-<split>`, target `price`."""
    if frame.empty:
        raise ValueError(f"split {split!r} has no rows: there is nothing to record as a dataset")
    with warnings.catch_warnings():
        # MLflow warns that the path "can be interpreted in multiple ways" (it registers its local-file source
        # twice), that `price` is an integer column, and about its own use of pandas: none of it is the learner's.
        # The schema is inferred here, once (MLflow caches it), so that `log_input` does not warn later.
        warnings.filterwarnings("ignore", module=r"mlflow\.")
        dataset = mlflow.data.from_pandas(frame, name=f"diamonds-{split}", targets=PRICE, source=SOURCE)
        if dataset.schema is None:
            raise ValueError(f"MLflow could not infer a schema for split {split!r}")
    return dataset


def split_datasets(splits: Splits) -> dict[str, PandasDataset]:
    """The train, val and test splits as MLflow datasets, keyed by split."""
    return {split: split_dataset(getattr(splits, split), split) for split in CONTEXTS}
