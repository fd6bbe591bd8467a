"""Tracking set-up: the embedded SQLite store (or `MLFLOW_TRACKING_URI`), quiet logging, one experiment.

On a shared workshop server (`MLFLOW_TRACKING_USERNAME` set), each attendee's experiments are namespaced
"<username>/<name>", so nobody's runs land in another's experiment.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
import urllib.parse
from pathlib import Path

import mlflow
import requests
from filelock import FileLock
from mlflow.entities import Experiment, LifecycleStage
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.tracking import MlflowClient
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request

from tutorial_utils.paths import course_store_dir

#: Settings that keep MLflow's chatter out of notebook outputs and make a dead server fail fast; values already in
#: the environment win. MLflow (urllib3) retries a failed request at once, then after factor * 2 s: a server that
#: stopped answering costs a call 4 + 4 + 6 + 4 = 18 s, and one that refuses connections while it restarts is
#: asked again 6 s later, so a restart of up to 6 s goes unnoticed. The price: a request the server needs more than
#: 4 s to answer is sent again (twice at most, so a run creation can leave an extra run), and fails if every attempt
#: is as slow. 3 s left extra runs on a test server under a load average of 30; MLflow's own default is 120 s.
QUIET_ENV = {
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "4",
    # Off, as the course runs offline: MLflow's telemetry thread, failing to reach its server, removes a variable
    # from os.environ while a tracking call may be copying it, which then fails with a KeyError (once in a room of 50).
    "MLFLOW_DISABLE_TELEMETRY": "true",
}
SERVER_CHECK_SECONDS = 5.0
USERNAME_ENV = "MLFLOW_TRACKING_USERNAME"
PASSWORD_ENV = "MLFLOW_TRACKING_PASSWORD"
TOKEN_ENV = "MLFLOW_TRACKING_TOKEN"
CURRENT_USER_PATH = "/api/2.0/mlflow/users/current"
PERMISSION_PATH = "/api/3.0/mlflow/users/permissions/get"
#: A read that needs the server's database (/health does not): one experiment.
DATABASE_PROBE_PATH = "/api/2.0/mlflow/experiments/search?max_results=1"
#: The permissions of MLflow's basic auth that allow logging runs (`can_update` in mlflow.server.auth.permissions).
CAN_LOG = frozenset({"EDIT", "MANAGE"})
OFFLINE_HINT = (
    "work offline on the course's local store: unset MLFLOW_TRACKING_URI (in a notebook: run "
    "`%env MLFLOW_TRACKING_URI=` in a cell) and run the tracking cell again; runs already logged stay where they are"
)


class TrackingServerUnavailable(ConnectionError):
    """The tracking server named by `MLFLOW_TRACKING_URI` does not answer."""


class TrackingCertificateUntrusted(TrackingServerUnavailable):
    """The tracking server answers over HTTPS with a certificate this machine does not trust (a private CA)."""


class TrackingLoginRejected(PermissionError):
    """The tracking server refused the username and password in `MLFLOW_TRACKING_USERNAME`/`_PASSWORD`."""


class ExperimentNotYours(PermissionError):
    """Another user created the attendee's experiment first: the server lets the attendee read it, not log to it."""


class ModelNotYours(PermissionError):
    """Another user created the attendee's registered model first: the server lets the attendee read it, not add
    versions or move its aliases."""


def quiet_mlflow() -> None:
    """Apply `QUIET_ENV` (without overriding the environment) and set MLflow's loggers to `MLFLOW_LOGGING_LEVEL`."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    for logger in ("mlflow", "alembic"):
        logging.getLogger(logger).setLevel(os.environ["MLFLOW_LOGGING_LEVEL"].upper())


def local_store_uri() -> str:
    """URI of the embedded SQLite store (see `paths.course_store_dir`)."""
    return f"sqlite:///{course_store_dir() / 'mlflow.db'}"


def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI` when set, else the embedded store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or local_store_uri()


def _tracking_username() -> str | None:
    """The attendee's login on a shared server (`MLFLOW_TRACKING_USERNAME`), or None."""
    return os.environ.get(USERNAME_ENV, "").strip() or None


