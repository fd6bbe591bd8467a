"""Temporary environment variables: set, unset, and restored even when the block fails."""

import os

import pytest

from course_tools.paths import environment, store_environment
from tutorial_utils.paths import STORE_DIR_ENV


def test_environment_sets_unsets_and_restores(monkeypatch):
    monkeypatch.setenv("COURSE_TEST_KEPT", "before")
    monkeypatch.delenv("COURSE_TEST_NEW", raising=False)
    with pytest.raises(RuntimeError), environment(COURSE_TEST_KEPT=None, COURSE_TEST_NEW="inside"):
        assert "COURSE_TEST_KEPT" not in os.environ and os.environ["COURSE_TEST_NEW"] == "inside"
        raise RuntimeError("the block fails")
    assert os.environ["COURSE_TEST_KEPT"] == "before" and "COURSE_TEST_NEW" not in os.environ


def test_store_environment_points_at_a_store_and_drops_the_tracking_uri(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example.invalid")
    with store_environment(tmp_path):
        assert os.environ[STORE_DIR_ENV] == str(tmp_path) and "MLFLOW_TRACKING_URI" not in os.environ
    assert os.environ["MLFLOW_TRACKING_URI"] == "http://example.invalid"
