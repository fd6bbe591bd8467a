"""Every decimal number in a notebook's prose is one its outputs print (or a setting in its code): a re-render
that changes a result makes the stale sentence fail here."""

from __future__ import annotations

import nbformat
import pytest
from prose_numbers import unbacked_numbers

from course_tools.paths import notebook_paths

#: Numbers the prose may give that are neither printed nor in the code, each with the reason.
ALLOWED = {
    "03_search_strategies": {"0.3": "a learning rate read off the CatBoost landscape figure, not a result"},
    "05_signatures_and_artifacts": {"3.17": "MLflow's version, pinned in constraints.txt"},
}


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_shown_by_an_output(path):
    notebook = nbformat.read(path, as_version=4)
    unbacked = unbacked_numbers(notebook, set(ALLOWED.get(path.stem, {})))
    assert not unbacked, "prose numbers no output shows (stale after a render?):\n" + "\n".join(map(str, unbacked))


def _notebook(prose: str, code: str = "", printed: str = "") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(code)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    return nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell(prose)])


@pytest.mark.parametrize(
    ("prose", "printed"),
    [
        ("val_rmse is 0.1490", "val_rmse 0.1490"),
        ("about 0.15", "val_rmse 0.1490"),  # rounded to the decimals the prose gives
        ("took 31.1 s", "seconds 31.10"),
        ("an interval [-0.046, 1.441]", "[-0.046, 1.441]"),  # a negative number keeps its sign
        ("the `alpha = 0.12345` knob", ""),  # code spans are code, not prose
        ("see [docs](https://example.org/v1.2.3)", ""),
    ],
)
def test_a_number_an_output_prints_passes(prose, printed):
    assert unbacked_numbers(_notebook(prose, printed=printed)) == []


def test_a_setting_of_the_code_passes_and_an_allowed_number_too():
    assert unbacked_numbers(_notebook("alpha 0.001 wins", code="ALPHA = 0.001")) == []
    assert unbacked_numbers(_notebook("near x = 0.14", printed="0.757"), {"0.14"}) == []


@pytest.mark.parametrize(
    ("prose", "printed"),
    [
        ("val_rmse is 0.1484", "val_rmse 0.1490"),
        ("about 0.14", "val_rmse 0.1490"),
        ("took 27.2 s", "31.10"),
        ("from [-0.046, 1.441]", "[0.046, 1.441]"),  # the sign is part of the number
    ],
)
def test_a_stale_number_fails_with_its_cell_and_context(prose, printed):
    (unbacked,) = unbacked_numbers(_notebook(prose, printed=printed))
    assert unbacked.cell == 1 and unbacked.number in prose and unbacked.number in str(unbacked)
