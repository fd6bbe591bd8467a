import numpy as np
import pandas as pd
import pytest

from tutorial_utils import load_diamonds, plots
from tutorial_utils.data import CLARITY_ORDER


def test_data_tour_has_three_panels_and_a_clarity_colourbar():
    fig = plots.plot_data_tour(load_diamonds().head(500))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["Price is right-skewed", "log(price) is the target", "log price is near-linear in log carat"]
    assert [t.get_text() for t in fig.axes[3].get_yticklabels()] == CLARITY_ORDER


def test_data_tour_rejects_an_empty_frame():
    with pytest.raises(ValueError, match="empty frame"):
        plots.plot_data_tour(load_diamonds().head(0))


def test_predictions_one_panel_per_model_with_a_diagonal_spanning_both_arrays():
    y_true = pd.Series([1.0, 2.0, 3.0])
    fig = plots.plot_predictions(y_true, {"a": np.array([0.5, 2.0, 3.5]), "b": np.array([1.0, 2.0, 3.0])})
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    diagonal = fig.axes[0].get_lines()[0]
    assert list(diagonal.get_xdata()) == [0.5, 3.5] == list(diagonal.get_ydata())


@pytest.mark.parametrize(
    ("predictions", "message"),
    [({}, "at least one model"), ({"a": np.array([1.0])}, "non-empty arrays of one shape")],
)
def test_predictions_reject_bad_input(predictions, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_predictions(pd.Series([1.0, 2.0]), predictions)
