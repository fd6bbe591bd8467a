"""The pinned model requirements: the course's pins, which are the installed versions."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from tutorial_utils.environment import read_pins
from tutorial_utils.model_requirements import FLAVOR_PACKAGES, model_requirements

#: What inference lists only because the loading process happened to import it.
BYSTANDERS = {"pytest", "ipywidgets", "psutil"}


@pytest.mark.parametrize("flavor", sorted(FLAVOR_PACKAGES))
def test_requirements_are_the_course_pins_and_the_installed_versions(flavor):
    """Checked against two sources the helper does not read: constraints.txt and pip's own record."""
    pins = read_pins()
    for line in model_requirements(flavor):
        name, pinned = line.split("==")
        assert pins[name] == pinned == version(name)


def test_unknown_flavor_is_refused():
    with pytest.raises(ValueError, match="no requirements known for flavor 'xgboost'"):
        model_requirements("xgboost")
