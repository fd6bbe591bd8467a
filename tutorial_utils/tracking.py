"""Tracking set-up: the embedded SQLite store (or `MLFLOW_TRACKING_URI`), quiet logging, one experiment.

On a shared workshop server (`MLFLOW_TRACKING_USERNAME` set), each attendee's experiments are namespaced
"<username>/<name>", so nobody's runs land in another's experiment.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
from filelock import FileLock
from mlflow.entities import Experiment, LifecycleStage
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.tracking import MlflowClient

from tutorial_utils.paths import course_store_dir

#: Settings that keep MLflow's chatter out of notebook outputs and make a dead server fail fast.
#: Values already in the environment win.
QUIET_ENV = {
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}
SERVER_CHECK_SECONDS = 5.0
USERNAME_ENV = "MLFLOW_TRACKING_USERNAME"
PASSWORD_ENV = "MLFLOW_TRACKING_PASSWORD"
OFFLINE_HINT = (
    "work offline on the course's local store: unset MLFLOW_TRACKING_URI (in a notebook: run "
    "`%env MLFLOW_TRACKING_URI=` in a cell) and run the tracking cell again; runs already logged stay where they are"
)


class TrackingServerUnavailable(ConnectionError):
    """The tracking server named by `MLFLOW_TRACKING_URI` does not answer."""


class TrackingLoginRejected(PermissionError):
    """The tracking server refused the username and password in `MLFLOW_TRACKING_USERNAME`/`_PASSWORD`."""


def quiet_mlflow() -> None:
    """Apply `QUIET_ENV` (without overriding the environment) and raise MLflow's loggers to WARNING."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    for logger in ("mlflow", "alembic"):
        logging.getLogger(logger).setLevel(logging.WARNING)


def local_store_uri() -> str:
    """URI of the embedded SQLite store (see `paths.course_store_dir`)."""
    return f"sqlite:///{course_store_dir() / 'mlflow.db'}"


