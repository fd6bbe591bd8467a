import tomllib

from course_tools.python_version import NEEDED, python_problem
from tutorial_utils.paths import REPO_ROOT


def test_python_311_runs_the_course_and_others_get_one_sentence():
    assert python_problem((3, 11, 7, "final", 0), "/usr/bin/python3") is None
    sentence = python_problem((3, 12, 1, "final", 0), "/usr/bin/python3")
    assert sentence == (
        "The course needs Python 3.11 (its pinned versions and committed outputs come from it), but /usr/bin/python3 "
        "is Python 3.12.1: install Python 3.11 and run make with PYTHON=python3.11."
    )
    assert "3.10.4" in python_problem((3, 10, 4), "python3")


def test_the_package_declares_the_same_python():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f"=={NEEDED[0]}.{NEEDED[1]}.*"
