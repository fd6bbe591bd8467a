"""Test isolation for every pytest run, `pytest notebooks/NN.ipynb` (nbval alone) included: kernels and tests
track to a temporary store, never to the course store or a tracking server."""

import os
import tempfile

import pytest

from tutorial_utils.paths import STORE_DIR_ENV
from tutorial_utils.tracking import quiet_mlflow


def pytest_configure(config: pytest.Config) -> None:
    """Before any kernel starts (nbval's too): a session store in a temp folder, no tracking server."""
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ[STORE_DIR_ENV] = tempfile.mkdtemp(prefix="course-test-store-")
    quiet_mlflow()
