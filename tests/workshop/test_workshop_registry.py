"""Notebook 07 on the workshop server: each attendee's registered model is "<username>.diamonds-price"; the others
may read it and load its champion (the server's default permission, READ), but not move its alias or add versions
(test_workshop_isolation.py)."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.dummy import DummyRegressor

from course_tools.workshop import roster
from tutorial_utils import tracking
from tutorial_utils.serving import registered_model_name
from workshop_support import listed


@pytest.fixture(scope="module")
def ann_and_ben(workshop_server) -> tuple[dict[str, str], dict[str, str]]:
    ann, ben = roster.create_attendees(
        workshop_server.uri, listed("Registry Ann", "Registry Ben"), workshop_server.admin_password
    )
    return ann.env(workshop_server.uri), ben.env(workshop_server.uri)


def _become(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _register_two_versions(uri: str) -> tuple[str, list[str]]:
    """As the signed-in attendee: two tiny models, registered as versions of their own "<username>.diamonds-price"
    (which the roster created for them)."""
    tracking.setup_tracking("diamonds-price", verbose=False)
    name = registered_model_name("diamonds-price")
    client = MlflowClient(uri)
    client.update_registered_model(name, description="a test of notebook 07's naming and permissions")
    versions = []
    for constant in (1.0, 2.0):
        with mlflow.start_run():
            model = DummyRegressor(strategy="constant", constant=constant).fit([[0.0]], [constant])
            info = mlflow.sklearn.log_model(model, name="dummy-model", pip_requirements=["scikit-learn"])
        versions.append(
            client.create_model_version(name, source=info.model_uri, run_id=info.run_id, model_id=info.model_id).version
        )
    return name, [str(v) for v in versions]


def test_another_attendee_can_load_your_champion(workshop_server, ann_and_ben, monkeypatch):
    ann, ben = ann_and_ben
    _become(monkeypatch, ann)
    name, (first, _) = _register_two_versions(workshop_server.uri)
    assert name == "registry.ann.diamonds-price"
    client = MlflowClient(workshop_server.uri)
    client.set_registered_model_alias(name, "champion", first)  # the creator holds MANAGE

    _become(monkeypatch, ben)
    assert str(client.get_model_version_by_alias(name, "champion").version) == first  # READ is the default
    assert mlflow.pyfunc.load_model(f"models:/{name}@champion").predict([[0.0]]).tolist() == [1.0]


def test_each_attendee_registers_under_their_own_name(workshop_server, ann_and_ben, monkeypatch):
    _become(monkeypatch, ann_and_ben[1])
    name, (first, _) = _register_two_versions(workshop_server.uri)
    assert name == "registry.ben.diamonds-price"
    client = MlflowClient(workshop_server.uri)
    client.set_registered_model_alias(name, "champion", first)
    aliases = client.get_registered_model(name).aliases
    assert {alias: str(version) for alias, version in aliases.items()} == {"champion": first}
    with pytest.raises(MlflowException, match="Names cannot contain '/' or ':'"):
        client.create_registered_model("registry.ben/diamonds-price")


def test_a_registered_model_someone_else_created_first_gives_one_clear_sentence(workshop_server, monkeypatch):
    squatter, cid = roster.create_attendees(
        workshop_server.uri, listed("Model Sam", "Model Cid"), workshop_server.admin_password
    )
    _become(monkeypatch, squatter.env(workshop_server.uri))
    client = MlflowClient(workshop_server.uri)
    client.create_registered_model("model.cid.private-model")  # not one the roster reserves for Cid
    _become(monkeypatch, cid.env(workshop_server.uri))
    with pytest.raises(MlflowException, match="403"):  # what MLflow alone would tell Cid
        client.update_registered_model("model.cid.private-model", description="mine?")
    with pytest.raises(tracking.ModelNotYours) as refused:
        tracking.check_can_register(registered_model_name("private-model"))
    message = str(refused.value)
    assert message.startswith("The registered model 'model.cid.private-model' on the tracking server at")
    assert "belongs to another user" in message and "for example 'private-model-2'" in message
    assert message.count(". ") == 0 and "\n" not in message
    tracking.check_can_register(registered_model_name("private-model-2"))  # a name nobody took yet
    tracking.check_can_register(registered_model_name("diamonds-price"))  # the roster's, Cid's to manage
