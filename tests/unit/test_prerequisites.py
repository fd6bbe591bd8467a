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
    """Set which of PostgreSQL and Chromium this machine has: `machine(postgres=..., chromium=...)`."""

    def have(*, postgres: bool, chromium: bool) -> None:
        monkeypatch.setattr(prerequisites, "postgres_bin_dir", (lambda: tmp_path) if postgres else _no_postgres)
        browser = tmp_path / "chromium"
        if chromium:
            browser.touch()
        monkeypatch.setattr(prerequisites, "CHROMIUM", browser)

    return have


def test_nothing_is_said_when_everything_is_there(machine, capsys):
    machine(postgres=True, chromium=True)
    assert prerequisites.missing_prerequisites() == {}
    assert course.main(["prerequisites"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("postgres", "chromium", "sentence"),
    [
        (
            False,
            False,
            "make test needs PostgreSQL's server programs and Chromium, which this machine lacks: "
            "sudo apt-get install postgresql chromium (or run bash .ci/run, which installs them).",
        ),
        (
            False,
            True,
            "make test needs PostgreSQL's server programs, which this machine lacks: "
            "sudo apt-get install postgresql (or run bash .ci/run, which installs it).",
        ),
        (
            True,
            False,
            "make test needs Chromium, which this machine lacks: "
            "sudo apt-get install chromium (or run bash .ci/run, which installs it).",
        ),
    ],
)
def test_what_is_missing_is_said_in_one_sentence_with_its_install_command(
    machine, capsys, postgres, chromium, sentence
):
    machine(postgres=postgres, chromium=chromium)
    assert course.main(["prerequisites"]) == 1
    assert capsys.readouterr() == ("", sentence + "\n")
