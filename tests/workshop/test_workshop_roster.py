"""The roster on the workshop server: re-runs keep every account and password, namesakes get accounts of their own,
the passwords file only grows, and each attendee's experiments are theirs before anyone else can create them."""

from __future__ import annotations

import csv

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from course_tools.workshop import roster
from course_tools.workshop.server import ADMIN_PASSWORD_ENV
from tutorial_utils import tracking
from workshop_support import listed


@pytest.fixture
def run_roster(workshop_server, tmp_path, monkeypatch):
    """`make roster` for CSV text (and extra options), into this test's own passwords file; its rows by username."""
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, workshop_server.admin_password)
    out = tmp_path / "passwords.csv"

    def run(text: str, *options: str) -> dict[str, dict[str, str]]:
        names = tmp_path / "attendees.csv"
        names.write_text(text)
        assert roster.main([str(names), "--uri", workshop_server.uri, "--out", str(out), *options]) == 0
        with out.open(newline="") as handle:
            return {row["username"]: row for row in csv.DictReader(handle)}

    return run


def _signs_in(monkeypatch: pytest.MonkeyPatch, uri: str, username: str, password: str) -> bool:
    for name, value in {"MLFLOW_TRACKING_URI": uri, "MLFLOW_TRACKING_USERNAME": username}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    try:
        return tracking._check_login(uri) == username
    except tracking.TrackingLoginRejected:
        return False


def _become(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_running_the_roster_again_changes_no_password(workshop_server, run_roster, monkeypatch):
    text = "name,email\nRerun Ana,ana@example.org\nRerun Bo,bo@example.org\n"
    first = run_roster(text)
    again = run_roster(text + "Rerun Cy,cy@example.org\n")  # the whole list again, with a late arrival
    assert sorted(again) == ["rerun.ana", "rerun.bo", "rerun.cy"]
    for username, row in first.items():
        assert again[username]["password"] == row["password"]
        assert _signs_in(monkeypatch, workshop_server.uri, username, row["password"])


def test_a_late_namesake_gets_an_account_of_their_own(workshop_server, run_roster, monkeypatch):
    first = run_roster("name,email\nLate Ana,ana@example.org\n")
    merged = run_roster("name,email\nLate Ana,other.ana@example.org\n")  # only the late arrival
    assert sorted(merged) == ["late.ana", "late.ana.2"], "the passwords file keeps the first Ana"
    assert merged["late.ana"] == first["late.ana"]
    assert _signs_in(monkeypatch, workshop_server.uri, "late.ana", first["late.ana"]["password"])
    assert _signs_in(monkeypatch, workshop_server.uri, "late.ana.2", merged["late.ana.2"]["password"])


def test_usernames_are_unique_against_the_server_not_only_the_file(workshop_server, run_roster, monkeypatch):
    (earlier,) = roster.create_attendees(workshop_server.uri, listed("Elsewhere Dora"), workshop_server.admin_password)
    rows = run_roster("Elsewhere Dora\n")  # a passwords file that does not know the first Dora
    assert list(rows) == ["elsewhere.dora.2"]
    assert _signs_in(monkeypatch, workshop_server.uri, earlier.username, earlier.password)


def test_reset_gives_the_named_attendee_alone_a_new_password(workshop_server, run_roster, monkeypatch):
    text = "name\nReset Eve\nReset Fay\n"
    first = run_roster(text)
    after = run_roster(text, "--reset", "Reset Eve")
    assert after["reset.eve"]["password"] != first["reset.eve"]["password"]
    assert after["reset.fay"] == first["reset.fay"]
    assert not _signs_in(monkeypatch, workshop_server.uri, "reset.eve", first["reset.eve"]["password"])
    assert _signs_in(monkeypatch, workshop_server.uri, "reset.eve", after["reset.eve"]["password"])


def test_the_roster_reserves_each_attendees_experiments(workshop_server, monkeypatch):
    squatter, carol = roster.create_attendees(
        workshop_server.uri, listed("Squat Sam", "Squat Carol"), workshop_server.admin_password
    )
    _become(monkeypatch, squatter.env(workshop_server.uri))
    client = MlflowClient(workshop_server.uri)
    with pytest.raises(MlflowException, match="already exists"):
        client.create_experiment("squat.carol/diamonds-price")  # Carol's, before she ever ran a notebook
    taken_first = client.create_experiment("squat.dan/diamonds-price")  # Dan has no account yet
    with pytest.raises(MlflowException, match="403"):
        client.create_run(client.get_experiment_by_name("squat.carol/parallel-tuning").experiment_id)

    (dan,) = roster.create_attendees(workshop_server.uri, listed("Squat Dan"), workshop_server.admin_password)
    for attendee in (carol, dan):
        _become(monkeypatch, attendee.env(workshop_server.uri))
        experiment = tracking.setup_tracking("diamonds-price", verbose=False)
        with mlflow.start_run() as run:
            mlflow.log_metric("val_rmse", 0.1)
        assert run.info.experiment_id == experiment.experiment_id
    assert experiment.experiment_id == taken_first  # Dan may log to the experiment made before his account


def test_an_experiment_someone_else_created_first_gives_one_clear_sentence(workshop_server, monkeypatch):
    squatter, gil = roster.create_attendees(
        workshop_server.uri, listed("Clear Sam", "Clear Gil"), workshop_server.admin_password
    )
    _become(monkeypatch, squatter.env(workshop_server.uri))
    MlflowClient(workshop_server.uri).create_experiment("clear.gil/private")  # not one the roster reserves
    _become(monkeypatch, gil.env(workshop_server.uri))
    with pytest.raises(tracking.ExperimentNotYours) as refused:
        tracking.setup_tracking("private", verbose=False)
    message = str(refused.value)
    assert message.startswith("The experiment 'clear.gil/private' on the tracking server at")
    assert "belongs to another user" in message and "tu.setup_tracking('private-2')" in message
    assert message.count(". ") == 0 and "\n" not in message
    assert tracking.setup_tracking("private-2", verbose=False).name == "clear.gil/private-2"


def test_the_passwords_file_is_private_and_its_folder_holds_nothing_else(run_roster, tmp_path):
    run_roster("name\nPrivate Hal\n")
    out = tmp_path / "passwords.csv"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attendees.csv", "passwords.csv"]
