"""`python -m course_tools prerequisites`: one sentence naming what `make test` lacks and how to install it."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_tools import cli as course
from course_tools import prerequisites
from course_tools.workshop.postgres import PostgresError


def _no_postgres() -> Path:
    raise PostgresError("initdb not found")


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """Which of PostgreSQL, Chromium and nginx this machine has: `machine(postgres=..., chromium=..., nginx=...)`."""

    def have(*, postgres: bool, chromium: bool, nginx: bool = True) -> None:
        monkeypatch.setattr(prerequisites, "postgres_bin_dir", (lambda: tmp_path) if postgres else _no_postgres)
        for name, present in (("CHROMIUM", chromium), ("NGINX", nginx)):
            program = tmp_path / name.lower()
            if present:
                program.touch()
            monkeypatch.setattr(prerequisites, name, program)

    return have


def test_nothing_is_said_when_everything_is_there(machine, capsys):
    machine(postgres=True, chromium=True, nginx=True)
    assert prerequisites.missing_prerequisites() == {}
    assert course.main(["prerequisites"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("postgres", "chromium", "nginx", "sentence"),
    [
        (
            False,
            False,
            False,
            "make test needs PostgreSQL's server programs, Chromium and nginx, which this machine lacks: "
            "sudo apt-get install postgresql chromium nginx (or run bash .ci/run, which installs them).",
        ),
        (
            False,
            True,
            True,
            "make test needs PostgreSQL's server programs, which this machine lacks: "
            "sudo apt-get install postgresql (or run bash .ci/run, which installs it).",
        ),
        (
            True,
            False,
            True,
            "make test needs Chromium, which this machine lacks: "
            "sudo apt-get install chromium (or run bash .ci/run, which installs it).",
        ),
        (
            True,
            True,
            False,
            "make test needs nginx, which this machine lacks: "
            "sudo apt-get install nginx (or run bash .ci/run, which installs it).",
        ),
    ],
)
def test_what_is_missing_is_said_in_one_sentence_with_its_install_command(
    machine, capsys, postgres, chromium, nginx, sentence
):
    machine(postgres=postgres, chromium=chromium, nginx=nginx)
    assert course.main(["prerequisites"]) == 1
    assert capsys.readouterr() == ("", sentence + "\n")
