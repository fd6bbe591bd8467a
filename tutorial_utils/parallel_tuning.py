"""Plumbing for notebook 06: a shared Optuna storage, worker processes, and the speed-up table.

The worker script's CatBoost search space and trainer live here too: the space repeats the one notebook 04 teaches
(a worker cannot import from a notebook; a test keeps the two equal). The Optuna and MLflow calls of the lesson
stay in the notebook and its worker script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from catboost import CatBoostRegressor
from matplotlib.figure import Figure
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import make_url

from tutorial_utils.data import CATEGORICAL_FEATURES
from tutorial_utils.paths import BUILD_DIR, REPO_ROOT
from tutorial_utils.tracking import QUIET_ENV

#: Where the default JournalStorage file lives (git-ignored, like everything under build/).
JOURNAL_FILE = BUILD_DIR / "optuna" / "parallel_tuning.journal"
STDERR_TAIL_LINES = 20


def suggest_catboost_params(trial: optuna.Trial) -> dict[str, Any]:
    """The course's CatBoost search space (notebook 04 explains each parameter); fixed entries included."""
    return {
        "depth": trial.suggest_int("depth", 4, 8),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1.0, 30.0, log=True),
        "random_strength": trial.suggest_float("random_strength", 0.1, 10.0, log=True),
        "bootstrap_type": "Bernoulli",  # fixed: the bagging scheme that `subsample` controls
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
    }


def catboost_model(params: Mapping[str, Any], iterations: int, *, seed: int, thread_count: int) -> CatBoostRegressor:
    """An unfitted CatBoost regressor: RMSE loss, native categoricals, seeded, fixed threads, no files written.

    Raises ValueError when `iterations` or `thread_count` is not positive (CatBoost's -1 "all cores" is refused:
    the course fixes the thread count so that parallel workers do not oversubscribe the cores).
    """
    if iterations < 1 or thread_count < 1:
        raise ValueError(f"iterations and thread_count must be at least 1, got {iterations} and {thread_count}")
    return CatBoostRegressor(
        **params,
        loss_function="RMSE",
        random_seed=seed,
        thread_count=thread_count,
        iterations=iterations,
        cat_features=CATEGORICAL_FEATURES,
        verbose=False,
        allow_writing_files=False,
    )


def storage_url(url: str = "") -> str:
    """`url` unchanged, or for "" the default journal file `JOURNAL_FILE` (its folder created)."""
    if url.strip():
        return url.strip()
    JOURNAL_FILE.parent.mkdir(parents=True, exist_ok=True)
    return str(JOURNAL_FILE)


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
    returncode: int
    seconds: float
    stdout: str
    stderr: str


def run_workers(
    commands: Sequence[Sequence[str]], *, env: Mapping[str, str] | None = None, timeout: float | None = None
) -> list[WorkerResult]:
    """Start one process per command at once, wait for all of them, and return how each ended.

    Output goes to temporary files (pipes could fill up and stall a worker). Raises `WorkerFailed` naming every
    worker that exited non-zero, with the tail of its stderr, once all have ended; after `timeout` seconds the
    remaining workers are killed and `WorkerFailed` is raised too. ValueError when there is no command.
    """
    if not commands:
        raise ValueError("no worker command to run")
    with tempfile.TemporaryDirectory(prefix="workers-") as folder:
        logs = [(Path(folder) / f"{i}.out", Path(folder) / f"{i}.err") for i in range(len(commands))]
        start = time.perf_counter()
        processes = []
        for command, (out, err) in zip(commands, logs, strict=True):
            with out.open("w") as stdout, err.open("w") as stderr:
                processes.append(subprocess.Popen(list(command), stdout=stdout, stderr=stderr, env=env))
        ended: dict[int, float] = {}
        while len(ended) < len(processes):
            for index, process in enumerate(processes):
                if index not in ended and process.poll() is not None:
                    ended[index] = time.perf_counter() - start
            if timeout is not None and time.perf_counter() - start > timeout and len(ended) < len(processes):
                for process in processes:
                    process.kill()
                    process.wait()
                raise WorkerFailed(f"workers still running after {timeout:g} s were killed")
            time.sleep(0.02)
        results = [
            WorkerResult(i, p.returncode, ended[i], out.read_text(), err.read_text())
            for i, (p, (out, err)) in enumerate(zip(processes, logs, strict=True))
        ]
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
