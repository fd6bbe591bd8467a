"""Plumbing for notebook 06: a shared Optuna storage, worker processes, and the speed-up table.

The worker script trains with notebook 04's search space and model (`tutorial_utils.tuning`). The Optuna and MLflow
calls of the lesson stay in the notebook and its worker script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import make_url

from tutorial_utils.paths import REPO_ROOT, course_store_dir
from tutorial_utils.tracking import QUIET_ENV

#: The default JournalStorage file, in the folder of the embedded tracking store (git-ignored, moved with it).
JOURNAL_FILE_NAME = "parallel_tuning.journal"
STDERR_TAIL_LINES = 20


def storage_url(url: str = "") -> str:
    """`url` unchanged, or for "" the default journal file beside the embedded tracking store (its folder created)."""
    if url.strip():
        return url.strip()
    folder = course_store_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / JOURNAL_FILE_NAME)


def open_storage(url: str) -> BaseStorage:
    """The Optuna storage named by `url`: `RDBStorage` for a database URL, `JournalStorage` for a file path.

    A database URL has a scheme (`postgresql+psycopg2://...`, `sqlite:///...`); anything else is the path of a
    journal file, which must be in an existing folder. Raises ValueError for "" (resolve it with `storage_url`),
    a malformed URL or a missing folder.
    """
    if not url.strip():
        raise ValueError('the storage URL is empty: pass it through storage_url("") for the default journal file')
    if "://" in url:
        try:
            make_url(url)
        except Exception as error:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
            raise ValueError(f"not a database URL: {describe_storage(url)!r} ({error})") from None
        return RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
    path = Path(url).expanduser()
    if not path.parent.is_dir():
        raise ValueError(f"the folder of the journal file {path.name!r} does not exist: {path.parent}")
    if path.is_dir():
        raise ValueError(f"the journal storage must be a file, not the folder {path}")
    return JournalStorage(JournalFileBackend(str(path)))


def describe_storage(url: str) -> str:
    """A one-line description of a storage URL with no password and no machine path, for notebook output."""
    if "://" not in url:
        return f"JournalStorage on the local file {Path(url).name}"
    try:
        safe = make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL: show its scheme only
        safe = url.split("://", 1)[0] + "://..."
    return f"RDBStorage at {safe}"


def split_trials(n_trials: int, n_workers: int) -> list[int]:
    """How many trials each worker runs: `n_trials` shared as evenly as possible, the first workers one more.

    Raises ValueError when `n_workers` is below 1 or there are fewer trials than workers.
    """
    if n_workers < 1 or n_trials < n_workers:
        raise ValueError(f"need at least 1 worker and 1 trial per worker, got {n_trials} trials, {n_workers} workers")
    share, extra = divmod(n_trials, n_workers)
    return [share + (index < extra) for index in range(n_workers)]


def worker_command(script: Path, **options: Any) -> list[str]:
    """`python script --name value ...` for the current interpreter; option names use hyphens on the command line.

    Raises FileNotFoundError when the script does not exist.
    """
    if not Path(script).is_file():
        raise FileNotFoundError(f"no worker script at {script}")
    arguments = [item for name, value in options.items() for item in (f"--{name.replace('_', '-')}", str(value))]
    return [sys.executable, str(script), *arguments]


def worker_env(tracking_uri: str, thread_count: int) -> dict[str, str]:
    """The environment of a worker: this one, plus the tracking URI, the quiet MLflow settings, this repository
    on `PYTHONPATH` and native thread pools capped at `thread_count` (so workers do not oversubscribe cores)."""
    env = {**QUIET_ENV, **os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env |= {name: str(thread_count) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return env


class WorkerFailed(RuntimeError):
    """A worker process exited with a non-zero code (the message holds the tail of its stderr)."""


@dataclass(frozen=True)
class WorkerResult:
    """How one worker process ended."""

    index: int
    returncode: int | None  # None: killed after the timeout
    seconds: float
    stdout: str
    stderr: str


def _run_worker(
    command: Sequence[str],
    log_dir: Path,
    index: int,
    env: Mapping[str, str] | None,
    timeout: float | None,
    start: float,
) -> WorkerResult:
    """Run one worker to its end (killed after `timeout` s: return code None), its output in two log files."""
    out, err = log_dir / f"{index}.out", log_dir / f"{index}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        try:
            returncode = subprocess.run(
                list(command), stdout=stdout, stderr=stderr, env=env, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:  # subprocess.run has killed the worker
            returncode = None
    return WorkerResult(index, returncode, time.perf_counter() - start, out.read_text(), err.read_text())


def run_workers(
    commands: Sequence[Sequence[str]], *, env: Mapping[str, str] | None = None, timeout: float | None = None
) -> list[WorkerResult]:
    """Start one process per command at once, wait for all of them, and return how each ended.

    Output goes to temporary files (pipes could fill up and stall a worker). Raises `WorkerFailed` naming every
    worker that exited non-zero, with the tail of its stderr, once all have ended; a worker still running after
    `timeout` seconds is killed, and `WorkerFailed` says so. ValueError when there is no command.
    """
    if not commands:
        raise ValueError("no worker command to run")
    with tempfile.TemporaryDirectory(prefix="workers-") as folder, ThreadPoolExecutor(len(commands)) as pool:
        start = time.perf_counter()
        futures = [
            pool.submit(_run_worker, command, Path(folder), index, env, timeout, start)
            for index, command in enumerate(commands)
        ]
        results = [future.result() for future in futures]
    if any(result.returncode is None for result in results):
        raise WorkerFailed(f"workers still running after {timeout:g} s were killed")
    failed = [r for r in results if r.returncode != 0]
    if failed:
        reports = []
        for result in failed:
            tail = "\n    ".join(result.stderr.strip().splitlines()[-STDERR_TAIL_LINES:]) or "(no stderr)"
            reports.append(f"worker {result.index} exited with code {result.returncode}; its stderr ends:\n    {tail}")
        raise WorkerFailed("\n".join(reports))
    return results


@dataclass(frozen=True)
class StudyTiming:
    """The wall time of one study: how many worker processes, with how many CatBoost threads each."""

    label: str
    workers: int
    threads: int
    seconds: float

    def __post_init__(self) -> None:
        if self.workers < 1 or self.threads < 1 or not self.seconds > 0:
            raise ValueError(f"{self.label}: workers and threads must be >= 1 and seconds > 0, got {self}")


def speedup_table(timings: Sequence[StudyTiming], *, decimals: int = 2) -> pd.DataFrame:
    """Wall time, speed-up and efficiency of each study against the first one (the baseline).

    speed-up = baseline seconds / seconds; efficiency = speed-up / (cores / baseline cores), where cores =
    workers x threads: 1.0 means the extra cores were used perfectly. Raises ValueError when `timings` is empty.
    """
    if not timings:
        raise ValueError("no timings to compare")
    table = pd.DataFrame(
        [{"study": t.label, "workers": t.workers, "threads": t.threads, "seconds": t.seconds} for t in timings]
    ).set_index("study")
    table["cores"] = table["workers"] * table["threads"]
    table["speedup"] = table["seconds"].iloc[0] / table["seconds"]
    table["efficiency"] = table["speedup"] / (table["cores"] / table["cores"].iloc[0])
    return table[["workers", "threads", "cores", "seconds", "speedup", "efficiency"]].round(decimals)


def plot_speedup(table: pd.DataFrame) -> Figure:
    """Bars of wall time per study, each labelled with its speed-up (a `speedup_table` frame)."""
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(table.index, table["seconds"], color="tab:blue")
    ax.bar_label(bars, labels=[f"x{s:.2f}" for s in table["speedup"]], padding=2)
    ax.set(ylabel="wall time (s)", title="Same trials, different ways to use the cores")
    ax.margins(y=0.15)
    return fig
