import datetime
import http.server
import ipaddress
import logging
import os
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import mlflow
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
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


def test_registering_needs_no_check_on_a_local_store(fresh_store, monkeypatch):
    monkeypatch.setenv(tracking.USERNAME_ENV, "ann")  # a username alone, without a server, asks nothing
    tracking.setup_tracking("course-test", verbose=False)
    MlflowClient().create_registered_model("ann.diamonds-price")
    assert tracking.check_can_register("ann.diamonds-price") is None


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


#: The variables through which MLflow (and the connection check) trusts a server's certificate, or logs in.
TLS_AND_LOGIN = (
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
    "MLFLOW_TRACKING_INSECURE_TLS",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
)


class _TokenServer(http.server.BaseHTTPRequestHandler):
    """A server behind a bearer token ("good"), without MLflow's users API; records each Authorization header."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self):
        type(self).seen.append(self.headers.get("Authorization"))
        authorized = self.headers.get("Authorization") == "Bearer good"
        status = 401 if not authorized else 200 if self.path == "/health" else 404
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"OK" if status == 200 else b"{}")

    def log_message(self, *args):
        pass


@contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `handler` on loopback in a thread (over TLS with `tls`); yields its URI."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_tls_or_login(monkeypatch) -> None:
    """None of the variables that trust a certificate or log in."""
    for name in TLS_AND_LOGIN:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def token_server(no_tls_or_login, monkeypatch) -> Iterator[str]:
    """A `_TokenServer` named by MLFLOW_TRACKING_URI; yields its URI."""
    _TokenServer.seen.clear()
    with _serving(_TokenServer) as uri:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


def test_the_connection_check_sends_the_tracking_token(token_server, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "good")
    tracking.connection_check()
    assert capsys.readouterr().out.strip() == (
        f"Connection check: on the shared server at {token_server}, with the token in MLFLOW_TRACKING_TOKEN."
    )
    assert _TokenServer.seen == ["Bearer good", "Bearer good"]


def test_a_refused_token_is_named_with_the_variable_to_fix(token_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "stale")
    with pytest.raises(tracking.TrackingLoginRejected) as caught:
        tracking.ensure_store(token_server)
    assert str(caught.value) == (
        f"The tracking server at {token_server} refused the token in MLFLOW_TRACKING_TOKEN: set MLFLOW_TRACKING_TOKEN "
        "to what the instructor gave you (in a notebook: `%env MLFLOW_TRACKING_TOKEN=...`), then run the cell again."
    )


class _Health(http.server.BaseHTTPRequestHandler):
    """A server whose /health answers."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 (its PEM, which is its own CA) and a server context that presents it."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem, key_pem = folder / "server.pem", folder / "server.key"
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem, key_pem)
    return pem, context


@pytest.fixture
def https_server(self_signed, no_tls_or_login) -> Iterator[str]:
    """A server answering /health over HTTPS with the self-signed certificate; yields its URI."""
    with _serving(_Health, self_signed[1]) as uri:
        yield uri


def test_an_untrusted_certificate_gets_its_own_sentence_naming_the_ca_variables(https_server, capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", https_server)
    tracking.connection_check()
    printed = capsys.readouterr().out
    assert printed.startswith(
        f"Connection check FAILED. The tracking server at {https_server} answers, but this machine does not trust its "
        "TLS certificate (self-signed certificate). Set REQUESTS_CA_BUNDLE (or MLFLOW_TRACKING_SERVER_CERT_PATH) to"
    )
    with pytest.raises(tracking.TrackingCertificateUntrusted, match="unset MLFLOW_TRACKING_URI"):
        tracking.ensure_store(https_server)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize(
    "variable", ["REQUESTS_CA_BUNDLE", "MLFLOW_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_INSECURE_TLS"]
)
def test_the_server_check_honours_mlflows_tls_settings(https_server, self_signed, monkeypatch, variable):
    monkeypatch.setenv(variable, "true" if variable == "MLFLOW_TRACKING_INSECURE_TLS" else str(self_signed[0]))
    tracking._check_server(https_server)  # raises TrackingCertificateUntrusted when the setting is ignored
