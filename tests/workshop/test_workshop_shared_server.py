"""The workshop server for real: PostgreSQL, basic auth, attendees kept apart, clear errors, fast failures."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from course_tools.workshop import roster
from course_tools.workshop.network import free_port
from course_tools.workshop.server import ADMIN_PASSWORD_ENV
from tutorial_utils import tracking
from workshop_support import listed


@pytest.fixture(scope="module")
def alice_and_bob(workshop_server) -> tuple[dict[str, str], dict[str, str]]:
    alice, bob = roster.create_attendees(workshop_server.uri, listed("Alice", "Bob"), workshop_server.admin_password)
    return alice.env(workshop_server.uri), bob.env(workshop_server.uri)


def _become(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_the_server_runs_on_postgres_with_served_artifacts(workshop_server, alice_and_bob, monkeypatch):
    _become(monkeypatch, alice_and_bob[0])
    tracking.setup_tracking("artifacts-check", verbose=False)
    with mlflow.start_run() as run:
        mlflow.log_dict({"a": 1}, "a.json")
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    assert mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/a.json") == {"a": 1}
    assert "postgresql+psycopg2://" in (workshop_server.log_path.parent / "basic_auth.ini").read_text()


def test_an_attendee_tracks_into_their_own_namespaced_experiment(workshop_server, alice_and_bob, monkeypatch, capsys):
    _become(monkeypatch, alice_and_bob[0])
    experiment = tracking.setup_tracking("diamonds-price")
    assert experiment.name == "alice/diamonds-price"
    expected = f"Tracking to the tracking server at {workshop_server.uri} as 'alice'; active experiment: "
    assert capsys.readouterr().out.strip() == f"{expected}'alice/diamonds-price'"
    with mlflow.start_run() as run:
        mlflow.log_metric("val_rmse", 0.1)
    assert run.info.experiment_id == experiment.experiment_id


def test_two_attendees_get_experiments_of_one_name_side_by_side(workshop_server, alice_and_bob, monkeypatch):
    """What one attendee may do to another's experiment: test_workshop_isolation.py."""
    alice, bob = alice_and_bob
    _become(monkeypatch, alice)
    experiment = tracking.setup_tracking("private", verbose=False)
    _become(monkeypatch, bob)
    assert tracking.setup_tracking("private", verbose=False).name == "bob/private"  # bob's own, beside alice's
    assert MlflowClient(workshop_server.uri).get_experiment(experiment.experiment_id).name == "alice/private"


def test_a_wrong_password_is_refused_with_a_clear_message(workshop_server, alice_and_bob, monkeypatch, capsys):
    _become(monkeypatch, alice_and_bob[0] | {"MLFLOW_TRACKING_PASSWORD": "not-the-password"})
    with pytest.raises(tracking.TrackingLoginRejected, match="refused the username 'alice' with this password"):
        tracking.setup_tracking("diamonds-price")
    tracking.connection_check()
    line = capsys.readouterr().out
    assert line.startswith("Connection check FAILED. The tracking server at") and "MLFLOW_TRACKING_PASSWORD" in line
    assert line.count("\n") == 1


