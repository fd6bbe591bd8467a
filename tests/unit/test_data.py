import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tutorial_utils import data


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return data.load_diamonds()


def test_load_gives_schema_and_ordered_grades(raw):
    assert raw.shape == (data.DIAMONDS_ROWS, 10)
    assert list(raw.columns) == list(data.COLUMN_DTYPES)
    assert raw["price"].dtype == "int64" and raw["carat"].dtype == "float64"
    for name, order in [("cut", data.CUT_ORDER), ("color", data.COLOR_ORDER), ("clarity", data.CLARITY_ORDER)]:
        assert raw[name].cat.ordered and list(raw[name].cat.categories) == order
    assert raw["cut"].min() == "Fair" and raw["cut"].max() == "Ideal"


def test_missing_file_names_it_and_how_to_restore(tmp_path):
    missing = tmp_path / "diamonds.csv"
    with pytest.raises(data.DataFileError, match=r"diamonds\.csv: the data file is missing.*git checkout"):
        data.load_diamonds(missing)


def test_corrupted_file_fails_on_checksum(tmp_path):
    damaged = tmp_path / "diamonds.csv"
    content = data.DIAMONDS_CSV.read_bytes()
    damaged.write_bytes(content.replace(b"326", b"327", 1))
    with pytest.raises(data.DataFileError, match=r"diamonds\.csv: the file is damaged or changed.*git checkout"):
        data.load_diamonds(damaged)


def test_truncated_file_fails_on_checksum(tmp_path):
    truncated = tmp_path / "diamonds.csv"
    truncated.write_bytes(data.DIAMONDS_CSV.read_bytes()[:5000])
    with pytest.raises(data.DataFileError, match="damaged"):
        data.load_diamonds(truncated)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.drop(columns="table"), "unexpected columns"),
        (lambda f: f.iloc[:-1], "53939 rows, expected 53940"),
        (lambda f: f.assign(cut=f["cut"].astype(str).replace({"Ideal": "Perfect"})), "'cut' holds 'Perfect'"),
        (lambda f: f.assign(carat=f["carat"].astype(str).replace({"0.23": "heavy"})), "'carat' is not float64"),
    ],
)
def test_schema_errors_say_what_is_wrong(raw, tmp_path, damage, message):
    path = _write(damage(raw.copy()), tmp_path / "diamonds.csv")
    with pytest.raises(data.DataFileError, match=message):
        data.load_diamonds(path, verify_checksum=False)


def test_not_a_csv(tmp_path):
    path = tmp_path / "diamonds.csv"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(data.DataFileError, match=r"diamonds\.csv: not a readable CSV"):
        data.load_diamonds(path, verify_checksum=False)


def test_implausible_rows_are_zero_or_oversized_dimensions(raw):
    mask = data.implausible_rows(raw)
    assert mask.sum() == 23
    flagged = raw.loc[mask, ["x", "y", "z"]]
    assert (((flagged == 0) | (flagged > data.MAX_DIMENSION_MM)).any(axis=1)).all()
    assert len(data.clean_diamonds(raw)) == data.DIAMONDS_ROWS - 23


def test_split_is_60_20_20_and_a_partition(raw):
    cleaned = data.clean_diamonds(raw)
    splits = data.split_diamonds(cleaned)
    sizes = splits.sizes()
    assert sizes.sum() == len(cleaned)
    assert np.allclose(sizes / len(cleaned), data.SPLIT_FRACTIONS, atol=1e-4)
    combined = pd.concat([splits.train, splits.val, splits.test])
    key = pd.util.hash_pandas_object(combined, index=False).sort_values().to_numpy()
    assert (key == pd.util.hash_pandas_object(cleaned, index=False).sort_values().to_numpy()).all()


def test_split_is_deterministic_and_seed_dependent(raw):
    cleaned = data.clean_diamonds(raw)
    first, again = data.split_diamonds(cleaned), data.split_diamonds(cleaned)
    pd.testing.assert_frame_equal(first.test, again.test)
    other = data.split_diamonds(cleaned, seed=data.SPLIT_SEED + 1)
    assert not first.test.equals(other.test)


def test_split_fingerprint_is_the_course_split():
    """Guards the split every notebook shares: a change here changes every number in the course."""
    splits = data.load_splits()
    fingerprint = {name: float(part["price"].sum()) for name, part in vars(splits).items()}
    assert fingerprint == {"train": 127_270_139.0, "val": 41_844_058.0, "test": 42_828_703.0}


def test_split_rejects_too_few_rows(raw):
    with pytest.raises(ValueError, match="cannot split 3 rows"):
        data.split_diamonds(raw.head(3))


def test_feature_frames(raw):
    rows = raw.head(50)
    linear = data.linear_features(rows)
    assert list(linear.columns) == data.FEATURES
    assert (linear.dtypes == "float64").all()
    assert linear["cut"].between(0, len(data.CUT_ORDER) - 1).all()
    assert linear.loc[rows["cut"] == "Ideal", "cut"].eq(len(data.CUT_ORDER) - 1).all()
    boosted = data.catboost_features(rows)
    assert all(pd.api.types.is_string_dtype(boosted[c]) for c in data.CATEGORICAL_FEATURES)
    assert boosted["cut"].iloc[0] == "Ideal"


def test_log_price(raw):
    target = data.log_price(raw.head(3))
    assert target.name == data.TARGET
    assert np.allclose(np.exp(target), raw["price"].head(3))


def test_git_never_converts_the_data_files_line_endings():
    """Git for Windows converts text files' line endings by default: the checksum would then fail everywhere."""
    checked = subprocess.run(
        ["git", "check-attr", "text", "data/diamonds.csv"], cwd=data.DIAMONDS_CSV.parents[1], capture_output=True
    )
    assert checked.stdout.decode().strip() == "data/diamonds.csv: text: unset"
