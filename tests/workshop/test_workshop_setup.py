"""The workshop's pieces without the shared server: secrets, auth config, command line, roster, PostgreSQL, checks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from threading import Thread

import pytest

from course_tools.cli import port_in_use
from course_tools.workshop import mlflow_server, postgres, roster
from course_tools.workshop import server as workshop_server
from course_tools.workshop.network import free_port
from course_tools.workshop.server import ADMIN_PASSWORD_ENV, SECRET_KEY_ENV
from tutorial_utils import tracking
from tutorial_utils.paths import REPO_ROOT
from workshop_support import simulated_attendees

SECRETS = {ADMIN_PASSWORD_ENV: "correct-horse-battery", SECRET_KEY_ENV: "k3y-f0r-fl4sk-s3ss10ns-xyz"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({SECRET_KEY_ENV: SECRETS[SECRET_KEY_ENV]}, f"{ADMIN_PASSWORD_ENV} is not set"),
        (SECRETS | {ADMIN_PASSWORD_ENV: "short"}, f"{ADMIN_PASSWORD_ENV} is too short"),
        ({ADMIN_PASSWORD_ENV: SECRETS[ADMIN_PASSWORD_ENV]}, f"{SECRET_KEY_ENV} is not set"),
        (SECRETS | {ADMIN_PASSWORD_ENV: "a" * 12}, f"{ADMIN_PASSWORD_ENV} is one character repeated"),
        (SECRETS | {SECRET_KEY_ENV: "k" * 24}, f"{SECRET_KEY_ENV} is one character repeated"),
        (SECRETS | {ADMIN_PASSWORD_ENV: "AdminAdminAdmin"}, f"{ADMIN_PASSWORD_ENV} is the username 'admin' repeated"),
    ],
)
def test_secrets_must_be_in_the_environment_long_and_not_guessable(env, message):
    with pytest.raises(workshop_server.WorkshopConfigError, match=message) as refused:
        workshop_server.check_secrets(env)
    assert "secrets.token_urlsafe" in str(refused.value)


def test_long_enough_secrets_pass():
    workshop_server.check_secrets(SECRETS)


def test_the_auth_config_lets_attendees_read_and_holds_no_password(tmp_path):
    path = workshop_server.write_auth_config(tmp_path / "server", "sqlite:///auth.db")
    text = path.read_text()
    assert "default_permission = READ" in text and "database_uri = sqlite:///auth.db" in text
    assert "admin_username = admin" in text and "password" not in text


def test_the_server_command_has_auth_served_artifacts_and_one_interface(tmp_path):
    command = mlflow_server.server_command(
        "postgresql+psycopg2://x/y", tmp_path, "127.0.0.1", 5001, app_name="basic-auth"
    )
    joined = " ".join(command)
    assert command[1] == "server" and "--app-name basic-auth" in joined
    assert f"--serve-artifacts --artifacts-destination {tmp_path}" in joined
    assert "--host 127.0.0.1 --port 5001 --workers 1" in joined
    assert "--app-name" not in mlflow_server.server_command("sqlite:///x.db", tmp_path, "127.0.0.1", 5001)


def test_uris_for_this_machine_and_for_attendees():
    assert mlflow_server.local_uri("0.0.0.0", 5000) == "http://127.0.0.1:5000"
    assert workshop_server.attendee_uri("10.0.0.5", 5000) == "http://10.0.0.5:5000"
    assert workshop_server.attendee_uri("0.0.0.0", 5000) == f"http://{workshop_server.room_address()}:5000"
    assert workshop_server.room_address() != "0.0.0.0"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "mysql"}, "backend must be 'postgres' or 'sqlite'"),
        ({"database_uri": "postgresql://h/db"}, "must start with postgresql\\+psycopg2://"),
    ],
)
def test_bad_server_options_are_refused_before_anything_starts(tmp_path, options, message):
    with (
        pytest.raises(workshop_server.WorkshopConfigError, match=message),
        workshop_server.running_workshop(tmp_path, env=SECRETS, **options),
    ):
        pass


def test_the_server_command_refuses_to_start_without_secrets(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(ADMIN_PASSWORD_ENV, raising=False)
    assert workshop_server.main(["--backend", "sqlite", "--data-dir", str(tmp_path)]) == 2
    assert f"{ADMIN_PASSWORD_ENV} is not set" in capsys.readouterr().err
    assert not (tmp_path / "server.log").exists()


def test_the_small_room_variant_starts_and_stops_cleanly(tmp_path):
    """`make server BACKEND=sqlite`'s command: serves, says where, keeps secrets out of its output, stops on TERM."""
    port = free_port()
    command = [sys.executable, "-m", "course_tools.workshop.server", "--backend", "sqlite", "--workers", "1"]
    command += ["--port", str(port), "--data-dir", str(tmp_path)]
    env = {**os.environ, **SECRETS, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith(f"Workshop server (sqlite) at http://127.0.0.1:{port}; admin user 'admin'")
        assert (tmp_path / "mlflow.db").is_file() and (tmp_path / "basic_auth.db").is_file()
    finally:
        process.send_signal(signal.SIGTERM)
        output = first_line + process.communicate(timeout=60)[0]
    assert process.returncode == 0
    assert SECRETS[ADMIN_PASSWORD_ENV] not in output + (tmp_path / "server.log").read_text()
    assert not port_in_use(port)


def test_signed_in_restores_the_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "me")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    with roster.signed_in("admin", "secret"):
        assert os.environ["MLFLOW_TRACKING_USERNAME"] == "admin"
    assert os.environ["MLFLOW_TRACKING_USERNAME"] == "me" and "MLFLOW_TRACKING_PASSWORD" not in os.environ


