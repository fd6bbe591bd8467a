"""Every notebook refuses a parameter it cannot use, in one sentence, before anything reaches the tracking store."""

import ast

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError

import tutorial_utils.parameters
from course_tools.notebooks import execute_notebook, parameters_cell, read_parameters
from course_tools.paths import notebook_paths

NOTEBOOKS = {path.stem: path for path in notebook_paths()}
#: Per notebook, bad values (at least three) and the start of the sentence each one gets.
BAD_VALUES = {
    "00_setup_and_baselines": [
        ("CATBOOST_ITERATIONS", 0, "CATBOOST_ITERATIONS must be a whole number at least 1; got 0"),
        ("CATBOOST_DEPTH", 17, "CATBOOST_DEPTH must be a whole number from 1 to 16; got 17"),
        ("LASSO_ALPHA", -0.1, "LASSO_ALPHA must be a number above 0; got -0.1"),
        ("EXPERIMENT_NAME", "", "EXPERIMENT_NAME must be a non-empty string"),
    ],
    "01_parent_child_runs": [
        ("LASSO_ALPHAS", "[0.1, 0.01]", "LASSO_ALPHAS must be a non-empty list of distinct numbers above 0; got '[0.1"),
        ("CATBOOST_DEPTHS", [4, 4], "CATBOOST_DEPTHS must be a non-empty list of distinct whole numbers from 1 to 16"),
        ("N_SWEEP", "ten", "N_SWEEP must be a whole number at least 2; got 'ten'"),
        ("CATBOOST_LEARNING_RATE", 1.5, "CATBOOST_LEARNING_RATE must be a number above 0 and at most 1"),
    ],
    "02_lasso_grid_child_runs": [
        (
            "ALPHAS",
            "[1, 0.3, 0.1]",
            "ALPHAS must be a non-empty list of distinct numbers above 0; got '[1, 0.3, 0.1]' (text: papermill",
        ),
        ("ALPHAS", [1, -0.1], "ALPHAS must be a non-empty list of distinct numbers above 0; got [1, -0.1]"),
        ("ALPHAS", [], "ALPHAS must be a non-empty list"),
        ("MAX_ITER", 10.5, "MAX_ITER must be a whole number at least 1; got 10.5"),
    ],
    "03_search_strategies": [
        ("N_TRIALS", 20, "N_TRIALS must be a perfect square from 4 to 36; got 20"),
        ("N_TRIALS", 0, "N_TRIALS must be a perfect square from 4 to 36; got 0"),
        ("N_TRIALS", "ten", "N_TRIALS must be a perfect square from 4 to 36; got 'ten'"),
        ("N_SEEDS", 0, "N_SEEDS must be a whole number at least 1; got 0"),
    ],
    "04_optuna_catboost_tuning": [
        ("N_TRIALS", 0, "N_TRIALS must be a whole number at least 2; got 0"),
        ("N_TRIALS", "ten", "N_TRIALS must be a whole number at least 2; got 'ten'"),
        ("TUNING_ITERATIONS", -300, "TUNING_ITERATIONS must be a whole number at least 1; got -300"),
        ("EARLY_STOPPING_ROUNDS", True, "EARLY_STOPPING_ROUNDS must be a whole number at least 1; got True"),
        ("MAX_ITERATIONS", 300, "MAX_ITERATIONS must be a whole number at least 301; got 300"),  # no new trees
    ],
    "05_signatures_and_artifacts": [
        ("ALPHA", 0, "ALPHA must be a number above 0; got 0"),
        ("ALPHA", "0.001x", "ALPHA must be a number above 0; got '0.001x'"),
        ("SEED", -1, "SEED must be a whole number at least 0; got -1"),
    ],
    "06_parallel_tuning": [
        ("N_WORKERS", 0, "N_WORKERS must be a whole number from 1 to "),
        ("N_WORKERS", 10_000, "N_WORKERS must be a whole number from 1 to "),
        ("N_TRIALS", 0, "N_TRIALS must be a whole number at least 1; got 0"),
        ("WORKER_TIMEOUT", 0, "WORKER_TIMEOUT must be a number above 0; got 0"),
        ("STORAGE_URL", None, "STORAGE_URL must be a string; got None"),
    ],
    "07_model_registry_and_serving": [
        ("SERVER_TIMEOUT", 0, "SERVER_TIMEOUT must be a number above 0; got 0"),
        ("FALLBACK_ITERATIONS", "300 trees", "FALLBACK_ITERATIONS must be a whole number at least 1"),
        ("REGISTERED_MODEL", "  ", "REGISTERED_MODEL must be a non-empty string"),
    ],
}


def _check_cell(path):
    """The code cell right after the parameters cell: the one that checks them."""
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    return cells[cells.index(parameters_cell(notebook)) + 1]


def _checked_names(source: str) -> set[str]:
    calls = [
        n
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "check_parameters"
    ]
    return {keyword.arg for call in calls for keyword in call.keywords}


def test_every_notebook_has_bad_values_to_try():
    assert set(BAD_VALUES) == set(NOTEBOOKS)
    assert all(len(bad) >= 3 for bad in BAD_VALUES.values())


@pytest.mark.parametrize("stem", sorted(NOTEBOOKS))
def test_the_cell_after_the_parameters_checks_every_one_of_them(stem):
    cell = _check_cell(NOTEBOOKS[stem])
    assert cell.cell_type == "code" and cell.source.startswith("check_parameters(\n    globals(),")
    assert _checked_names(cell.source) == set(read_parameters(NOTEBOOKS[stem]))
    assert not cell.outputs, "the defaults pass the check"


@pytest.mark.parametrize("stem", sorted(NOTEBOOKS))
def test_bad_values_are_refused_with_one_sentence_naming_the_parameter(stem):
    """The notebook's own check cell, run on its defaults with one value replaced."""
    defaults = {name: p.default for name, p in read_parameters(NOTEBOOKS[stem]).items()}
    source = _check_cell(NOTEBOOKS[stem]).source
    exec(source, {**vars(tutorial_utils.parameters), **defaults})  # the defaults pass
    for name, value, sentence in BAD_VALUES[stem]:
        with pytest.raises(tutorial_utils.parameters.ParameterError) as error:
            exec(source, {**vars(tutorial_utils.parameters), **defaults, name: value})
        assert str(error.value).startswith(sentence) and "\n" not in str(error.value)


@pytest.mark.parametrize("stem", sorted(NOTEBOOKS))
def test_a_papermill_execution_with_a_bad_value_stops_before_the_store_is_touched(stem, fresh_store, tmp_path):
    name, value, sentence = BAD_VALUES[stem][0]
    with pytest.raises(PapermillExecutionError) as error:
        execute_notebook(NOTEBOOKS[stem], tmp_path / "out.ipynb", {name: value}, progress_bar=False)
    assert error.value.ename == "ParameterError" and error.value.evalue.startswith(sentence)
    assert not fresh_store.exists(), "nothing may reach the store: no experiment, no run"
