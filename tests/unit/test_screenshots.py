"""The pictures' settings: notebook 04's budget for its picture, and axes the notebooks really log."""

from __future__ import annotations

from course_tools.notebooks import read_parameters, small_budget
from course_tools.screenshots import TUNING_NOTEBOOK, TUNING_TRIALS, tuning_budget


def test_the_study_picture_runs_the_small_budget_with_more_trials():
    budget = tuning_budget()
    assert budget["N_TRIALS"] == TUNING_TRIALS > small_budget(TUNING_NOTEBOOK)["N_TRIALS"]
    assert budget | {"N_TRIALS": small_budget(TUNING_NOTEBOOK)["N_TRIALS"]} == small_budget(TUNING_NOTEBOOK)
    assert set(budget) <= set(read_parameters(TUNING_NOTEBOOK))