def experiment_name_for(name: str, username: str | None = None) -> str:
    """`name`, namespaced as "<username>/<name>" on a shared server (`username`, default `MLFLOW_TRACKING_USERNAME`)."""
    username = _tracking_username() if username is None else username
    if not username or name.startswith(f"{username}/"):
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


def _innermost(error: BaseException) -> BaseException:
    """The error at the bottom of a chain: MLflow wraps requests' error, which wraps urllib3's, which wraps the
    socket's or the TLS library's."""
    for _ in range(20):
        inner = error.__cause__ or error.__context__
        if inner is None:
            break
        error = inner
    return error


def _get(uri: str, path: str, timeout: float = SERVER_CHECK_SECONDS) -> requests.Response:
    """GET `path` on the server once, as MLflow itself would: with its login, token and TLS settings
    (MLFLOW_TRACKING_USERNAME/_PASSWORD, _TOKEN, _INSECURE_TLS, _SERVER_CERT_PATH, _CLIENT_CERT_PATH and
    REQUESTS_CA_BUNDLE). Raises `TrackingCertificateUntrusted` when the server's certificate is not trusted and
    `TrackingServerUnavailable`, naming the URI and the ways forward, when nothing answers."""
    credentials = get_default_host_creds(uri)
    try:
        return http_request(
            credentials, path, "GET", max_retries=0, backoff_factor=0, backoff_jitter=0, retry_codes=(), timeout=timeout
        )
    except MlflowException as error:
        reason = _innermost(error)
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise TrackingCertificateUntrusted(
                f"The tracking server at {uri} answers, but this machine does not trust its TLS certificate "
                f"({reason.verify_message}). Set REQUESTS_CA_BUNDLE (or MLFLOW_TRACKING_SERVER_CERT_PATH) to the "
                f"certificate of the CA that signed it (at a workshop, the instructor hands it out; in a notebook: "
                f"`%env REQUESTS_CA_BUNDLE=/path/to/ca.pem`) and run the cell again, or {OFFLINE_HINT}."
            ) from None
        raise TrackingServerUnavailable(
            f"No MLflow tracking server answers at {uri} ({reason}). Either start the server (see the README, "
            f"'Troubleshooting'; at a workshop, ask the instructor), or {OFFLINE_HINT}."
        ) from None


def _check_server(uri: str, timeout: float = SERVER_CHECK_SECONDS) -> None:
    """Raise `TrackingServerUnavailable` (see `_get`) if no MLflow server answers at `uri`."""
    response = _get(uri, "/health", timeout)
    if response.status_code >= 400 and response.status_code != 401:  # 401: it answered behind a login, so it is up
        raise TrackingServerUnavailable(
            f"Something answers at {uri}, but not an MLflow tracking server (HTTP {response.status_code} on /health). "
            f"Check MLFLOW_TRACKING_URI, or {OFFLINE_HINT}."
        )


def _server_json(uri: str, path: str, timeout: float = SERVER_CHECK_SECONDS) -> dict | None:
    """GET `path` on the server, signed in as MLflow would be (see `_get`); None when it has no such route (a
    server without logins). Raises `TrackingLoginRejected`, saying which variables to fix, on a refused login,
    and `TrackingServerUnavailable` when the server answers with an error of its own (5xx: its database is down)."""
    response = _get(uri, path, timeout)
    if response.status_code == 404:
        return None
    if response.status_code >= 500:
        raise TrackingServerUnavailable(
            f"The tracking server at {uri} answers, but its database does not (HTTP {response.status_code} on "
            f"{path}): at a workshop, tell the instructor; on your own server, start its database; or {OFFLINE_HINT}."
        )
    if response.status_code != 401:
        response.raise_for_status()
        return response.json()
    username = _tracking_username()
    fix, variable = f"{USERNAME_ENV} and {PASSWORD_ENV}", PASSWORD_ENV
    if username is not None:
        who = f"the username {username!r} with this password"
    elif os.environ.get(TOKEN_ENV):
        who, fix, variable = f"the token in {TOKEN_ENV}", TOKEN_ENV, TOKEN_ENV
    else:
        who = "a request without a login"
    raise TrackingLoginRejected(
        f"The tracking server at {uri} refused {who}: set {fix} to what the instructor gave you "
        f"(in a notebook: `%env {variable}=...`), then run the cell again."
    )


