"""Fixtures of every kind of test: a fresh store per test, a plain local tracking server (started once, when a test
asks for it), and no tracking URI leaking between tests. The workshop server's fixtures are in tests/workshop/."""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
def _forget_tracking_uri() -> Iterator[None]:
    """`mlflow.set_tracking_uri` also sets MLFLOW_TRACKING_URI; unset both so no store leaks into later kernels."""
    yield
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local `mlflow server` (SQLite backend, served artifacts) on a free loopback port; yields its URI."""
    root = tmp_path_factory.mktemp("server")
    with local_server(f"sqlite:///{root / 'server.db'}", root) as uri:
        yield uri