def test_without_a_login_the_server_asks_for_one(workshop_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", workshop_server.uri)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    with pytest.raises(tracking.TrackingLoginRejected, match="refused a request without a login"):
        tracking.setup_tracking("diamonds-price")


def test_the_connection_check_names_the_server_and_the_attendee(workshop_server, alice_and_bob, monkeypatch, capsys):
    _become(monkeypatch, alice_and_bob[1])
    tracking.connection_check()
    assert capsys.readouterr().out == (
        f"Connection check: on the shared server at {workshop_server.uri}, as 'bob', your experiments are 'bob/...'.\n"
    )


def _first_run_in(name: str) -> tuple[str, str]:
    """In a fresh process: set up `name`, log a run; the experiment's id and the run's experiment id."""
    experiment = tracking.setup_tracking(name, verbose=False)
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
    return experiment.experiment_id, run.info.experiment_id


def test_concurrent_clients_creating_one_new_experiment_all_land_in_it(workshop_server, alice_and_bob, monkeypatch):
    """Three processes race to create the same new experiment on the server: no run lands in experiment 0."""
    _become(monkeypatch, alice_and_bob[0])
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.map(_first_run_in, ["raced"] * 3)
    assert {experiment_id for pair in results for experiment_id in pair} != {"0"}
    assert len({experiment_id for pair in results for experiment_id in pair}) == 1
    experiment = MlflowClient(workshop_server.uri).get_experiment_by_name("alice/raced")
    assert len(MlflowClient(workshop_server.uri).search_runs([experiment.experiment_id])) == 3


def test_get_or_create_experiment_is_safe_for_racing_threads(workshop_server, alice_and_bob, monkeypatch):
    _become(monkeypatch, alice_and_bob[0])
    client = MlflowClient(workshop_server.uri)
    with ThreadPoolExecutor(6) as pool:
        experiments = pool.map(lambda _: tracking.get_or_create_experiment(client, "alice/threads"), range(6))
    ids = {experiment.experiment_id for experiment in experiments}
    assert len(ids) == 1 and ids != {"0"}


def test_simulated_attendees_each_get_working_credentials(workshop_server, monkeypatch):
    envs = workshop_server.attendees(3)
    usernames = [env["MLFLOW_TRACKING_USERNAME"] for env in envs]
    assert [name.split(".")[:2] for name in usernames] == [["attendee", f"{n:02d}"] for n in (1, 2, 3)]
    for env in envs:
        _become(monkeypatch, env)
        assert tracking._check_login(workshop_server.uri) == env["MLFLOW_TRACKING_USERNAME"]
    again = workshop_server.attendees(1)[0]  # "attendee 01" again: a new account, the first one's password unchanged
    assert again["MLFLOW_TRACKING_USERNAME"] not in usernames
    _become(monkeypatch, envs[0])
    assert tracking._check_login(workshop_server.uri) == usernames[0]


def test_the_roster_command_writes_private_passwords_and_prints_the_variables(
    workshop_server, tmp_path, monkeypatch, capsys
):
    names = tmp_path / "attendees.csv"
    names.write_text("name,email\nZoë Smith,z@example.org\nCarl Ng,c@example.org\n")
    out = tmp_path / "secret" / "passwords.csv"
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, workshop_server.admin_password)
    assert roster.main([str(names), "--uri", workshop_server.uri, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"export MLFLOW_TRACKING_URI={workshop_server.uri}" in printed
    assert "export MLFLOW_TRACKING_USERNAME=" in printed and "export MLFLOW_TRACKING_PASSWORD=" in printed
    rows = out.read_text().splitlines()
    assert rows[0] == "name,username,password,tracking_uri,roster_row" and rows[1].startswith("Zoë Smith,zoe.smith,")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    passwords = [row.split(",")[2] for row in rows[1:]]
    assert not any(password in printed for password in [*passwords, workshop_server.admin_password])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", workshop_server.uri)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "zoe.smith")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", passwords[0])
    assert tracking._check_login(workshop_server.uri) == "zoe.smith"


def test_the_admin_password_appears_in_no_log(workshop_server, alice_and_bob):
    logs = [workshop_server.log_path, *workshop_server.log_path.parent.glob("postgres/*.log")]
    assert len(logs) == 2
    for log in logs:
        assert workshop_server.admin_password not in log.read_text(errors="replace")
    assert workshop_server.admin_password not in (workshop_server.log_path.parent / "basic_auth.ini").read_text()


def test_a_stopped_server_fails_the_first_tracking_cell_within_seconds(monkeypatch, capsys):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens: a workshop server that is down
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    start = time.monotonic()
    with pytest.raises(tracking.TrackingServerUnavailable, match="%env MLFLOW_TRACKING_URI="):
        tracking.setup_tracking("diamonds-price")
    tracking.connection_check()
    assert time.monotonic() - start < 10
    line = capsys.readouterr().out
    assert line.startswith(f"Connection check FAILED. No MLflow tracking server answers at {uri}")
    assert "work offline on the course's local store" in line and line.count("\n") == 1


def test_falling_back_offline_keeps_the_namespace_and_the_local_runs(fresh_store, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")  # what `%env MLFLOW_TRACKING_URI=` does in a notebook
    experiment = tracking.setup_tracking("diamonds-price")
    assert experiment.name == "alice/diamonds-price"
    assert "the course's local SQLite store as 'alice'" in capsys.readouterr().out
