import numpy as np
import pytest

from tutorial_utils.metrics import checked_pair, dollar_rmse, rmse


def test_rmse_known_value():
    assert rmse([0.0, 0.0], [3.0, 4.0]) == pytest.approx(np.sqrt(12.5))
    assert rmse([1.0, 2.0], [1.0, 2.0]) == 0.0


def test_dollar_rmse_works_on_the_price_scale():
    log_true = np.log([100.0, 1000.0])
    log_pred = np.log([110.0, 900.0])
    assert dollar_rmse(log_true, log_pred) == pytest.approx(np.sqrt((10**2 + 100**2) / 2))


@pytest.mark.parametrize(("y_true", "y_pred"), [([1.0, 2.0], [1.0]), ([], [])])
def test_rmse_rejects_mismatched_or_empty(y_true, y_pred):
    with pytest.raises(ValueError, match="non-empty arrays of one shape"):
        rmse(y_true, y_pred)
    with pytest.raises(ValueError, match="non-empty arrays of one shape"):
        dollar_rmse(y_true, y_pred)


def test_checked_pair_gives_float_arrays():
    true, pred = checked_pair([1, 2], (3, 4))
    assert true.dtype == pred.dtype == np.float64 and pred.tolist() == [3.0, 4.0]
