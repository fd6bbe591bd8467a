"""When the network or the server misbehaves: a server that stops answering mid-notebook, a network that drops its
packets, a restart, a private CA.

With the course's HTTP settings (`tracking.QUIET_ENV`), a tracking call to a server that stopped answering, or whose
packets are dropped, fails after about 18 s, naming the server, and a restart of a few seconds (connections refused
meanwhile) goes unnoticed: an nginx in front of the server restarts, as `mlflow server` itself needs 10 s or more to
start. Behind an HTTPS proxy (Debian's nginx) whose certificate a throwaway CA signed, notebook 02 runs when
REQUESTS_CA_BUNDLE names that CA, and stops at its tracking cell with one sentence naming the variable when not.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import nbformat
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from papermill.exceptions import PapermillExecutionError

from course_tools.notebooks import execute_notebook, read_parameters, small_budget
from course_tools.prerequisites import NGINX
from course_tools.workshop.mlflow_server import RunningServer, launch
from course_tools.workshop.network import LOOPBACK, free_port, port_in_use
from tutorial_utils.paths import NOTEBOOKS_DIR
from tutorial_utils.tracking import QUIET_ENV

GRID_NOTEBOOK = NOTEBOOKS_DIR / "02_lasso_grid_child_runs.ipynb"
#: How long the proxy in front of the server refuses connections in the restart test: a quick restart.
RESTART_SECONDS = 4.0
#: Variables that would make this machine trust the throwaway CA, or skip the check, in the test without the CA.
TRUST_VARIABLES = (
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
    "MLFLOW_TRACKING_INSECURE_TLS",
)
NGINX_CONF = """daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    client_max_body_size 0;
    server {{
        listen {host}:{port}{tls};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_read_timeout 600s;
        }}
    }}
}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    """A plain MLflow server (SQLite, served artifacts) on loopback, for this module's tests."""
    root = tmp_path_factory.mktemp("network-server")
    running = launch(f"sqlite:///{root / 'mlflow.db'}", root)
    yield running
    os.killpg(running.process.pid, signal.SIGCONT)  # in case a test stopped it and failed before resuming it
    running.stop()


@pytest.fixture
def course_http_settings(monkeypatch) -> None:
    """The course's HTTP timeout and retries (`QUIET_ENV`), whatever this shell sets; MLflow reads them per call."""
    for name, value in QUIET_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def tracking_to(course_http_settings) -> Iterator[Callable[[str], None]]:
    """`tracking_to(uri)` points the fluent API at `uri` and an experiment of its own; reset afterwards."""

    def point(uri: str) -> None:
        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment(f"network-{time.monotonic_ns()}")

    yield point
    mlflow.end_run()
    mlflow.set_tracking_uri(None)


def throwaway_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA of its own and a certificate it signed for the loopback address: the CA's PEM, the server's PEM and key."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "course test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    paths[2].write_bytes(key)
    return paths


def start_proxy(root: Path, port: int, upstream: str, certificate: tuple[Path, Path] | None = None) -> subprocess.Popen:
    """Debian's nginx in the foreground on loopback:`port`, relaying to `upstream` (over TLS with `certificate`, a
    PEM and its key); returns once it accepts connections."""
    root.mkdir(parents=True, exist_ok=True)
    tls = (
        f" ssl;\n        ssl_certificate {certificate[0]};\n        ssl_certificate_key {certificate[1]}"
        if certificate
        else ""
    )
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, host=LOOPBACK, port=port, tls=tls, upstream=upstream))
    log = (root / "nginx.out").open("a")
    process = subprocess.Popen(
        [NGINX, "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")], stdout=log, stderr=log
    )
    log.close()
    deadline = time.monotonic() + 20
    while not port_in_use(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"nginx did not start:\n{(root / 'error.log').read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    return process


def stop_proxy(process: subprocess.Popen) -> None:
    """Stop an nginx started by `start_proxy` (its port refuses connections from then on)."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_a_server_that_stops_answering_costs_a_call_about_18_seconds(server, tracking_to):
    tracking_to(server.uri)
    run = mlflow.start_run()
    os.killpg(server.process.pid, signal.SIGSTOP)  # the process stops; the kernel still accepts connections
    try:
        start = time.monotonic()
        with pytest.raises(MlflowException) as caught:
            mlflow.log_metric("rmse", 1.0)
        seconds = time.monotonic() - start
    finally:
        os.killpg(server.process.pid, signal.SIGCONT)
    print(f"\nstopped server: the call failed after {seconds:.1f} s")
    assert 15 < seconds < 24, "three attempts of 4 s and one pause of 6 s"
    assert server.uri in str(caught.value)
    mlflow.end_run()
    assert MlflowClient(server.uri).get_run(run.info.run_id).info.status == "FINISHED"


class DroppingRelay:
    """A TCP relay on loopback to the server at `upstream` (host, port) that can start dropping everything.

    After `drop()`, the open connections carry nothing more either way, and new ones are never set up: the
    listener's accept queue is full, and Linux then drops each SYN that reaches it, as a firewall that drops packets
    would. The client's requests then time out whether it reuses a kept-alive connection or opens a new one.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream, self.dropping, self.held = upstream, threading.Event(), []
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        while not self.dropping.is_set():
            if select.select([self.listener], [], [], 0.05)[0]:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.upstream)
                self.held += [client, upstream]
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while not self.dropping.is_set():
            if select.select([source], [], [], 0.05)[0] and not self.dropping.is_set():
                data = source.recv(65536)
                if not data:
                    return
                target.sendall(data)

    def drop(self) -> None:
        """From now on nothing gets through."""
        self.dropping.set()
        self.accepting.join()
        self.listener.listen(0)  # a queue of one, filled at once
        self.held.append(socket.create_connection((LOOPBACK, self.port)))

    def close(self) -> None:
        self.dropping.set()
        for sock in [*self.held, self.listener]:
            sock.close()


