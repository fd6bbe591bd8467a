"""The timings table: numbers, totals, provenance, and the command that writes it."""

from datetime import date

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_tools.timings import (
    TIMINGS_COMMAND,
    cpu_model,
    machine_summary,
    read_timings,
    timings_markdown,
    work_minutes,
)


def test_timings_markdown_rows_totals_and_provenance():
    small, full = {"00_a.ipynb": 10.4, "01_b.ipynb": 2.0}, {"00_a.ipynb": 20.6, "01_b.ipynb": 30.0}
    text = timings_markdown(small, full, machine="CPU X", day=date(2026, 1, 2))
    lines = text.splitlines()
    assert lines[2] == "| `00_a.ipynb` | 10 | 21 |"
    assert lines[4] == "| **total** | **12** | **51** |"
    assert f"`{TIMINGS_COMMAND}` on 2026-01-02" in text and "Machine: CPU X." in text
    assert "one execution each" in text
    assert "medians of 3 executions" in timings_markdown(small, full, machine="m", day=date.today(), repeats=3)


def test_timings_markdown_refuses_different_notebooks():
    with pytest.raises(ValueError, match="different notebooks"):
        timings_markdown({"a": 1.0}, {"b": 1.0}, machine="m", day=date.today())


def test_cpu_model_reads_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU @ 3 GHz\n")
    assert cpu_model(cpuinfo) == "Test CPU @ 3 GHz"
    assert machine_summary().count("cores; Python 3.") == 1


def test_read_timings_reads_back_what_timings_markdown_wrote():
    small, full = {"00_a.ipynb": 12.4, "01_b.ipynb": 9.6}, {"00_a.ipynb": 16.0, "01_b.ipynb": 200.2}
    text = timings_markdown(small, full, machine="m", day=date(2026, 1, 2))
    assert read_timings(text) == {"00_a": (12, 16), "01_b": (10, 200)}
    with pytest.raises(ValueError, match="no timings table"):
        read_timings("| notebook | small |")


def test_work_minutes_adds_reading_cells_exercises_and_compute_rounded_up_to_five():
    cells = [new_markdown_cell("word " * 240), new_code_cell("a"), new_code_cell("b")]
    cells.append(new_code_cell("# Solution 1", metadata={"tags": ["solution"]}))
    notebook = new_notebook(cells=cells)
    assert work_minutes(notebook, 60) == 15  # 2 min reading + 2 x 0.5 min cells + 10 min exercise + 1 min compute
    assert work_minutes(notebook, 121) == 20  # one more minute and a second cross the 15
