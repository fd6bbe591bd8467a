"""Fixtures of every kind of test: a fresh store per test, a plain local tracking server (started once, when a test
asks for it), and no environment variable leaking between tests. The workshop server's fixtures: tests/workshop/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from course_tools.workshop.mlflow_server import local_server
from tutorial_utils.paths import STORE_DIR_ENV


@pytest.fixture
def fresh_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty embedded store for one test."""
    store = tmp_path / "store"
    monkeypatch.setenv(STORE_DIR_ENV, str(store))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return store


EXPERIMENT_ID_ENV = "MLFLOW_EXPERIMENT_ID"
#: Variables that change during a test by design: pytest's own, and those libraries set once on first use
#: (scikit-learn sets the two KMP_ ones when it is first imported).
CHANGES_EXPECTED = {"PYTEST_CURRENT_TEST", "_MLFLOW_TELEMETRY_SESSION_ID", "KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK"}
#: What `mlflow.set_tracking_uri` and `mlflow.set_experiment` write into the environment, as well as into MLflow.
MLFLOW_ACTIVE_STATE = ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID")


@pytest.fixture(autouse=True)
def _no_environment_leak() -> Iterator[None]:
    """No test leaks an environment variable into later tests (or the kernels they start).

    `mlflow.set_tracking_uri` and `mlflow.set_experiment` also set MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_ID,
    which a later test's kernel would inherit: both are unset after every test, whoever set them (a test or a wider
    fixture). Any other variable the test changed and did not restore fails it, by name (use
    `monkeypatch.setenv` or `course_tools.paths.environment`).
    """
    before = dict(os.environ)
    yield
    mlflow.set_tracking_uri(None)
    for name in MLFLOW_ACTIVE_STATE:
        os.environ.pop(name, None)
    after = dict(os.environ)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    leaked = sorted(changed - CHANGES_EXPECTED - set(MLFLOW_ACTIVE_STATE))
    assert leaked == [], f"the test changed these environment variables and did not restore them: {leaked}"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local `mlflow server` (SQLite backend, served artifacts) on a free loopback port; yields its URI."""
    root = tmp_path_factory.mktemp("server")
    with local_server(f"sqlite:///{root / 'server.db'}", root) as uri:
        yield uri
