"""Plumbing for notebook 06: a shared Optuna storage, worker processes, and the speed-up table.

The worker script trains with notebook 04's search space and model (`tutorial_utils.tuning`). The Optuna and MLflow
calls of the lesson stay in the notebook and its worker script.
"""

from __future__ import annotations

import contextlib
import os
import signal
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
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator
from mlflow.entities import Run, RunStatus
from mlflow.tracking import MlflowClient
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.engine import make_url

from tutorial_utils.paths import REPO_ROOT, course_store_dir
from tutorial_utils.tracking import QUIET_ENV

#: The default JournalStorage file, in the folder of the embedded tracking store (git-ignored, moved with it).
JOURNAL_FILE_NAME = "parallel_tuning.journal"
STDERR_TAIL_LINES = 20
#: The variable that hands a worker its storage URL: not its command line, which `ps` shows to every local user.
STORAGE_ENV = "STORAGE_URL"
#: MLflow's active-run state a notebook carries in its environment: a worker inheriting MLFLOW_RUN_ID would log its
#: first trial into the run that launched it instead of a child run (mlflow issue 15713), so workers get none of it.
INHERITED_RUN_STATE = (
    "MLFLOW_RUN_ID",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_ACTIVE_MODEL_ID",
    "_MLFLOW_ACTIVE_MODEL_ID",
)
#: The trial states the workers count against the study's budget: running or finished, but not FAIL (a failed
#: trial's place goes to a new one; nor WAITING, a queued trial no worker has taken yet).
COUNTED = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED)
STOP_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1


def storage_url(url: str = "") -> str:
    """`url`; for "" the `STORAGE_ENV` variable when it is set (a shared study's URL stays out of the notebook),
    else the default journal file beside the embedded tracking store (its folder created)."""
    if chosen := url.strip() or os.environ.get(STORAGE_ENV, "").strip():
        return chosen
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


def worker_storage() -> BaseStorage:
    """The storage a worker process joins: `open_storage` of `$STORAGE_URL`; ValueError when it is not set."""
    url = os.environ.get(STORAGE_ENV, "")
    if not url.strip():
        raise ValueError(f"set {STORAGE_ENV} to the study's storage URL (the notebook's workers get it from run_study)")
    return open_storage(url)


def describe_storage(url: str) -> str:
    """A one-line description of a storage URL with no password and no machine path, for notebook output."""
    if "://" not in url:
        return f"JournalStorage on the local file {Path(url).name}"
    try:
        safe = make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL: show its scheme only
        safe = url.split("://", 1)[0] + "://..."
    return f"RDBStorage at {safe}"


def worker_command(script: Path, **options: Any) -> list[str]:
    """`python script --name value ...` for the current interpreter; option names use hyphens on the command line.

    Raises FileNotFoundError when the script does not exist, and ValueError for a `storage` option: its URL may
    hold a password, which a command line shows to every local user (`worker_env` passes it instead).
    """
    if "storage" in options:
        raise ValueError(f"pass the storage URL in the worker's environment ({STORAGE_ENV}), not on its command line")
    if not Path(script).is_file():
        raise FileNotFoundError(f"no worker script at {script}")
    arguments = [item for name, value in options.items() for item in (f"--{name.replace('_', '-')}", str(value))]
    return [sys.executable, str(script), *arguments]