def _check_login(uri: str) -> str | None:
    """The user the server knows us as (from the MLFLOW_TRACKING_* credentials); None on a server without logins."""
    current = _server_json(uri, CURRENT_USER_PATH)
    return None if current is None else current["user"]["username"]


def _may_write(uri: str, username: str, resource_type: str, resource_id: str) -> bool:
    """Whether `username` may write to a resource (an experiment, a registered model): EDIT or MANAGE on it, or an
    admin; True on a server without per-user permissions."""
    query = urllib.parse.urlencode({"username": username, "resource_type": resource_type, "resource_id": resource_id})
    granted = _server_json(uri, f"{PERMISSION_PATH}?{query}")
    if granted is None or granted["permission"] in CAN_LOG:
        return True
    return _server_json(uri, CURRENT_USER_PATH)["user"]["is_admin"]


def _check_can_log(uri: str, experiment: Experiment) -> None:
    """Raise `ExperimentNotYours` when the server lets this attendee read `experiment` but not log to it."""
    username = _tracking_username()
    if username is None or _may_write(uri, username, "experiment", experiment.experiment_id):
        return
    other_name = f"{experiment.name.removeprefix(f'{username}/')}-2"
    raise ExperimentNotYours(
        f"The experiment {experiment.name!r} on the tracking server at {uri} belongs to another user, who created it "
        f"before you did, so you may read it but not log to it: ask the instructor to give it to you (MANAGE), "
        f"or track under another name, for example `tu.setup_tracking({other_name!r})`."
    )


def check_can_register(model_name: str) -> None:
    """On a shared server with logins, raise `ModelNotYours` when the registered model `model_name` exists and this
    attendee may read it but not register versions in it (someone else created it first). A name that does not
    exist yet passes: whoever creates it gets MANAGE on it. Nothing to check on a local store."""
    uri, username = tracking_uri(), _tracking_username()
    if username is None or not uri.startswith(("http://", "https://")):
        return
    if not MlflowClient(uri).search_registered_models(filter_string=f"name = '{model_name}'"):
        return
    if _may_write(uri, username, "registered_model", model_name):
        return
    raise ModelNotYours(
        f"The registered model {model_name!r} on the tracking server at {uri} belongs to another user, who created "
        f"it before you did, so you may read it but not register versions in it: ask the instructor to give it to "
        f"you (MANAGE), or set REGISTERED_MODEL to another name in the parameters cell, for example "
        f"{model_name.removeprefix(f'{username}.') + '-2'!r}."
    )


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
    if user:
        who = f"as {user!r}, your experiments are '{user}/...'"
    elif os.environ.get(TOKEN_ENV):
        who = f"with the token in {TOKEN_ENV}"
    else:
        who = "without a login (the server asks none)"
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
    `MLFLOW_TRACKING_USERNAME` set, the experiment is "<username>/<experiment_name>" (see `experiment_name_for`);
    raises `ExperimentNotYours` when another user created that experiment first and the server keeps it theirs.
    """
    if not experiment_name.strip():
        raise ValueError("experiment_name must not be empty")
    quiet_mlflow()
    uri = tracking_uri()
    ensure_store(uri)
    mlflow.set_tracking_uri(uri)
    if uri.startswith(("http://", "https://")):
        _server_json(uri, DATABASE_PROBE_PATH)  # one sentence, not MLflow's retries, if the server's database is down
    name = experiment_name_for(experiment_name)
    experiment = get_or_create_experiment(MlflowClient(uri), name, _artifact_location(uri, name))
    if uri.startswith(("http://", "https://")):
        _check_can_log(uri, experiment)
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
    if verbose:
        username = _tracking_username()
        who = f" as {username!r}" if username else ""
        print(f"Tracking to {_describe_tracking(uri)}{who}; active experiment: {experiment.name!r}")
    return experiment
