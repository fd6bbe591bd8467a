"""The pins: constraints.txt is the one source; environment.yml and pyproject.toml must agree with it."""

import re

import tomllib

from tutorial_utils.environment import KEY_PACKAGES, _normalise, check_environment, read_pins
from tutorial_utils.paths import REPO_ROOT

ENVIRONMENT_YML = REPO_ROOT / "environment.yml"


def _direct_dependencies() -> list[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = project["dependencies"] + [r for extra in extras.values() for r in extra]
    names = [_normalise(re.split(r"[<>=!\[ ;]", r, maxsplit=1)[0]) for r in requirements]
    return [n for n in names if n != "tutorial-utils"]


def _conda_pins() -> dict[str, str]:
    """`- name ==version` (or `=version`) lines of environment.yml's conda dependencies."""
    pins = {}
    for line in ENVIRONMENT_YML.read_text().splitlines():
        match = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.-]+)\s*==?\s*([^\s#]+)\s*(#.*)?", line)
        if match:
            pins[_normalise(match[1])] = match[2]
    return pins


def test_read_pins_parses_exact_pins_only(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("# comment\nNumPy==2.4.6\nfoo>=1\nscikit_learn == 1.9.1 ; python_version > '3'\n")
    assert read_pins(path) == {"numpy": "2.4.6", "scikit-learn": "1.9.1"}


def test_every_direct_dependency_is_pinned_in_constraints():
    pins = read_pins()
    assert [d for d in _direct_dependencies() if d not in pins] == []


def test_environment_yml_has_the_same_pins_as_constraints():
    pins, conda = read_pins(), _conda_pins()
    assert conda.pop("python").startswith("3.11")
    assert sorted(conda) == sorted(_direct_dependencies())
    assert {name: (version, pins[name]) for name, version in conda.items() if version != pins[name]} == {}


def test_environment_yml_installs_the_package_from_conda_forge():
    text = ENVIRONMENT_YML.read_text()
    assert "conda-forge" in text and "defaults" not in text
    assert re.search(r"-\s*-e\s+\.", text)


def test_check_environment_matches_this_venv():
    table = check_environment()
    assert list(table.index) == KEY_PACKAGES
    assert table["ok"].all(), table


def test_check_environment_flags_a_mismatch(tmp_path):
    pins = tmp_path / "c.txt"
    pins.write_text("mlflow==0.0.1\n")
    table = check_environment(["mlflow", "surely-not-installed-pkg"], pins)
    assert not table.loc["mlflow", "ok"] and table.loc["mlflow", "pinned"] == "0.0.1"
    assert table.loc["surely-not-installed-pkg", "installed"] == "missing"
    assert table.loc["surely-not-installed-pkg", "pinned"] == "unpinned"
