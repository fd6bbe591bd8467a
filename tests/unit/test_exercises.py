"""The checks of lessons and exercises: each verdict read from a store built for the case, a wrong answer caught
with its sentence, and `check_answer` recording what `make check` reads."""

from __future__ import annotations

import mlflow
import nbformat
import pytest
from exercise_runs import log_run
from sklearn.linear_model import Lasso
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course_tools import cli
from course_tools.check import progress_report
from tutorial_utils import linear_features, load_splits, log_price
from tutorial_utils.exercises import (
    DONE,
    NOT_RIGHT,
    NOT_YET,
    StoreView,
    Verdict,
    check_answer,
    check_exercise,
    exercise_verdict,
    lesson_status,
)


def test_a_lesson_not_run_yet_then_unfinished_then_done(store_for):
    store = store_for("diamonds-price")
    assert lesson_status(store, "00") == "not run yet"
    log_run("baseline-lasso")
    assert lesson_status(StoreView(), "00") == "not finished: no run 'baseline-catboost' yet"
    log_run("baseline-catboost", status="FAILED")
    assert lesson_status(StoreView(), "00") == "not finished: 'baseline-catboost' is FAILED"
    log_run("baseline-catboost")  # the newest run of each name counts
    assert lesson_status(StoreView(), "00") == DONE


def test_tagging_the_baselines(store_for):
    store_for("diamonds-price")
    assert exercise_verdict(StoreView(), "00.2").status == NOT_YET
    log_run("baseline-lasso", t_stage="baseline")
    log_run("baseline-catboost", t_stage="final")
    wrong = exercise_verdict(StoreView(), "00.2")
    assert (wrong.status, wrong.hint) == (
        NOT_RIGHT,
        "Both baseline runs of the last execution need the tag `stage` = 'baseline'.",
    )
    log_run("baseline-catboost", t_stage="baseline")
    assert exercise_verdict(StoreView(), "00.2").status == DONE


def _family(values, *, parent_params=None, with_metric=True) -> None:
    with mlflow.start_run(run_name="my-l2-family"):
        mlflow.log_params(parent_params or {"depth": 6})
        for value in values:
            log_run(f"l2-{value}", p_l2_leaf_reg=value, **({"m_val_rmse": 0.1} if with_metric else {}))


@pytest.mark.parametrize(
    ("family", "hint"),
    [
        ({"values": [1, 10]}, "The family needs one child per l2_leaf_reg: 1, 10 and 30, and no other."),
        ({"values": [1, 10, 30], "with_metric": False}, "Every child of the family needs its `val_rmse` metric."),
        (
            {"values": [1, 10, 30], "parent_params": {"model": "catboost"}},
            "The parent holds what its children share (the depth); each child its own.",
        ),
    ],
)
def test_a_third_family_that_is_not_right_says_what_is_missing(store_for, family, hint):
    store_for("parent-child-runs")
    assert exercise_verdict(StoreView(), "01.1").status == NOT_YET
    _family(**family)
    assert exercise_verdict(StoreView(), "01.1") == Verdict("01.1", NOT_RIGHT, hint)


def test_a_third_family_done_in_the_learners_own_names(store_for):
    store_for("parent-child-runs")
    _family([1, 10, 30])
    assert exercise_verdict(StoreView(), "01.1").status == DONE


def test_three_levels_need_a_grandchild(store_for, capsys):
    store_for("parent-child-runs")
    with mlflow.start_run(run_name="session"):
        log_run("family")  # two levels only
    assert exercise_verdict(StoreView(), "01.2").status == NOT_YET
    check_exercise("01.2")  # not yet: records nothing
    with mlflow.start_run(run_name="session"), mlflow.start_run(run_name="family", nested=True):
        log_run("configuration")
    assert exercise_verdict(StoreView(), "01.2").status == DONE
    check_exercise("01.2")
    assert capsys.readouterr().out.splitlines() == ["Exercise 01.2: not yet.", "Exercise 01.2: done."]
    tags = StoreView().experiment("parent-child-runs").tags
    assert {k: v for k, v in tags.items() if k.startswith("course.")} == {"course.exercise.01.2": "done"}


def test_the_sparsest_near_best_sweep_child(store_for, capsys):
    store_for("parent-child-runs")
    with mlflow.start_run(run_name="lasso-sweep"):
        for rmse, features in ((0.150, 9), (0.165, 7), (0.175, 6), (0.300, 2)):
            log_run("alpha", m_val_rmse=rmse, m_n_features=features)
    check_answer("01.3", 6)
    check_answer("01.3", 7)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "Exercise 01.3: not right yet. Give the fewest `n_features` among the children within 0.02 of the best.",
        "Exercise 01.3: done.",
    ]
    assert exercise_verdict(StoreView(), "01.3").status == DONE  # recorded on the experiment for `make check`


