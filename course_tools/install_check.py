"""What `make install` checks before it creates the venv: the one Python the course runs on, and git (standard
library only: it runs on whatever `python3` the machine has)."""

from __future__ import annotations

import shutil
import sys

#: The pins (constraints.txt), the committed outputs ("Python 3.11") and the tests (tomllib) need Python 3.11.
NEEDED = (3, 11)


def python_problem(version: tuple[int, ...], executable: str) -> str | None:
    """One sentence on why `version` (a `sys.version_info`) cannot run the course, or None if it can."""
    if tuple(version[:2]) == NEEDED:
        return None
    found, needed = ".".join(map(str, version[:3])), ".".join(map(str, NEEDED))
    return (
        f"The course needs Python {needed} (its pinned versions and committed outputs come from it), but "
        f"{executable} is Python {found}: install Python {needed} and run make with PYTHON=python{needed}."
    )


def git_problem(git: str | None) -> str | None:
    """One sentence if git (its path, from `shutil.which`) is missing, or None.

    Without git, MLflow warns on every run that it cannot record the code's version ("Failed to import Git"),
    and the warning would land in the notebooks' outputs.
    """
    if git:
        return None
    return (
        "The course needs git: without it MLflow warns on every run that it cannot record the code's version. "
        "Install it (on Debian/Ubuntu: sudo apt-get install git) and run make again."
    )


def main() -> int:
    problems = [p for p in (python_problem(sys.version_info, sys.executable), git_problem(shutil.which("git"))) if p]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
