"""Executing notebooks headlessly for `make course`, `make render` and `make timings`, and the summary table."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from course_tools.notebooks import execute_notebook, small_budget, startup_seconds
from course_tools.paths import notebook_paths
from tutorial_utils.headline import read_headline


@dataclass(frozen=True)
class NotebookResult:
    """How one headless execution went."""

    notebook: str
    ok: bool
    seconds: float
    headline: str
    startup: float = 0.0  # seconds of those before the lesson: kernel start and imports


def run_notebook(source: Path, output: Path, budget: str) -> NotebookResult:
    """Execute one notebook at the `small` or `full` budget; a failure is reported, not raised."""
    parameters = small_budget(source) if budget == "small" else {}
    start = time.perf_counter()
    try:
        executed = execute_notebook(source, output, parameters)
    except Exception as error:  # noqa: BLE001 - any failure becomes a FAILED row, the others still run
        last_line = (str(error).strip().splitlines() or [repr(error)])[-1]
        print(f"\n{source.name} FAILED: {last_line}")
        print(f"  the partly executed notebook is {output}", file=sys.stderr)
        return NotebookResult(source.name, False, time.perf_counter() - start, "")
    seconds = time.perf_counter() - start
    return NotebookResult(source.name, True, seconds, read_headline(executed) or "", startup_seconds(executed, seconds))


def format_results(results: list[NotebookResult]) -> str:
    """The summary table: notebook, status, seconds, the start-up part of them, and headline metric."""
    width = max([len("notebook"), *(len(r.notebook) for r in results)])
    lines = [f"{'notebook':<{width}}  status  seconds  start-up  headline", "-" * (width + 46)]
    for r in results:
        status = "ok" if r.ok else "FAILED"
        lines.append(f"{r.notebook:<{width}}  {status:<6}  {r.seconds:7.1f}  {r.startup:8.1f}  {r.headline}")
    ok = f"{sum(r.ok for r in results)}/{len(results)} ok"
    lines.append(
        f"{'total':<{width}}  {ok:<6}  {sum(r.seconds for r in results):7.1f}  {sum(r.startup for r in results):8.1f}"
    )
    lines.append("(start-up: starting the kernel and the first cell's imports, before the lesson's own work)")
    return "\n".join(lines)


def selected_notebooks(names: list[str]) -> list[Path]:
    """The notebooks named (by file name or stem), or all of them."""
    paths = notebook_paths()
    if not names:
        return paths
    chosen = [p for p in paths if p.name in names or p.stem in names]
    unknown = set(names) - {p.name for p in chosen} - {p.stem for p in chosen}
    if unknown:
        raise SystemExit(f"unknown notebook(s): {', '.join(sorted(unknown))}; have {[p.stem for p in paths]}")
    return chosen
