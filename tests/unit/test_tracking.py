import http.server
import logging
import os
import threading
import time
from pathlib import Path

import mlflow
import pytest
from mlflow.entities import LifecycleStage
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS
from mlflow.tracking import MlflowClient

from tutorial_utils import tracking


def test_local_store_is_created_with_experiment_and_artifacts_beside_it(fresh_store: Path, capsys):
    experiment = tracking.setup_tracking("course-test")
    assert (fresh_store / "mlflow.db").is_file()
    assert mlflow.get_tracking_uri() == tracking.local_store_uri()
    assert experiment.artifact_location == (fresh_store / "artifacts" / "course-test").as_uri()
    with mlflow.start_run() as run:
        mlflow.log_dict({"a": 1}, "a.json")
    assert run.info.experiment_id == experiment.experiment_id
    assert (fresh_store / "artifacts" / "course-test" / run.info.run_id / "artifacts" / "a.json").is_file()
    output = capsys.readouterr().out
    assert output.strip() == "Tracking to the course's local SQLite store; active experiment: 'course-test'"
    assert str(fresh_store) not in output


def test_setup_is_idempotent(fresh_store):
    first = tracking.setup_tracking("course-test", verbose=False)
    again = tracking.setup_tracking("course-test", verbose=False)
    assert first.experiment_id == again.experiment_id
    assert len(MlflowClient().search_experiments(filter_string="name = 'course-test'")) == 1


def test_a_deleted_experiment_is_restored(fresh_store):
    experiment = tracking.setup_tracking("course-test", verbose=False)
    MlflowClient().delete_experiment(experiment.experiment_id)
    restored = tracking.setup_tracking("course-test", verbose=False)
    assert restored.experiment_id == experiment.experiment_id
    assert restored.lifecycle_stage == LifecycleStage.ACTIVE
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id


def test_tracking_uri_from_the_environment_wins(fresh_store, tmp_path, monkeypatch):
    other = tmp_path / "elsewhere" / "other.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{other}")
    experiment = tracking.setup_tracking("course-test", verbose=False)
    assert other.is_file() and not (fresh_store / "mlflow.db").exists()
    assert experiment.artifact_location.startswith((other.parent / "artifacts").as_uri())
    assert tracking._describe_tracking(f"sqlite:///{other}") == "the store sqlite:... named by MLFLOW_TRACKING_URI"


def test_empty_experiment_name_is_refused(fresh_store):
    with pytest.raises(ValueError, match="must not be empty"):
        tracking.setup_tracking("  ")


class _RacingClient:
    """A client that loses the creation race: the name is free when asked, taken when created."""

    def __init__(self, real: MlflowClient, name: str):
        self.real, self.name, self.asked = real, name, 0

    def get_experiment_by_name(self, name):
        self.asked += 1
        return None if self.asked == 1 else self.real.get_experiment_by_name(name)

    def create_experiment(self, name, artifact_location=None):
        self.real.create_experiment(name)
        raise MlflowException("already exists", error_code=RESOURCE_ALREADY_EXISTS)


def test_losing_the_creation_race_returns_the_winners_experiment(fresh_store):
    tracking.ensure_store(tracking.local_store_uri())
    real = MlflowClient(tracking.local_store_uri())
    experiment = tracking.get_or_create_experiment(_RacingClient(real, "raced"), "raced")
    assert experiment.name == "raced" and experiment.experiment_id != "0"


def test_other_creation_errors_propagate(fresh_store):
    class Refusing(_RacingClient):
        def create_experiment(self, name, artifact_location=None):
            raise MlflowException("bad name", error_code=INVALID_PARAMETER_VALUE)

    tracking.ensure_store(tracking.local_store_uri())
    with pytest.raises(MlflowException, match="bad name"):
        tracking.get_or_create_experiment(Refusing(MlflowClient(tracking.local_store_uri()), "x"), "x")


def test_a_server_that_is_down_fails_within_seconds_with_the_ways_forward(monkeypatch):
    uri = "http://127.0.0.1:9"  # the discard port: nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    start = time.monotonic()
    with pytest.raises(tracking.TrackingServerUnavailable) as caught:
        tracking.setup_tracking("course-test")
    assert time.monotonic() - start < 10
    message = str(caught.value)
    assert uri in message and "start the server" in message and "unset MLFLOW_TRACKING_URI" in message


class _DatabaseDown(http.server.BaseHTTPRequestHandler):
    """A tracking server whose database is down: /health answers, everything else is MLflow's 500."""

    def do_GET(self):
        status, body = (200, b"OK") if self.path == "/health" else (500, b'{"error_code": "INTERNAL_ERROR"}')
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_server_whose_database_is_down_gets_one_sentence(fresh_store, monkeypatch, capsys):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DatabaseDown)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    try:
        tracking.connection_check()
        printed = capsys.readouterr().out
        assert printed.startswith(f"Connection check FAILED. The tracking server at {uri} answers, but its database")
        start = time.monotonic()
        with pytest.raises(tracking.TrackingServerUnavailable, match="answers, but its database does not"):
            tracking.setup_tracking("course-test")
        assert time.monotonic() - start < 5, "one request, not MLflow's retries"
    finally:
        server.shutdown()
        mlflow.set_tracking_uri(None)


def test_quiet_mlflow_keeps_what_the_environment_already_says(monkeypatch):
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "DEBUG")
    monkeypatch.delenv("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", raising=False)
    try:
        tracking.quiet_mlflow()
        assert os.environ["MLFLOW_LOGGING_LEVEL"] == "DEBUG"
        assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"
        assert logging.getLogger("mlflow").level == logging.DEBUG  # the user's level, not the course's WARNING
    finally:
        logging.getLogger("mlflow").setLevel(logging.WARNING)
