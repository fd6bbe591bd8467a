"""Executing notebooks headlessly for `make course`, `make render` and `make timings`, and the summary table."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course_tools.headline import notebook_headline
from course_tools.notebooks import execute_notebook, small_budget, startup_seconds
from course_tools.paths import notebook_paths


@dataclass(frozen=True)
class NotebookResult:
    """How one headless execution went."""

    notebook: str
    ok: bool
    seconds: float
    headline: str
    startup: float = 0.0  # seconds of those before the lesson: kernel start and imports


@contextmanager
def stderr_to(log: Path) -> Iterator[None]:
    """Append this process's stderr, file descriptor 2, to `log` meanwhile: also what the kernels it starts write
    there (papermill's kernel messages, such as the warning about TCP without encryption)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with log.open("a") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def run_notebook(source: Path, output: Path, budget: str, log: Path) -> NotebookResult:
    """Execute one notebook at the `small` or `full` budget, printing one line: its name, then its status and
    seconds. Everything else papermill and the kernel say goes to `log`. A failure is reported, not raised."""
    parameters = small_budget(source) if budget == "small" else {}
    print(f"{source.name} ...", end=" ", flush=True)
    start, since_ms = time.perf_counter(), int(time.time() * 1000)
    try:
        with stderr_to(log):
            executed = execute_notebook(source, output, parameters, progress_bar=False)
    except Exception as error:  # noqa: BLE001 - any failure becomes a FAILED row, the others still run
        last_line = (str(error).strip().splitlines() or [repr(error)])[-1]
        print(f"FAILED after {time.perf_counter() - start:.1f} s: {last_line}")
        print(f"  the partly executed notebook is {output}; papermill's log is {log}", file=sys.stderr)
        return NotebookResult(source.name, False, time.perf_counter() - start, "")
    seconds = time.perf_counter() - start
    print(f"ok, {seconds:.1f} s", flush=True)
    headline = notebook_headline(source, executed, since_ms)
    return NotebookResult(source.name, True, seconds, headline, startup_seconds(executed, seconds))


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