def test_simulated_attendees_need_a_positive_count():
    with pytest.raises(ValueError, match="at least 1"):
        simulated_attendees("http://127.0.0.1:9", 0, "x" * 12)


def test_the_roster_command_needs_the_admin_password(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(ADMIN_PASSWORD_ENV, raising=False)
    assert roster.main([str(tmp_path / "a.csv")]) == 2
    assert ADMIN_PASSWORD_ENV in capsys.readouterr().err


def test_missing_postgresql_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres, "DEBIAN_LIB_DIR", tmp_path)
    monkeypatch.setattr(postgres.shutil, "which", lambda _: None)
    with pytest.raises(postgres.PostgresError, match="apt-get install postgresql"):
        postgres.postgres_bin_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="as root, PostgreSQL runs as the postgres user")
def test_a_data_folder_the_postgres_user_cannot_reach_is_refused(tmp_path):
    tmp_path.chmod(0o700)
    with pytest.raises(postgres.PostgresError, match="cannot write to"):
        postgres.start_cluster(tmp_path / "pg")


def test_usernames_namespace_experiments(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    assert tracking.experiment_name_for("diamonds-price") == "diamonds-price"
    assert tracking.experiment_name_for("diamonds-price", "bob") == "bob/diamonds-price"
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    assert tracking.experiment_name_for("diamonds-price") == "alice/diamonds-price"
    assert tracking.experiment_name_for("alice/diamonds-price") == "alice/diamonds-price"


def test_the_connection_check_on_the_local_store_is_one_fixed_line(fresh_store, capsys):
    tracking.connection_check()
    assert capsys.readouterr().out == (
        "Connection check: offline, on the course's local SQLite store (no server needed).\n"
    )


def test_a_server_without_logins_is_reported_as_such(mlflow_server, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    assert tracking._check_login(mlflow_server) is None
    start = time.monotonic()
    tracking.connection_check()
    assert time.monotonic() - start < 5
    assert capsys.readouterr().out == (
        f"Connection check: on the shared server at {mlflow_server}, without a login (the server asks none).\n"
    )


def test_the_roster_command_reports_a_missing_roster_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, "a" * 12)
    assert roster.main([str(tmp_path / "missing.csv"), "--uri", "http://127.0.0.1:9"]) == 1
    assert capsys.readouterr().err.startswith("Roster failed:")


def test_a_server_that_hangs_fails_the_tracking_cell_within_seconds(monkeypatch):
    """A server that accepts connections but never answers (a wedged server, a failing wifi): a clear error, fast."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        start = time.monotonic()
        with pytest.raises(tracking.TrackingServerUnavailable, match="timed out"):
            tracking.setup_tracking("course-test")
        assert time.monotonic() - start < 10


def test_something_else_on_the_port_is_not_taken_for_a_tracking_server(tmp_path, monkeypatch):
    web = HTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=tmp_path))  # 404 on /health
    Thread(target=web.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{web.server_address[1]}"
        with pytest.raises(tracking.TrackingServerUnavailable, match="not an MLflow tracking server \\(HTTP 404"):
            tracking._check_server(uri)
    finally:
        web.shutdown()
        web.server_close()
