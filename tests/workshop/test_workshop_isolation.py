"""Attendees kept apart on the workshop server as `make server` runs it (4 workers, PostgreSQL, basic auth): another
attendee may read everything of yours (the default permission, READ) but is refused (403 PERMISSION_DENIED) on every
write path, and a password reset reaches every worker within the server's password-cache time."""

from __future__ import annotations

import base64
import configparser
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import mlflow
import pytest
import requests
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyRegressor

from course_tools.workshop import roster
from course_tools.workshop.roster import Attendee
from tutorial_utils.tracking import CURRENT_USER_PATH
from workshop_support import listed, signed_in_as


@dataclass(frozen=True)
class Owned:
    """What one attendee owns: an experiment, a run in it (a param, an artifact), a logged model from that run, and
    a registered model with two versions of it, its alias "champion" on the first."""

    experiment_id: str
    run_id: str
    model_id: str
    registered_model: str
    versions: tuple[str, str]


def _own_everything(client: MlflowClient, username: str) -> Owned:
    """As the signed-in `username`: a new experiment, run, logged model and registered model of their own."""
    label = uuid.uuid4().hex[:8]
    experiment_id = client.create_experiment(f"{username}/isolation-{label}")
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "alpha", "1")
    client.log_text(run_id, "the owner's notes", "notes.txt")
    model = client.create_logged_model(experiment_id, name="owners-model", source_run_id=run_id)
    name = f"{username}.isolation-{label}"
    client.create_registered_model(name)
    first, second = (
        str(client.create_model_version(name, model.model_uri, run_id=run_id, model_id=model.model_id).version)
        for _ in range(2)
    )
    client.set_registered_model_alias(name, "champion", first)
    return Owned(experiment_id, run_id, model.model_id, name, (first, second))


def _state(client: MlflowClient, owned: Owned) -> dict[str, Any]:
    """Everything a write to `owned` could change, as its owner reads it."""
    experiment = client.get_experiment(owned.experiment_id)
    runs = client.search_runs([owned.experiment_id], run_view_type=ViewType.ALL)
    model = client.get_registered_model(owned.registered_model)
    return {
        "experiment": (experiment.name, experiment.lifecycle_stage),
        "runs": {r.info.run_id: (r.info.lifecycle_stage, r.data.metrics, r.data.params, r.data.tags) for r in runs},
        "artifacts": [f.path for f in client.list_artifacts(owned.run_id)],
        "logged models": sorted(m.model_id for m in client.search_logged_models([owned.experiment_id])),
        "registered model": (model.description, dict(model.aliases)),
        "versions": sorted(v.version for v in client.search_model_versions(f"name='{owned.registered_model}'")),
    }


def _log_a_model(client: MlflowClient, owned: Owned) -> None:
    """As a notebook does it: the experiment made active, then a flavor's `log_model` (into the run)."""
    mlflow.set_experiment(experiment_id=owned.experiment_id)
    model = DummyRegressor(strategy="constant", constant=1.0).fit([[0.0]], [1.0])
    mlflow.sklearn.log_model(model, name="intruder-model", run_id=owned.run_id, pip_requirements=["scikit-learn"])


#: Each way to write to an attendee's experiment, runs and registered model (the fluent log_model included).
WRITES: dict[str, Callable[[MlflowClient, Owned], object]] = {
    "create a run": lambda c, o: c.create_run(o.experiment_id),
    "log a metric": lambda c, o: c.log_metric(o.run_id, "intruder", 1.0),
    "log a param": lambda c, o: c.log_param(o.run_id, "intruder", "1"),
    "set a tag": lambda c, o: c.set_tag(o.run_id, "intruder", "yes"),
    "upload an artifact through the proxy": lambda c, o: c.log_text(o.run_id, "intruder", "intruder.txt"),
    "log a model": _log_a_model,
    "delete the run": lambda c, o: c.delete_run(o.run_id),
    "rename the experiment": lambda c, o: c.rename_experiment(o.experiment_id, f"{o.registered_model}-renamed"),
    "delete the experiment": lambda c, o: c.delete_experiment(o.experiment_id),
    "register a model version": lambda c, o: c.create_model_version(
        o.registered_model, f"models:/{o.model_id}", run_id=o.run_id, model_id=o.model_id
    ),
    "move the alias": lambda c, o: c.set_registered_model_alias(o.registered_model, "champion", o.versions[1]),
    "delete the alias": lambda c, o: c.delete_registered_model_alias(o.registered_model, "champion"),
    "change the description": lambda c, o: c.update_registered_model(o.registered_model, description="mine now"),
}


@pytest.fixture(autouse=True)
def _keep_the_active_experiment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`mlflow.set_experiment` in a write leaves the next test the active experiment it found."""
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", mlflow.tracking.fluent._active_experiment_id)


@pytest.fixture(scope="module")
def ann_and_ben(workshop_server) -> tuple[Attendee, Attendee]:
    ann, ben = roster.create_attendees(
        workshop_server.uri, listed("Isolated Ann", "Isolated Ben"), workshop_server.admin_password
    )
    return ann, ben


@pytest.fixture(scope="module")
def anns(workshop_server, ann_and_ben) -> Owned:
    """Ann's experiment, run, logged model and registered model, made once for every refused write."""
    ann = ann_and_ben[0]
    with signed_in_as(ann, workshop_server.uri):
        return _own_everything(MlflowClient(workshop_server.uri), ann.username)


