"""Run a notebook's code up to a definition, papermill style, and keep its namespace (the study under test)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path
from typing import Any

import nbformat

from course_tools.notebooks import parameters_cell
from tutorial_utils.paths import NOTEBOOKS_DIR

STUDY_NOTEBOOK = NOTEBOOKS_DIR / "04_optuna_catboost_tuning.ipynb"
MAGIC = re.compile(r"^\s*[%!]")


def strip_magics(source: str) -> str:
    """The cell's source without IPython magic and shell lines (`%matplotlib inline`, `!pip ...`)."""
    return "\n".join(line for line in source.splitlines() if not MAGIC.match(line))


def notebook_namespace(path: Path, until: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute `path`'s code cells up to and including the first that defines `until`; return the namespace.

    `overrides` replace knobs right after the `parameters` cell, as papermill would. Cell output is discarded.
    Runs from the notebooks folder like the course's kernel. Raises ValueError for an override the parameters
    cell does not define, or when no cell defines `until`.
    """
    notebook = nbformat.read(path, as_version=4)
    parameters = parameters_cell(notebook)
    definition = re.compile(rf"^(def|class)\s+{re.escape(until)}\b|^{re.escape(until)}\s*=", re.MULTILINE)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    last = next((i for i, cell in enumerate(cells) if definition.search(cell.source)), None)
    if last is None:
        raise ValueError(f"{path.name}: no code cell defines {until!r}")
    if all(cell is not parameters for cell in cells[: last + 1]):
        raise ValueError(f"{path.name}: the parameters cell comes after {until!r}, overrides would not apply")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    previous = Path.cwd()
    os.chdir(path.parent)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for cell in cells[: last + 1]:
                known = set(namespace)
                exec(compile(strip_magics(cell.source), f"<{path.name} cell>", "exec"), namespace)
                if cell is parameters:
                    _override(namespace, overrides or {}, set(namespace) - known, path.name)
    finally:
        os.chdir(previous)
    return namespace


def _override(namespace: dict[str, Any], overrides: dict[str, Any], knobs: set[str], notebook: str) -> None:
    """Apply parameter overrides, refusing names the parameters cell does not define (`knobs`)."""
    unknown = set(overrides) - knobs
    if unknown:
        raise ValueError(f"{notebook}: unknown parameter(s) {sorted(unknown)}; the parameters cell defines them all")
    namespace.update(overrides)
