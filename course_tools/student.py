"""Student copies: the course notebooks with every cell tagged `solution` swapped for an empty answer cell."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from course_tools.notebooks import clean_metadata

SOLUTION_TAG = "solution"
ANSWER_TAG = "answer"
ANSWER_SOURCE = "# Exercise {number}: your answer here"


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
    for cell in student.cells:
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            number += 1
            cell = nbformat.v4.new_code_cell(ANSWER_SOURCE.format(number=number), metadata={"tags": [ANSWER_TAG]})
        cells.append(cell)
    student.cells = cells
    return clean_metadata(student)


def write_student_copies(sources: list[Path], destination: Path) -> list[Path]:
    """Write the student copy of each notebook in `sources` into `destination`; return the written paths."""
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        target = destination / source.name
        nbformat.write(student_copy(nbformat.read(source, as_version=4)), target)
        written.append(target)
    return written
