"""The diamonds data set: checked loading, the cleaning rule, the fixed split and model-ready features."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tutorial_utils.paths import DATA_DIR

DIAMONDS_CSV = DATA_DIR / "diamonds.csv"
DIAMONDS_SHA256 = "9574730b03aba241d899c4a97511c5061b19358fab89510774fb6c24168345c4"
DIAMONDS_ROWS = 53_940

CUT_ORDER = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
COLOR_ORDER = ["J", "I", "H", "G", "F", "E", "D"]  # worst (J) to best (D)
CLARITY_ORDER = ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]  # worst to best

COLUMN_DTYPES: dict[str, object] = {
    "carat": "float64",
    "cut": pd.CategoricalDtype(CUT_ORDER, ordered=True),
    "color": pd.CategoricalDtype(COLOR_ORDER, ordered=True),
    "clarity": pd.CategoricalDtype(CLARITY_ORDER, ordered=True),
    "depth": "float64",
    "table": "float64",
    "price": "int64",
    "x": "float64",
    "y": "float64",
    "z": "float64",
}
CATEGORICAL_FEATURES = ["cut", "color", "clarity"]
FEATURES = ["carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z"]
TARGET = "log_price"

#: A diamond dimension above this many millimetres is a typing error (the largest genuine one is 10.74 mm).
MAX_DIMENSION_MM = 20.0
#: The one cleaning decision of the course, in words (for a data card: no dataset digest says it).
CLEANING_RULE = (
    f"rows whose x, y or z is 0 mm (not measured) or above {MAX_DIMENSION_MM:g} mm (a typing error) are dropped"
    " before splitting"
)
#: Seed of the one train/validation/test split every notebook shares.
SPLIT_SEED = 2024
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)

RESTORE_HINT = "Restore it with `git checkout -- data/diamonds.csv` (see data/README.md for its source)."


class DataFileError(RuntimeError):
    """The data file is missing, damaged or not the one the course ships."""


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_diamonds(path: Path = DIAMONDS_CSV, *, verify_checksum: bool = True) -> pd.DataFrame:
    """Read the diamonds CSV with explicit dtypes (cut, color, clarity as ordered categoricals), checked.

    Raises `DataFileError`, naming the file, what is wrong and how to restore it, when the file is
    missing, its checksum differs, or its columns, values or row count are not the expected ones.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: the data file is missing. {RESTORE_HINT}")
    if verify_checksum and (digest := file_sha256(path)) != DIAMONDS_SHA256:
        raise DataFileError(
            f"{path}: the file is damaged or changed (SHA-256 {digest[:12]}..., "
            f"expected {DIAMONDS_SHA256[:12]}...). {RESTORE_HINT}"
        )
    try:
        frame = pd.read_csv(path, dtype={name: "str" for name in CATEGORICAL_FEATURES})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise DataFileError(f"{path}: not a readable CSV file ({error}). {RESTORE_HINT}") from error
    return _with_schema(frame, path)


def _with_schema(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the columns and cast them to `COLUMN_DTYPES`, raising `DataFileError` on any mismatch."""
    if list(frame.columns) != list(COLUMN_DTYPES):
        raise DataFileError(
            f"{path}: unexpected columns {list(frame.columns)}; expected {list(COLUMN_DTYPES)}. {RESTORE_HINT}"
        )
    if len(frame) != DIAMONDS_ROWS:
        raise DataFileError(f"{path}: {len(frame)} rows, expected {DIAMONDS_ROWS}. {RESTORE_HINT}")
    for name, dtype in COLUMN_DTYPES.items():
        column = frame[name]
        allowed = dtype.categories if isinstance(dtype, pd.CategoricalDtype) else None
        bad = column[column.isna() | (~column.isin(allowed) if allowed is not None else False)]
        if not bad.empty:
            raise DataFileError(f"{path}: column {name!r} holds {bad.iloc[0]!r}, not a {dtype} value. {RESTORE_HINT}")
        try:
            frame[name] = column.astype(dtype)
        except (ValueError, TypeError) as error:
            raise DataFileError(f"{path}: column {name!r} is not {dtype} ({error}). {RESTORE_HINT}") from error
    return frame


def implausible_rows(frame: pd.DataFrame) -> pd.Series:
    """Mask of rows whose x, y or z is zero (not measured) or above `MAX_DIMENSION_MM` (a typing error)."""
    dimensions = frame[["x", "y", "z"]]
    return ((dimensions <= 0) | (dimensions > MAX_DIMENSION_MM)).any(axis=1)


def clean_diamonds(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows the course models: implausible ones dropped, index reset."""
    return frame.loc[~implausible_rows(frame)].reset_index(drop=True)


@dataclass(frozen=True)
class Splits:
    """The train, validation and test frames of one split."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> pd.Series:
        """Row count of each part."""
        return pd.Series({"train": len(self.train), "val": len(self.val), "test": len(self.test)}, name="rows")


def split_diamonds(frame: pd.DataFrame, seed: int = SPLIT_SEED) -> Splits:
    """A 60/20/20 train/validation/test split from one seeded permutation (same on every machine)."""
    if len(frame) < 5:
        raise ValueError(f"cannot split {len(frame)} rows into train, validation and test")
    order = np.random.default_rng(seed).permutation(len(frame))
    n_train = round(SPLIT_FRACTIONS[0] * len(frame))
    n_val = round(SPLIT_FRACTIONS[1] * len(frame))
    parts = np.split(order, [n_train, n_train + n_val])
    train, val, test = (frame.iloc[np.sort(part)].reset_index(drop=True) for part in parts)
    return Splits(train=train, val=val, test=test)


def load_splits(path: Path = DIAMONDS_CSV) -> Splits:
    """Load, clean and split the diamonds: what every notebook after 00 starts from."""
    return split_diamonds(clean_diamonds(load_diamonds(path)))


def log_price(frame: pd.DataFrame) -> pd.Series:
    """The regression target: natural log of the price in US dollars."""
    return np.log(frame["price"]).rename(TARGET)


def linear_features(frame: pd.DataFrame) -> pd.DataFrame:
    """All features as float64, the ordered categoricals as their rank codes (0 = worst grade)."""
    features = frame[FEATURES].copy()
    for name in CATEGORICAL_FEATURES:
        features[name] = features[name].cat.codes
    return features.astype("float64")


def catboost_features(frame: pd.DataFrame) -> pd.DataFrame:
    """All features, the categoricals as plain strings (CatBoost encodes them; MLflow signatures accept them)."""
    features = frame[FEATURES].copy()
    for name in CATEGORICAL_FEATURES:
        features[name] = features[name].astype("str")
    return features
