"""Issue 19 §6: a full room on the workshop server. Every attendee, a process of its own with its own user, logs
what notebooks 02 and 04 log at the small budget, all starting at once; then the store is checked run by run.

Attendees are processes forked from one forkserver that has imported MLflow already: MLflow's credentials come
from the process's environment (`MLFLOW_TRACKING_USERNAME`/`_PASSWORD`) and its tracking URI is global, so threads
could not be different users; forking from a warm server keeps 50 processes cheap to start and to hold in memory.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import psutil
from matplotlib.figure import Figure
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient
from sklearn.linear_model import Lasso

from benchmarks.stats import median, percentile
from course_tools.workshop.network import free_port
from course_tools.workshop.roster import ADMIN_USERNAME, named_attendees, signed_in
from course_tools.workshop.server import ADMIN_PASSWORD_ENV, SECRET_KEY_ENV, WORKERS, Workshop, running_workshop
from tutorial_utils.tracking import QUIET_ENV, experiment_name_for, get_or_create_experiment, quiet_mlflow

ROOM_EXPERIMENT = "room-benchmark"
ATTENDEE_TAG = "room.attendee"
#: The small budget's runs: notebook 02's alpha grid (2 alphas) and notebook 04's study (4 trials), a parent each.
NOTEBOOK_RUNS = {"lasso-alpha-grid": 2, "catboost-optuna": 4}
#: Each attendee's runs by name: a parent per notebook, then its children "<parent>-00" ...
RUN_NAMES = [
    f"{parent}{suffix}" for parent, n in NOTEBOOK_RUNS.items() for suffix in ["", *(f"-{i:02d}" for i in range(n))]
]
RUNS_PER_ATTENDEE = len(RUN_NAMES)
START_TIMEOUT = 300.0  # seconds for every attendee to fork and create its experiment, on a loaded machine
ROOM_TIMEOUT = 600.0  # seconds for the whole room to finish logging
TIMEOUT_ENV = "MLFLOW_HTTP_REQUEST_TIMEOUT"
SAMPLE_SECONDS = 0.5
MEBIBYTE = 2**20


@dataclass
class AttendeeLog:
    """What one attendee did: its experiment, when it started and finished, each child run's seconds, its errors."""

    username: str
    experiment_id: str | None = None
    started: float = 0.0
    finished: float = 0.0
    child_seconds: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def attempt(self, action: Callable[[], object]) -> None:
        """Run `action`; count an exception by kind (type and MLflow error code) and keep its first message."""
        try:
            action()
        except Exception as error:  # noqa: BLE001 - counting every kind of failure is the point
            kind = " ".join(filter(None, [type(error).__name__, getattr(error, "error_code", None)]))
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.examples.setdefault(kind, str(error)[:300])


def _prepare(env: dict[str, str], log: AttendeeLog) -> None:
    """Become the attendee (its environment) and activate its own experiment "<username>/room-benchmark"."""
    os.environ.update(env)
    quiet_mlflow()
    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    experiment = get_or_create_experiment(MlflowClient(), experiment_name_for(ROOM_EXPERIMENT, log.username))
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
    log.experiment_id = experiment.experiment_id


def _child(name: str, number: int, log: AttendeeLog, tags: dict[str, str]) -> None:
    """One child run as the notebooks log it (start nested, params, metrics, end), timed into `log`."""
    start = time.perf_counter()
    with mlflow.start_run(run_name=f"{name}-{number:02d}", nested=True, tags=tags):  # as in RUN_NAMES
        mlflow.log_params({"model": name, "number": number, "seed": 42, "iterations": 30})
        mlflow.log_metrics({"val_rmse": 0.5 + number / 100, "n_nonzero_coefs": 10 + number})
    log.child_seconds.append(time.perf_counter() - start)


def _notebook(name: str, n_children: int, log: AttendeeLog, extra: Callable[[], object]) -> None:
    """A parent run with `n_children` children, then `extra` (a model or a figure) logged on the parent."""
    tags = {ATTENDEE_TAG: log.username}
    with mlflow.start_run(run_name=name, tags=tags):
        mlflow.log_params({"model": name, "n_children": n_children})
        for number in range(n_children):
            log.attempt(lambda number=number: _child(name, number, log, tags))
        log.attempt(extra)


def _figure() -> Figure:
    figure = Figure(figsize=(4, 3))
    figure.add_subplot().plot([1, 0.1, 0.01], [0.52, 0.5, 0.51], marker="o")
    return figure


