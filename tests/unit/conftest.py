"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest

from tutorial_utils import tracking
from tutorial_utils.exercises import StoreView


@pytest.fixture
def store_for(fresh_store):
    """`store_for(experiment)`: the course store with `experiment` active, and a fresh view of it."""

    def make(experiment: str) -> StoreView:
        tracking.setup_tracking(experiment, verbose=False)
        return StoreView()

    return make
