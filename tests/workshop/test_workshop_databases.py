"""The workshop's database secrets: an existing PostgreSQL's password stays out of files and command lines, and
Optuna's shared study gets a database and a role of its own that reach nothing of MLflow's."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from unittest.mock import ANY
from urllib.parse import quote

import optuna
import psycopg2
import pytest
from optuna.storages import RDBStorage
from sqlalchemy.engine import make_url

from course_tools.workshop import server
from course_tools.workshop.network import free_port
from course_tools.workshop.postgres import start_cluster
from course_tools.workshop.server import ADMIN_PASSWORD_ENV, DATABASE_URI_ENV, SECRET_KEY_ENV
from tutorial_utils.paths import REPO_ROOT
from workshop_support import postgres_reachable_dir

SECRETS = {ADMIN_PASSWORD_ENV: "correct-horse-battery", SECRET_KEY_ENV: "k3y-f0r-fl4sk-s3ss10ns-xyz"}


def _command_lines() -> dict[int, bytes]:
    """Every process's command line on this machine (arguments separated by NUL), by pid."""
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):  # the process ended meanwhile
                lines[int(entry.name)] = (entry / "cmdline").read_bytes()
    return lines


def test_an_existing_postgresqls_password_is_in_no_file_and_on_no_command_line():
    """`make server` with WORKSHOP_DATABASE_URI: the server works, and its password is only in its environment."""
    password = f"pw:{secrets.token_urlsafe(12)}@/%"  # characters the URI must escape
    with postgres_reachable_dir("course-existing-pg-") as root:
        cluster = start_cluster(root / "pg")  # stands for the existing PostgreSQL: role mlflow, with its password
        try:
            cluster.create_role("mlflow", password)
            cluster.create_database("mlflow", owner="mlflow")
            database_uri = cluster.uri("mlflow", user="mlflow", password=password)
            data_dir = root / "data"
            command = [sys.executable, "-m", "course_tools.workshop.server", "--workers", "1"]
            command += ["--port", str(free_port()), "--data-dir", str(data_dir)]
            env = {**os.environ, **SECRETS, DATABASE_URI_ENV: database_uri, "PYTHONPATH": str(REPO_ROOT)}
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            try:
                first_line = process.stdout.readline()
                assert first_line.startswith("Workshop server (postgres) at"), first_line + process.stdout.read()
                command_lines = _command_lines()
                files = [path for path in data_dir.rglob("*") if path.is_file()]
                backend = f"--backend-store-uri\0{cluster.uri('mlflow', user='mlflow')}\0".encode()
                environs = [Path(f"/proc/{pid}/environ") for pid, line in command_lines.items() if backend in line]
                server_environ = [(path.read_bytes(), path.stat().st_mode & 0o777) for path in environs]
            finally:
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=60)
        finally:
            cluster.stop()
        for secret in (password, quote(password, safe=""), SECRETS[ADMIN_PASSWORD_ENV]):
            assert not [line for line in command_lines.values() if secret.encode() in line]
            assert not [path for path in files if secret.encode() in path.read_bytes()]
        assert {path.name for path in files} >= {"basic_auth.ini", "server.log"}
        # the mlflow server, found by its password-free URI, has the password in its environment: its owner's only
        assert server_environ == [(ANY, 0o400)] and f"PGPASSWORD={password}".encode() in server_environ[0][0]
    assert process.returncode == 0


def test_optuna_gets_a_database_and_a_role_that_reach_nothing_of_mlflows(workshop_server):
    path = workshop_server.optuna_storage
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    url = make_url(path.read_text().strip())
    assert (url.drivername, url.username, url.database) == ("postgresql+psycopg2", "optuna", "optuna")
    storage = RDBStorage(url.render_as_string(hide_password=False))
    study = optuna.create_study(study_name="workshop-check", storage=storage)
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert len(optuna.load_study(study_name="workshop-check", storage=storage).trials) == 2
    as_optuna = {"host": url.host, "port": url.port, "user": url.username, "password": url.password}
    for database in ("mlflow", "postgres"):  # the tracking store (its runs, its users) and the cluster's own
        with pytest.raises(psycopg2.OperationalError, match=f'no pg_hba.conf entry .* database "{database}"'):
            psycopg2.connect(dbname=database, **as_optuna)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(dbname="optuna", **(as_optuna | {"password": "not-the-password"}))


def test_the_optuna_role_keeps_its_password_across_restarts_in_a_private_file():
    with postgres_reachable_dir("course-optuna-") as root:
        cluster = start_cluster(root / "pg")
        try:
            path = server.create_optuna_storage(cluster, "0.0.0.0", root / "optuna_storage_url")
            first = path.read_text()
            path.chmod(0o644)
            server.create_optuna_storage(cluster, "0.0.0.0", path)
            url = make_url(first.strip())
            psycopg2.connect(host="127.0.0.1", port=url.port, user="optuna", password=url.password).close()
        finally:
            cluster.stop()
        assert path.read_text() == first and oct(path.stat().st_mode & 0o777) == "0o600"
        assert url.host == server.room_address()  # what attendees reach, when the server listens everywhere


def test_a_password_on_the_server_command_line_is_refused(capsys):
    uri = "postgresql+psycopg2://mlflow:s3cret@db:5432/mlflow"
    assert server.main(["--database-uri", uri]) == 2
    assert f"pass the URI in ${DATABASE_URI_ENV} instead" in capsys.readouterr().err


def test_the_database_uri_loses_its_password_which_is_unescaped():
    uri = "postgresql+psycopg2://mlflow:p%40ss%2Fw@db:5432/mlflow"
    assert server.without_password(uri) == ("postgresql+psycopg2://mlflow@db:5432/mlflow", "p@ss/w")
    assert server.without_password("postgresql+psycopg2://db/mlflow")[1] is None


def test_the_course_postgresql_listens_where_attendees_reach_the_server():
    assert server.postgres_listen_addresses("127.0.0.1") == "127.0.0.1"
    assert server.postgres_listen_addresses("0.0.0.0") == "*"
    assert server.postgres_listen_addresses("10.0.0.5") == "127.0.0.1,10.0.0.5"


def test_the_startup_message_names_the_optuna_file_not_its_contents(tmp_path):
    message = server.startup_message("postgres", "http://h:5000", tmp_path / "log", tmp_path / "optuna_url")
    assert f"Optuna storage for notebook 06 (STORAGE_URL, with its password): {tmp_path / 'optuna_url'}" in message
    assert "Optuna" not in server.startup_message("sqlite", "http://h:5000", tmp_path / "log", None)