def attend(env: dict[str, str], barrier: Any, results: Any) -> None:
    """One attendee, in a process of its own: prepare, wait for the room at `barrier`, log, put its log on `results`.

    02's parent gets a Lasso model, 04's a figure (the model is fitted and the figure drawn before the barrier).
    """
    log = AttendeeLog(env["MLFLOW_TRACKING_USERNAME"])
    log.attempt(lambda: _prepare(env, log))
    rng = np.random.default_rng(42)
    model, figure = Lasso(alpha=0.01).fit(rng.normal(size=(50, 3)), rng.normal(size=50)), _figure()

    def log_model() -> None:
        # explicit requirements: inferring them starts a subprocess per model, work for the laptop, not the server
        mlflow.sklearn.log_model(model, name="lasso-alpha-0_01", pip_requirements=["scikit-learn"])

    extras = [log_model, lambda: mlflow.log_figure(figure, "figures/study.png")]
    barrier.wait(timeout=START_TIMEOUT)
    log.started = time.time()
    if log.experiment_id is not None:
        for (name, n_children), extra in zip(NOTEBOOK_RUNS.items(), extras, strict=True):
            log.attempt(lambda name=name, n_children=n_children, extra=extra: _notebook(name, n_children, log, extra))
    log.finished = time.time()
    results.put(log)


def _run_attendees(
    attendees: list[dict[str, str]], watch: dict[str, int]
) -> tuple[list[AttendeeLog], dict[str, dict[str, float]]]:
    """Every attendee in its own process, released together by a barrier; their logs (a crashed one's errors), and
    the `process_usage` of the `watch` trees from the barrier until the last log came back."""
    quiet_mlflow()  # before the forkserver starts and imports MLflow: telemetry off, which races in 50 processes
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    barrier, results = context.Barrier(len(attendees) + 1), context.Queue()
    processes = [context.Process(target=attend, args=(env, barrier, results)) for env in attendees]
    for process in processes:
        process.start()
    logs = {}
    try:
        barrier.wait(timeout=START_TIMEOUT)
        with process_usage(watch) as usage:
            deadline = time.monotonic() + ROOM_TIMEOUT
            while len(logs) < len(attendees) and time.monotonic() < deadline:
                try:
                    log = results.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    break
                logs[log.username] = log
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    missing = [env["MLFLOW_TRACKING_USERNAME"] for env in attendees if env["MLFLOW_TRACKING_USERNAME"] not in logs]
    lost = [AttendeeLog(name, errors={"attendee process died or timed out": 1}) for name in missing]
    return [*logs.values(), *lost], usage


def _check(log: AttendeeLog, client: MlflowClient) -> dict[str, Any]:
    """What the store holds in the attendee's experiment: its expected runs found (by name), extra runs of its own
    (a create retried after a failed answer, which the server had done), other attendees' runs, runs RUNNING."""
    runs = client.search_runs([log.experiment_id], max_results=1000) if log.experiment_id else []
    own = [run for run in runs if run.data.tags.get(ATTENDEE_TAG) == log.username]
    found = len({run.info.run_name for run in own} & set(RUN_NAMES))
    return {
        "username": log.username,
        "expected": RUNS_PER_ATTENDEE,
        "found": found,
        "duplicates": len(own) - found,
        "misplaced": len(runs) - len(own),
        "running": sum(run.info.status == RunStatus.to_string(RunStatus.RUNNING) for run in runs),
        "errors": sum(log.errors.values()),
    }


