import pytest
import tomllib

from course_tools import install_check
from course_tools.install_check import NEEDED, git_problem, python_problem
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


def test_a_machine_without_git_gets_one_sentence_and_make_install_stops(monkeypatch, capsys):
    assert git_problem("/usr/bin/git") is None
    assert git_problem(None).startswith("The course needs git: without it MLflow warns")
    monkeypatch.setattr(install_check.shutil, "which", lambda name: None)
    assert install_check.main() == 1
    assert capsys.readouterr().err.strip() == git_problem(None)


@pytest.mark.parametrize("git", ["/usr/bin/git", None])
def test_main_reports_every_problem_it_finds(monkeypatch, capsys, git):
    monkeypatch.setattr(install_check.sys, "version_info", (3, 12, 0, "final", 0))
    monkeypatch.setattr(install_check.shutil, "which", lambda name: git)
    assert install_check.main() == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == (1 if git else 2)