def worker_env(tracking_uri: str, thread_count: int, storage: str) -> dict[str, str]:
    """The environment of a worker: this one without MLflow's active-run state (`INHERITED_RUN_STATE`), plus the
    tracking URI, the storage URL (`STORAGE_ENV`), the quiet MLflow settings, this repository on `PYTHONPATH` and
    native thread pools capped at `thread_count` (so workers do not oversubscribe cores)."""
    env = {**QUIET_ENV, **os.environ, "MLFLOW_TRACKING_URI": tracking_uri, STORAGE_ENV: storage}
    for name in INHERITED_RUN_STATE:
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env |= {name: str(thread_count) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return env


class WorkerFailed(RuntimeError):
    """A worker process exited with a non-zero code (the message holds the tail of its stderr), or hung."""


@dataclass(frozen=True)
class WorkerResult:
    """How one worker process ended."""

    index: int
    returncode: int
    seconds: float
    stdout: str
    stderr: str


def _stop(processes: Sequence[subprocess.Popen]) -> None:
    """End every process still running, with whatever it started: SIGTERM to its process group, SIGKILL after
    `STOP_GRACE_SECONDS`; returns once all have ended."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):  # it ended in the meantime
                    os.killpg(process.pid, signum)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
    for process in processes:
        process.wait()


def run_workers(
    commands: Sequence[Sequence[str]], *, env: Mapping[str, str] | None = None, timeout: float | None = None
) -> list[WorkerResult]:
    """Start one process per command at once, wait for all of them, and return how each ended.

    Each worker runs in a session of its own, so a Ctrl-C (or a kernel interrupt) reaches only this process, which
    then stops every worker before the KeyboardInterrupt goes on; a worker still running after `timeout` seconds
    stops them all too, with `WorkerFailed`. Output goes to temporary files (pipes could fill up and stall a
    worker). Raises `WorkerFailed` naming every worker that exited non-zero, with the tail of its stderr, once all
    have ended. ValueError when there is no command.
    """
    if not commands:
        raise ValueError("no worker command to run")
    with tempfile.TemporaryDirectory(prefix="workers-") as folder:
        logs = [(Path(folder, f"{i}.out"), Path(folder, f"{i}.err")) for i in range(len(commands))]
        processes: list[subprocess.Popen] = []
        seconds: dict[int, float] = {}
        start = time.perf_counter()
        try:
            for command, (out, err) in zip(commands, logs, strict=True):
                with out.open("w") as stdout, err.open("w") as stderr:
                    processes.append(
                        subprocess.Popen(list(command), stdout=stdout, stderr=stderr, env=env, start_new_session=True)
                    )
            while len(seconds) < len(processes):
                if timeout is not None and time.perf_counter() - start > timeout:
                    raise WorkerFailed(f"workers still running after {timeout:g} s were stopped")
                for index, process in enumerate(processes):
                    if index not in seconds and process.poll() is not None:
                        seconds[index] = time.perf_counter() - start
                time.sleep(POLL_SECONDS)
        finally:
            _stop(processes)  # nothing left running, whatever ended the wait (KeyboardInterrupt included)
        results = [
            WorkerResult(i, p.returncode, seconds[i], out.read_text(), err.read_text())
            for i, (p, (out, err)) in enumerate(zip(processes, logs, strict=True))
        ]
    failed = [r for r in results if r.returncode != 0]
    if failed:
        reports = []
        for result in failed:
            tail = _stderr_tail(result.stderr)
            reports.append(f"worker {result.index} exited with code {result.returncode}; its stderr ends:\n    {tail}")
        raise WorkerFailed("\n".join(reports))
    return results


def _stderr_tail(text: str) -> str:
    """The last `STDERR_TAIL_LINES` lines of a worker's stderr, indented for an error message."""
    return "\n    ".join(text.strip().splitlines()[-STDERR_TAIL_LINES:]) or "(no stderr)"


def wait_until_mid_trial(
    process: subprocess.Popen, study: optuna.Study, parent_run_id: str, *, timeout: float
) -> tuple[FrozenTrial, Run]:
    """Wait until the worker `process` is mid-trial: a trial of `study` RUNNING, and its child run of
    `parent_run_id` RUNNING with the trial's `trial_number` parameter logged; returns both, as they are then.

    Raises WorkerFailed when the process exits first (with the tail of its stderr, if piped), TimeoutError when
    `timeout` seconds pass first.
    """
    client = MlflowClient()
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    query = f"tags.mlflow.parentRunId = '{parent_run_id}' and attributes.status = 'RUNNING'"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            tail = _stderr_tail(stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr)
            raise WorkerFailed(f"the worker exited with code {process.returncode} before it was mid-trial:\n    {tail}")
        running = {t.number: t for t in study.get_trials(states=(TrialState.RUNNING,))}
        for run in client.search_runs([experiment_id], filter_string=query):
            number = run.data.params.get("trial_number")
            if number is not None and int(number) in running:
                return running[int(number)], run
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"no trial of study {study.study_name!r} was mid-trial within {timeout:g} s")


def end_stopped_trials(parent_run_id: str, study: optuna.Study) -> int:
    """After the workers were stopped: every child run of `parent_run_id` still RUNNING ends KILLED, and every
    trial of `study` still RUNNING ends FAIL (no worker will finish them). Returns how many runs were killed."""
    client = MlflowClient()
    parent = client.get_run(parent_run_id)
    running = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}' and attributes.status = 'RUNNING'",
    )
    for run in running:
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL)
    return len(running)


def plot_timeline_by_worker(figure: Figure, study: optuna.Study) -> Figure:
    """Optuna's timeline (`optuna_figure(plot_timeline, study)`) in seconds since the study's first trial began
    instead of clock times, each bar coloured by the worker that ran it (the trial's `worker` user attribute)."""
    ax = figure.axes[0]
    (bars,) = ax.containers
    trials = study.get_trials(deepcopy=False)
    workers = sorted({t.user_attrs.get("worker", -1) for t in trials})
    colours = {w: f"C{i}" for i, w in enumerate(workers)}
    for bar, trial in zip(bars, trials, strict=True):
        bar.set_color(colours[trial.user_attrs.get("worker", -1)])
    first = min(bar.get_x() for bar in bars)  # matplotlib dates: days
    ax.xaxis.set_major_locator(MultipleLocator(5 / 86400, offset=first))  # a tick every 5 s from the start
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{round((x - first) * 86400)}"))
    ax.set(xlabel="seconds since the first trial started", title="Which worker ran which trial, when")
    ax.legend(
        handles=[Patch(color=colours[w], label=f"worker {w}") for w in workers],
        loc="upper left",
        bbox_to_anchor=(1.02, 1),
    )
    for label in ax.get_xticklabels():
        label.set(rotation=0, horizontalalignment="center")
    return figure


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
