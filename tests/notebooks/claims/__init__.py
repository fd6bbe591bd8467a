"""What each notebook claims, checked in the tracking store it leaves behind.

Every `notebooks/NN_topic.ipynb` has a module `claims/nbNN_topic.py` here with a function
`check(run: NotebookRun) -> None`. It gets the notebook executed twice on one fresh store at its small
budget (see notebook_runs.py), so it also checks that re-running is clean, and asserts with plain `assert`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from notebook_runs import NotebookRun


def claims_for(notebook: Path) -> Callable[[NotebookRun], None]:
    """The `check` function of a notebook's claims module; AssertionError when there is none."""
    name = f"nb{notebook.stem}"
    if not Path(__file__).with_name(f"{name}.py").is_file():
        raise AssertionError(f"{notebook.name} has no claims: add tests/claims/{name}.py with check(run)")
    return importlib.import_module(f"claims.{name}").check