def test_an_answer_before_the_lesson_cannot_be_checked_and_none_is_not_yet(store_for, capsys):
    store_for("parent-child-runs")
    check_answer("01.3", 7)
    check_answer("01.3", None)
    assert capsys.readouterr().out.splitlines() == [
        "Exercise 01.3: cannot be checked yet. Run notebook 01's lesson first: the answer is checked against its "
        "sweep.",
        "Exercise 01.3: not yet.",
    ]
    assert exercise_verdict(StoreView(), "01.3").status == NOT_YET
    with pytest.raises(KeyError, match="has no answer to check"):
        check_answer("01.1", "a run")


def test_the_lasso_at_alpha_0_1_is_not_counted_right_by_a_wrong_number(store_for, capsys):
    store_for("diamonds-price")
    for wrong in (9, "four"):
        check_answer("00.1", wrong)
    assert capsys.readouterr().out.count("Count the non-zero entries of the fitted Lasso's `coef_` at alpha 0.1.") == 2


@pytest.fixture
def grid(store_for):
    """A grid of two fitted LASSOs as notebook 02 logs it: a parent, a child per alpha with its model and metrics."""
    store_for("diamonds-price")
    splits = load_splits()
    with mlflow.start_run(run_name="lasso-alpha-grid"):
        for alpha in (0.1, 0.001):
            model = make_pipeline(StandardScaler(), Lasso(alpha=alpha, max_iter=5000))
            model.fit(linear_features(splits.train), log_price(splits.train))
            with mlflow.start_run(run_name=f"lasso-alpha-{alpha:g}", nested=True):
                mlflow.log_param("alpha", alpha)
                mlflow.log_metrics({"val_rmse": alpha, "n_nonzero_coefs": float((model[-1].coef_ != 0).sum())})
                mlflow.sklearn.log_model(model, name="lasso", pip_requirements=["scikit-learn"])


def test_wrong_answers_about_the_grid_are_caught(grid, capsys):
    check_answer("02.1", ["carat"])
    check_answer("02.2", {0.005: 0.1, 0.05: 0.1})
    check_answer("02.3", {0.1: 0.3})
    assert capsys.readouterr().out.splitlines() == [
        "Exercise 02.1: not right yet. Give the features whose coefficient is not zero in the sparsest child's model.",
        "Exercise 02.2: not right yet. The alpha for 0.005 and 0.05 is not the sparsest child within it.",
        "Exercise 02.3: not right yet. Give every child's test_rmse by its alpha, each model scored on the test split.",
    ]
    store = StoreView()
    assert [exercise_verdict(store, e).status for e in ("02.1", "02.2", "02.3")] == [NOT_RIGHT] * 3


def test_the_report_names_every_notebook_and_every_exercise(store_for):
    report = progress_report(store_for("diamonds-price")).splitlines()
    assert report[0] == "00 Set-up and baselines: lesson not run yet"
    assert "   Exercise 02.2: not yet." in report and "   Exercise 07.3: not yet." in report
    assert [line[:2] for line in report if not line.startswith(" ")] == [f"0{n}" for n in range(8)]
    assert not any("no check yet" in line for line in report)


def test_the_report_names_an_exercise_that_has_no_check(store_for, tmp_path):
    """A notebook with one exercise more than the checks know: the report says so, instead of leaving it out."""
    notebook = nbformat.v4.new_notebook()
    exercises_text = "## Exercises\n" + "".join(f"{k}. Do thing {k}.\n" for k in range(1, 5))
    notebook.cells = [nbformat.v4.new_markdown_cell("# 07 · Registry"), nbformat.v4.new_markdown_cell(exercises_text)]
    nbformat.write(notebook, tmp_path / "07_registry.ipynb")
    assert progress_report(store_for("diamonds-price"), tmp_path).splitlines() == [
        "07 Registry: lesson not run yet",
        "   Exercise 07.1: not yet.",
        "   Exercise 07.2: not yet.",
        "   Exercise 07.3: not yet.",
        "   Exercises 07.4: no check yet.",
    ]


def test_make_check_says_where_it_reads_then_reports(fresh_store, capsys):
    assert cli.main(["check"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Connection check: offline, on the course's local SQLite store (no server needed)."
    assert printed[1] == "00 Set-up and baselines: lesson not run yet"
    assert "   Exercise 07.3: not yet." in printed