def _refused_with(attempt: Callable[[], object]) -> int:
    """The HTTP status of the server's refusal of `attempt` (MLflow's REST client reports a 403 as the error code
    PERMISSION_DENIED, the artifact proxy's client as an HTTPError); fails the test if the server let it through."""
    try:
        attempt()
    except MlflowException as error:
        return error.get_http_status_code()
    except requests.HTTPError as error:
        return error.response.status_code
    pytest.fail("the server let another attendee write")


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_another_attendee_may_not(write, workshop_server, ann_and_ben, anns):
    ann, ben = ann_and_ben
    client = MlflowClient(workshop_server.uri)
    with signed_in_as(ann, workshop_server.uri):
        before = _state(client, anns)
    with signed_in_as(ben, workshop_server.uri):
        assert _refused_with(lambda: write(client, anns)) == 403
    with signed_in_as(ann, workshop_server.uri):
        assert _state(client, anns) == before


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_the_owner_may(write, workshop_server, ann_and_ben):
    """The control of the refusals above: the same write, by the owner, goes through and shows in `_state`."""
    ann = ann_and_ben[0]
    client = MlflowClient(workshop_server.uri)
    with signed_in_as(ann, workshop_server.uri):
        owned = _own_everything(client, ann.username)
        before = _state(client, owned)
        write(client, owned)
        assert _state(client, owned) != before


def test_another_attendee_reads_your_runs_artifacts_and_models(workshop_server, ann_and_ben, anns):
    client = MlflowClient(workshop_server.uri)
    with signed_in_as(ann_and_ben[1], workshop_server.uri):
        run = client.get_run(anns.run_id)
        assert run.data.params == {"alpha": "1"}
        assert [r.info.run_id for r in client.search_runs([anns.experiment_id])] == [anns.run_id]
        assert mlflow.artifacts.load_text(f"{run.info.artifact_uri}/notes.txt") == "the owner's notes"
        assert client.get_logged_model(anns.model_id).source_run_id == anns.run_id
        assert str(client.get_model_version_by_alias(anns.registered_model, "champion").version) == anns.versions[0]


def _signs_in(uri: str, username: str, password: str) -> bool:
    """Whether the server takes this password, asked over a new connection (so any worker may answer)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(f"{uri}{CURRENT_USER_PATH}", headers={"Authorization": f"Basic {token}"})
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.HTTPError as error:
        if error.code != 401:
            raise
        return False
    return True


def test_a_reset_password_keeps_working_until_each_workers_cache_expires(workshop_server):
    """`make roster RESET=...` changes the password in the database and clears the cache of the one worker that
    served it; the other workers take the old password until their cached check of it expires (the server's
    `auth_cache_ttl_seconds`). Measured here, on the shipped configuration: the new password works at once on
    every worker, the old one on some worker after the reset, and on none once the cache time has passed."""
    config = configparser.ConfigParser()
    config.read(workshop_server.log_path.parent / "basic_auth.ini")
    ttl = config.getint("mlflow", "auth_cache_ttl_seconds")
    uri, admin = workshop_server.uri, workshop_server.admin_password
    (cy,) = roster.create_attendees(uri, listed("Cached Cy"), admin)
    with ThreadPoolExecutor(2 * workshop_server.workers) as pool:

        def tries(password: str, count: int) -> list[tuple[float, bool]]:
            """`count` sign-ins at once with `password`: when each started, and whether it was taken."""
            return list(pool.map(lambda _: (time.monotonic(), _signs_in(uri, cy.username, password)), range(count)))

        assert all(ok for _, ok in tries(cy.password, 8 * workshop_server.workers))  # the workers answering cache it
        cached_by = time.monotonic()
        (renewed,) = roster.create_attendees(uri, listed("Cached Cy"), admin, known=[cy], reset=[cy.username])
        reset_at = time.monotonic()
        old: list[tuple[float, bool]] = []
        while time.monotonic() < cached_by + ttl + 2:  # bounded: the cache time, and 2 s
            assert all(ok for _, ok in tries(renewed.password, 2))
            old += tries(cy.password, workshop_server.workers)
            time.sleep(0.5)
        final = tries(cy.password, 4 * workshop_server.workers)
    taken = [started for started, was_taken in old if was_taken]
    print(
        f"old password taken by {len(taken)} of {len(old)} sign-ins after the reset, the last one "
        f"{max(taken, default=reset_at) - reset_at:.1f} s after it (the reset took {reset_at - cached_by:.1f} s; "
        f"cache time {ttl} s)"
    )
    assert taken, "the old password stopped at once: one worker only, or no cache?"
    assert max(taken) < cached_by + ttl + 1  # each worker's last check of the old password was before `cached_by`
    assert not any(was_taken for _, was_taken in final)