def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI` when set, else the embedded store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or local_store_uri()


def _tracking_username() -> str | None:
    """The attendee's login on a shared server (`MLFLOW_TRACKING_USERNAME`), or None."""
    return os.environ.get(USERNAME_ENV, "").strip() or None


def _experiment_name_for(name: str) -> str:
    """`name`, namespaced as "<username>/<name>" when `MLFLOW_TRACKING_USERNAME` is set."""
    username = _tracking_username()
    if username is None or name.startswith(f"{username}/"):
        return name
    return f"{username}/{name}"


def _describe_tracking(uri: str) -> str:
    """A one-line, path-free description of a tracking URI for notebook output."""
    if uri == local_store_uri():
        return "the course's local SQLite store"
    if uri.startswith(("http://", "https://")):
        return f"the tracking server at {uri}"
    return f"the store {uri.split(':', 1)[0]}:... named by MLFLOW_TRACKING_URI"


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI, or None for any other URI."""
    return Path(uri.removeprefix("sqlite:///")).resolve() if uri.startswith("sqlite:///") else None


def ensure_store(uri: str) -> None:
    """Make sure the store answers: create a SQLite store once under a file lock, check a server is up.

    Concurrent first use of a fresh SQLite file corrupts it, so creation is serialised across processes.
    Raises `TrackingServerUnavailable` within seconds when an HTTP server is down.
    """
    if uri.startswith(("http://", "https://")):
        _check_server(uri)
        _check_login(uri)
        return
    database = _sqlite_path(uri)
    if database is None:
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{database}.lock"):
        MlflowClient(uri).search_experiments(max_results=1)


def _check_server(uri: str, timeout: float = SERVER_CHECK_SECONDS) -> None:
    """Raise `TrackingServerUnavailable`, naming the URI and the ways forward, if no server answers."""
    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout).close()
    except urllib.error.HTTPError as error:
        if error.code == 401:
            return  # it answered behind a login: the server is up
        raise TrackingServerUnavailable(
            f"Something answers at {uri}, but not an MLflow tracking server (HTTP {error.code} on /health). "
            f"Check MLFLOW_TRACKING_URI, or {OFFLINE_HINT}."
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TrackingServerUnavailable(
            f"No MLflow tracking server answers at {uri} ({reason}). Either start the server (see the README, "
            f"'Troubleshooting'; at a workshop, ask the instructor), or {OFFLINE_HINT}."
        ) from None


def _check_login(uri: str, timeout: float = SERVER_CHECK_SECONDS) -> str | None:
    """The user the server knows us as (from the MLFLOW_TRACKING_* credentials); None on a server without logins.

    Raises `TrackingLoginRejected`, saying which variables to fix, when the server refuses the credentials.
    """
    request = urllib.request.Request(f"{uri.rstrip('/')}/api/2.0/mlflow/users/current")
    username = _tracking_username()
    if username is not None:
        token = base64.b64encode(f"{username}:{os.environ.get(PASSWORD_ENV, '')}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)["user"]["username"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None  # no auth app: anyone may track
        if error.code != 401:
            raise
        who = f"the username {username!r} with this password" if username else "a request without a login"
        raise TrackingLoginRejected(
            f"The tracking server at {uri} refused {who}: set {USERNAME_ENV} and {PASSWORD_ENV} to what the "
            f"instructor gave you (in a notebook: `%env {PASSWORD_ENV}=...`), then run the cell again."
        ) from None
    except (urllib.error.URLError, OSError) as error:
        raise TrackingServerUnavailable(f"The tracking server at {uri} stopped answering ({error}).") from None


def connection_check() -> None:
    """Print one line: the local store (offline), or the shared server and who we are on it, or what is wrong."""
    uri = tracking_uri()
    username = _tracking_username()
    if not uri.startswith(("http://", "https://")):
        mine = f"; experiments namespaced for {username!r}" if username else ""
        print(f"Connection check: offline, on {_describe_tracking(uri)} (no server needed){mine}.")
        return
    try:
        _check_server(uri)
        user = _check_login(uri)
    except (TrackingServerUnavailable, TrackingLoginRejected) as error:
        print(f"Connection check FAILED. {error}")
        return
    who = f"as {user!r}, your experiments are '{user}/...'" if user else "without a login (the server asks none)"
    print(f"Connection check: on the shared server at {uri}, {who}.")


def _artifact_location(uri: str, experiment_name: str) -> str | None:
    """For a SQLite store, an artifact folder beside the database; servers choose their own."""
    database = _sqlite_path(uri)
    if database is None:
        return None
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", experiment_name).strip("-") or "experiment"
    return (database.parent / "artifacts" / slug).as_uri()


def get_or_create_experiment(client: MlflowClient, name: str, artifact_location: str | None = None) -> Experiment:
    """The active experiment called `name`: created if new, restored if deleted, safe when clients race."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            client.create_experiment(name, artifact_location=artifact_location)
        except MlflowException as error:
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
        experiment = client.get_experiment_by_name(name)
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        client.restore_experiment(experiment.experiment_id)
        experiment = client.get_experiment(experiment.experiment_id)
    return experiment


def setup_tracking(experiment_name: str, *, verbose: bool = True) -> Experiment:
    """Point MLflow at the course store (or `MLFLOW_TRACKING_URI`) and activate `experiment_name`.

    Idempotent: safe to call in every notebook, on every re-run, from several processes at once. With
    `MLFLOW_TRACKING_USERNAME` set, the experiment is "<username>/<experiment_name>" (see `_experiment_name_for`).
    """
    if not experiment_name.strip():
        raise ValueError("experiment_name must not be empty")
    quiet_mlflow()
    uri = tracking_uri()
    ensure_store(uri)
    mlflow.set_tracking_uri(uri)
    name = _experiment_name_for(experiment_name)
    experiment = get_or_create_experiment(MlflowClient(uri), name, _artifact_location(uri, name))
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
    if verbose:
        username = _tracking_username()
        who = f" as {username!r}" if username else ""
        print(f"Tracking to {_describe_tracking(uri)}{who}; active experiment: {experiment.name!r}")
    return experiment
