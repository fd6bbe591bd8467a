"""Student copies: solution cells are gone, everything else is kept, and bad input is refused."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools import cli as course
from course_tools import runner
from course_tools.student import (
    ANSWER_TAG,
    CHECK_TAG,
    SOLUTION_TAG,
    exercise_count,
    solution_cells,
    student_copy,
    write_student_copies,
)


def _notebook_with_solutions() -> nbformat.NotebookNode:
    lesson = new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="lesson output\n")])
    return new_notebook(
        cells=[
            new_markdown_cell("# 99 · Tiny"),
            lesson,
            new_markdown_cell("## Exercises\n1. Print x.\n2. Double it."),
            new_code_cell("print('SECRET-1', x)", metadata={"tags": [SOLUTION_TAG]}),
            new_markdown_cell("Between the solutions"),
            new_code_cell("print('SECRET-2', 2 * x)", metadata={"tags": [SOLUTION_TAG, "other"]}),
        ]
    )


def test_solution_cells_are_the_tagged_ones_in_order():
    sources = [cell.source for cell in solution_cells(_notebook_with_solutions())]
    assert sources == ["print('SECRET-1', x)", "print('SECRET-2', 2 * x)"]


def test_student_copy_swaps_each_solution_for_a_numbered_answer_cell():
    original = _notebook_with_solutions()
    student = student_copy(original)
    assert not solution_cells(student)
    assert "SECRET" not in nbformat.writes(student)
    answers = [cell for cell in student.cells if ANSWER_TAG in cell.metadata.get("tags", [])]
    assert [cell.source for cell in answers] == ["# Exercise 1: your answer here", "# Exercise 2: your answer here"]
    assert [cell.cell_type for cell in student.cells] == [cell.cell_type for cell in original.cells]
    assert student.cells[1].outputs[0].text == "lesson output\n"  # the lesson keeps its outputs
    assert solution_cells(original)  # the source notebook is untouched


def test_student_copy_keeps_the_check_cells_and_starts_the_value_they_check_at_none():
    notebook = _notebook_with_solutions()
    verdict = nbformat.v4.new_output("stream", text="Exercise 99.1: done.\n")
    checks = [
        new_code_cell('tu.check_answer("99.1", doubled)', metadata={"tags": [CHECK_TAG]}, outputs=[verdict]),
        new_code_cell('tu.check_exercise("99.2")', metadata={"tags": [CHECK_TAG]}),
    ]
    notebook.cells = [*notebook.cells[:4], checks[0], *notebook.cells[4:], checks[1]]
    student = student_copy(notebook)
    answers = [cell.source for cell in student.cells if ANSWER_TAG in cell.metadata.get("tags", [])]
    assert answers == [
        "# Exercise 1: your answer here\ndoubled = None  # your answer: the check below reads it",
        "# Exercise 2: your answer here",  # a check of runs reads no value
    ]
    kept = [cell for cell in student.cells if CHECK_TAG in cell.metadata.get("tags", [])]
    assert [cell.source for cell in kept] == [cell.source for cell in checks]
    assert kept[0].outputs == [] and notebook.cells[4].outputs == [verdict]  # the solution's verdict is not shown


def test_student_copy_refuses_a_notebook_without_solutions():
    with pytest.raises(ValueError, match="no cell tagged 'solution'"):
        student_copy(new_notebook(cells=[new_code_cell("x = 1")]))


def test_write_student_copies_and_the_command(tmp_path, capsys, monkeypatch):
    source = tmp_path / "99_tiny.ipynb"
    nbformat.write(_notebook_with_solutions(), source)
    written = write_student_copies([source], tmp_path / "a")
    assert written == [tmp_path / "a" / "99_tiny.ipynb"]
    assert "SECRET" not in written[0].read_text()

    monkeypatch.setattr(runner, "notebook_paths", lambda: [source])
    assert course.main(["student", "--out", str(tmp_path / "b")]) == 0
    assert "1 student notebooks without solutions" in capsys.readouterr().out
    assert "SECRET" not in (tmp_path / "b" / "99_tiny.ipynb").read_text()


def test_exercise_count_counts_the_numbered_items_of_the_exercises_section():
    text = "## Recap\n1. not an exercise\n\n## Exercises\n1. One\n   more text\n2. Two\n3. Three\n\n### Next\n1. no"
    assert exercise_count(text) == 3
    assert exercise_count("## Recap\n1. a") == 0
