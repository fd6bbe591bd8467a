"""Student copies: the course notebooks with every cell tagged `solution` swapped for an empty answer cell.

The check cell after a solution (tagged `check`) stays. When it checks a value (`tu.check_answer("02.2", name)`),
the answer cell starts that name at None, so that the check says "not yet" until the learner gives an answer.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from course_tools.notebooks import clean_metadata

SOLUTION_TAG = "solution"
ANSWER_TAG = "answer"
CHECK_TAG = "check"
ANSWER_SOURCE = "# Exercise {number}: your answer here"
ANSWER_NAME = "{name} = None  # your answer: the check below reads it"
CHECKED_NAME = re.compile(r"check_answer\(\s*\"[\d.]+\",\s*(\w+)\s*\)")


def exercise_count(markdown: str) -> int:
    """How many numbered items (`1. ...`) the `## Exercises` section of a markdown cell lists (0 if none)."""
    _, found, section = markdown.partition("## Exercises")
    if not found:
        return 0
    section = section.split("\n#", 1)[0]  # up to the next heading
    return len(re.findall(r"^\d+\. ", section, flags=re.MULTILINE))


def solution_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells tagged `solution`, in notebook order."""
    return [cell for cell in notebook.cells if SOLUTION_TAG in cell.metadata.get("tags", [])]


def student_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `notebook` in which each solution cell is an empty code cell tagged `answer`.

    The lesson cells keep their outputs. Raises ValueError when the notebook has no solution cell.
    """
    if not solution_cells(notebook):
        raise ValueError("the notebook has no cell tagged 'solution': nothing to hide from students")
    student = copy.deepcopy(notebook)
    number = 0
    cells = []
    for cell, following in zip(student.cells, [*student.cells[1:], None], strict=True):
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            number += 1
            lines = [ANSWER_SOURCE.format(number=number)]
            checked = CHECKED_NAME.search(following.source) if following and _is_check(following) else None
            if checked:
                lines.append(ANSWER_NAME.format(name=checked.group(1)))
            cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [ANSWER_TAG]})
        elif _is_check(cell):
            cell.outputs, cell.execution_count = [], None  # its verdict was the solution's
        cells.append(cell)
    student.cells = cells
    return clean_metadata(student)


def _is_check(cell: nbformat.NotebookNode) -> bool:
    return CHECK_TAG in cell.metadata.get("tags", [])


def write_student_copies(sources: list[Path], destination: Path) -> list[Path]:
    """Write the student copy of each notebook in `sources` into `destination`; return the written paths."""
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        target = destination / source.name
        nbformat.write(student_copy(nbformat.read(source, as_version=4)), target)
        written.append(target)
    return written