def test_a_network_that_drops_the_packets_costs_a_call_about_18_seconds(server, tracking_to):
    host, port = server.uri.removeprefix("http://").split(":")
    relay = DroppingRelay((host, int(port)))
    try:
        tracking_to(f"http://{LOOPBACK}:{relay.port}")
        run = mlflow.start_run()  # through the relay, on a connection the client keeps alive
        relay.drop()
        start = time.monotonic()
        with pytest.raises(MlflowException) as caught:
            mlflow.log_metric("rmse", 1.0)
        seconds = time.monotonic() - start
        with pytest.raises(TimeoutError):  # a new connection to the relay is not set up: its SYN is dropped
            socket.create_connection((LOOPBACK, relay.port), timeout=1).close()
    finally:
        relay.close()
    print(f"\ndropped packets: the call failed after {seconds:.1f} s")
    assert 15 < seconds < 24, "three attempts of 4 s and one pause of 6 s"
    assert f"{LOOPBACK}:{relay.port}" in str(caught.value)
    mlflow.set_tracking_uri(server.uri)
    mlflow.end_run()  # on the server itself: the run was not lost, only unreachable
    assert MlflowClient(server.uri).get_run(run.info.run_id).info.status == "FINISHED"


def test_a_quick_restart_goes_unnoticed(server, tracking_to, tmp_path):
    port = free_port()
    proxies = [start_proxy(tmp_path / "nginx", port, server.uri)]
    try:
        tracking_to(f"http://{LOOPBACK}:{port}")
        run = mlflow.start_run()
        stop_proxy(proxies[0])  # from here on, connections to the port are refused, as while a server restarts
        restart = threading.Timer(
            RESTART_SECONDS, lambda: proxies.append(start_proxy(tmp_path / "nginx", port, server.uri))
        )
        restart.start()
        start = time.monotonic()
        mlflow.log_metric("rmse", 1.0)
        seconds = time.monotonic() - start
        restart.join()
        mlflow.end_run()
    finally:
        for process in proxies:
            stop_proxy(process)
    print(f"\nrestart of {RESTART_SECONDS:.0f} s: the call succeeded after {seconds:.1f} s")
    assert RESTART_SECONDS <= seconds < 10
    logged = MlflowClient(server.uri).get_run(run.info.run_id)
    assert logged.data.metrics == {"rmse": 1.0} and logged.info.status == "FINISHED"


@pytest.fixture
def https_proxy(server, tmp_path) -> Iterator[tuple[str, Path]]:
    """The server behind nginx over HTTPS, its certificate signed by a throwaway CA: its URI and the CA's PEM."""
    ca, certificate, key = throwaway_ca(tmp_path)
    port = free_port()
    proxy = start_proxy(tmp_path / "nginx", port, server.uri, (certificate, key))
    try:
        yield f"https://{LOOPBACK}:{port}", ca
    finally:
        stop_proxy(proxy)


def _without_trust_settings(monkeypatch, uri: str) -> None:
    """Track to `uri` without a login, with no variable that trusts another CA or skips the certificate check."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    for name in (*TRUST_VARIABLES, "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_the_grid_notebook_runs_over_https_when_the_ca_is_trusted(https_proxy, server, tmp_path, monkeypatch):
    uri, ca = https_proxy
    _without_trust_settings(monkeypatch, uri)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    budget = small_budget(GRID_NOTEBOOK)
    execute_notebook(GRID_NOTEBOOK, tmp_path / "02.ipynb", budget, progress_bar=False)
    name = read_parameters(GRID_NOTEBOOK)["EXPERIMENT_NAME"].default
    client = MlflowClient(server.uri)
    runs = client.search_runs([client.get_experiment_by_name(name).experiment_id])
    assert len(runs) > len(budget["ALPHAS"]) and {r.info.status for r in runs} == {"FINISHED"}


def test_without_the_ca_the_tracking_cell_says_which_variable_to_set(https_proxy, tmp_path, monkeypatch):
    uri, _ = https_proxy
    _without_trust_settings(monkeypatch, uri)
    output = tmp_path / "02.ipynb"
    with pytest.raises(PapermillExecutionError) as caught:
        execute_notebook(GRID_NOTEBOOK, output, small_budget(GRID_NOTEBOOK), progress_bar=False)
    assert caught.value.ename == "TrackingCertificateUntrusted"
    assert f"The tracking server at {uri} answers, but this machine does not trust its TLS certificate" in (
        caught.value.evalue
    )
    assert "REQUESTS_CA_BUNDLE" in caught.value.evalue
    cells = nbformat.read(output, as_version=4).cells
    failed = next(c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    assert "tu.setup_tracking(" in failed.source, "the first tracking cell is the one that fails"
