"""`make check`: the learner's own view of their progress, read from the store in force (the local store, or the
workshop server when MLFLOW_TRACKING_URI is set): per notebook, whether its lesson has run; per exercise, its
verdict from `tutorial_utils.exercises`."""

from __future__ import annotations

from pathlib import Path

import mlflow
import nbformat

from course_tools.student import exercise_count
from tutorial_utils.exercises import StoreView, exercise_verdict, exercises, lesson_status
from tutorial_utils.paths import NOTEBOOKS_DIR
from tutorial_utils.tracking import connection_check, ensure_store, quiet_mlflow, tracking_uri


def progress_report(store: StoreView, notebooks_dir: Path = NOTEBOOKS_DIR) -> str:
    """One block per notebook: its lesson's status, then each exercise's verdict (or that it has no check yet)."""
    blocks = []
    for path in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb")):
        cells, number = nbformat.read(path, as_version=4).cells, path.name[:2]
        title = cells[0].source.splitlines()[0].lstrip("# ").split("·", 1)[-1].strip()  # "# 04 · Tuning ..."
        lines = [f"{number} {title}: lesson {lesson_status(store, number)}"]
        checked = exercises(number)
        lines += [f"   {exercise_verdict(store, exercise)}" for exercise in checked]
        total = max((exercise_count(c.source) for c in cells if c.cell_type == "markdown"), default=0)
        unchecked = [f"{number}.{k}" for k in range(1, total + 1) if f"{number}.{k}" not in checked]
        if unchecked:
            lines.append(f"   Exercises {', '.join(unchecked)}: no check yet.")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def main() -> int:
    """Print where the check reads, then the report."""
    quiet_mlflow()
    connection_check()
    uri = tracking_uri()
    ensure_store(uri)
    mlflow.set_tracking_uri(uri)
    print(progress_report(StoreView()))
    return 0