def fill_room(
    tracking_uri: str, attendees: list[dict[str, str]], admin_password: str, watch: dict[str, int] | None = None
) -> dict[str, Any]:
    """Let `attendees` (each one's MLFLOW_TRACKING_URI/USERNAME/PASSWORD) log at once, then check the store as the
    admin: runs expected and found per attendee and in total, lost, misplaced, RUNNING; child-run latency; errors;
    the CPU and memory of the `watch` process trees (name: root pid) while the room logged; the machine's load average
    (1, 5 and 15 minutes) before it, as other jobs on a shared machine slow the room down."""
    load = os.getloadavg()
    logs, usage = _run_attendees(attendees, watch or {})
    logs.sort(key=lambda log: log.username)
    with signed_in(ADMIN_USERNAME, admin_password):
        client = MlflowClient(tracking_uri)
        per_attendee = [_check(log, client) for log in logs]
    errors, examples = Counter(), {}
    for log in logs:
        errors.update(log.errors)
        examples.update({kind: text for kind, text in log.examples.items() if kind not in examples})
    milliseconds = [1000 * s for log in logs for s in log.child_seconds]
    starts = [log.started for log in logs if log.started]
    keys = ("expected", "found", "duplicates", "misplaced", "running")
    total = {key: sum(a[key] for a in per_attendee) for key in keys}
    return {
        "attendees": len(attendees),
        "runs_per_attendee": RUNS_PER_ATTENDEE,
        "runs_expected": total["expected"],
        "runs_found": total["found"],
        "lost": total["expected"] - total["found"],
        "duplicates": total["duplicates"],
        "misplaced": total["misplaced"],
        "running": total["running"],
        "errors": dict(errors),
        "error_examples": examples,
        "child_runs": len(milliseconds),
        "child_ms": {"p50": median(milliseconds), "p95": percentile(milliseconds, 95), "max": max(milliseconds)}
        if milliseconds
        else None,
        "start_spread_s": max(starts) - min(starts) if starts else None,
        "logging_wall_s": max(log.finished for log in logs) - min(starts) if starts else None,
        "per_attendee": per_attendee,
        "usage": usage,
        "load_average_before": list(load),
        # what each attendee's MLflow waits for an answer before it sends a request again (`_prepare`)
        "request_timeout_s": float(os.environ.get(TIMEOUT_ENV) or QUIET_ENV[TIMEOUT_ENV]),
    }


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    """CPU seconds of `processes` and of the children they reaped (PostgreSQL forks a process per connection)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


@contextmanager
def process_usage(pids: dict[str, int]) -> Iterator[dict[str, dict[str, float]]]:
    """Per named process tree (a root pid and its descendants, listed anew at each look): CPU seconds, cores used on
    average and peak resident memory (summed over the processes) inside the block, filled in when it ends."""
    before = {name: _cpu_seconds(_tree(pid)) for name, pid in pids.items()}
    peaks = dict.fromkeys(pids, 0)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            for name, pid in pids.items():
                peaks[name] = max(peaks[name], _rss(_tree(pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    usage: dict[str, dict[str, float]] = {}
    try:
        yield usage
    finally:
        stop.set()
        sampler.join()
        wall = time.perf_counter() - start
        for name, pid in pids.items():
            tree = _tree(pid)
            cpu = _cpu_seconds(tree) - before[name]
            usage[name] = {
                "processes": len(tree),
                "cpu_s": cpu,
                "cores": cpu / wall,
                "peak_rss_mb": peaks[name] / MEBIBYTE,
            }


def room_attendees(tracking_uri: str, count: int, admin_password: str) -> list[dict[str, str]]:
    """`count` users "room 01" ... on the server, created as the admin; each one's three environment variables."""
    return named_attendees(tracking_uri, [f"room {n:02d}" for n in range(1, count + 1)], admin_password)


@contextmanager
def fresh_workshop(data_dir: Path, backend: str = "postgres", workers: int = WORKERS) -> Iterator[tuple[Workshop, str]]:
    """A fresh workshop server as `make server` runs it (`backend`, `workers`, basic auth, new secrets) in
    `data_dir`, on a free port: the running workshop and its admin password."""
    admin_password = secrets.token_urlsafe(18)
    env = dict(os.environ, **{ADMIN_PASSWORD_ENV: admin_password, SECRET_KEY_ENV: secrets.token_urlsafe(24)})
    with running_workshop(data_dir, backend=backend, workers=workers, port=free_port(), env=env) as workshop:
        yield workshop, admin_password


def measure_room(data_dir: Path, backend: str, count: int, workers: int = WORKERS) -> dict[str, Any]:
    """A fresh workshop server (`backend`, `workers`) in `data_dir` with `count` attendees on it: `fill_room`'s
    report, watching the server's processes (and PostgreSQL's, on the course's own cluster)."""
    with fresh_workshop(data_dir, backend, workers) as (workshop, admin_password):
        uri = workshop.server.uri
        attendees = room_attendees(uri, count, admin_password)
        watch = {"mlflow server": workshop.server.process.pid}
        if backend == "postgres":
            postmaster = data_dir / "postgres" / "data" / "postmaster.pid"
            watch["postgresql"] = int(postmaster.read_text().split()[0])
        return {"backend": backend, "workers": workers, **fill_room(uri, attendees, admin_password, watch)}
