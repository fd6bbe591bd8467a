"""Measured wall time of every notebook at both budgets, with the machine it was measured on, as Markdown."""

from __future__ import annotations

import math
import os
import platform
import re
import sys
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

from course_tools.student import CHECK_TAG, solution_cells
from tutorial_utils.environment import KEY_PACKAGES

TIMINGS_COMMAND = "make timings"
TIMINGS_ROW = re.compile(r"^\| `(?P<name>\d\d_\w+)\.ipynb` \| (?P<small>\d+) \| (?P<full>\d+) \|$", re.M)


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (Linux), else what `platform` knows."""
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_summary() -> str:
    """One line naming the CPU, the cores, Python and the key package versions."""
    packages = ", ".join(f"{name} {version(name)}" for name in KEY_PACKAGES)
    python = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    return f"{cpu_model()}, {os.cpu_count()} cores; Python {python}; {packages}"


def _median_of(repeats: int) -> str:
    return "one execution each" if repeats == 1 else f"medians of {repeats} executions"


def timings_markdown(
    small: dict[str, float], full: dict[str, float], *, machine: str, day: date, repeats: int = 1
) -> str:
    """A Markdown table of seconds per notebook at the small and full budgets, with totals and provenance.

    `repeats` is how many executions each number is the median of.

    Raises ValueError when the two measurements do not cover the same notebooks.
    """
    if list(small) != list(full):
        raise ValueError(f"small and full budgets timed different notebooks: {list(small)} vs {list(full)}")
    rows = [f"| `{name}` | {small[name]:.0f} | {full[name]:.0f} |" for name in small]
    return "\n".join(
        [
            "| notebook | small budget (s) | full budget (s) |",
            "| --- | ---: | ---: |",
            *rows,
            f"| **total** | **{sum(small.values()):.0f}** | **{sum(full.values()):.0f}** |",
            "",
            f"Measured with `{TIMINGS_COMMAND}` on {day.isoformat()}: each notebook executed headlessly from a cold",
            f"kernel on one fresh tracking store; {_median_of(repeats)}. Machine: {machine}.",
        ]
    )


def read_timings(markdown: str) -> dict[str, tuple[int, int]]:
    """The seconds per notebook, (small budget, full budget), of a table `timings_markdown` wrote.

    Raises ValueError when the text holds no such table.
    """
    rows = {m["name"]: (int(m["small"]), int(m["full"])) for m in TIMINGS_ROW.finditer(markdown)}
    if not rows:
        raise ValueError("no timings table found: expected rows like '| `00_name.ipynb` | 12 | 16 |'")
    return rows


#: The rule behind each notebook's "time to work through it", an estimate: reading the prose, reading and running
#: each lesson cell, doing each exercise, and the measured compute time at the full budget.
READING_WORDS_PER_MINUTE = 120
MINUTES_PER_CODE_CELL = 0.5
MINUTES_PER_EXERCISE = 10


def work_minutes(notebook: Any, compute_seconds: float) -> int:
    """The estimated minutes a learner needs for a notebook (an `nbformat` node), rounded up to 5: its prose at
    `READING_WORDS_PER_MINUTE`, `MINUTES_PER_CODE_CELL` per lesson cell, `MINUTES_PER_EXERCISE` per exercise
    (solution cell; its check cell is part of it), and `compute_seconds`."""
    solutions = solution_cells(notebook)
    words = sum(len(c.source.split()) for c in notebook.cells if c.cell_type == "markdown")
    checks = sum(CHECK_TAG in c.metadata.get("tags", []) for c in notebook.cells)
    lesson_cells = sum(c.cell_type == "code" for c in notebook.cells) - len(solutions) - checks
    minutes = (
        words / READING_WORDS_PER_MINUTE
        + lesson_cells * MINUTES_PER_CODE_CELL
        + len(solutions) * MINUTES_PER_EXERCISE
        + compute_seconds / 60
    )
    return 5 * math.ceil(minutes / 5)
