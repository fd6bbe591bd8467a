"""The one Python the course runs on, checked by `make install` before it creates the venv (standard library only:
it runs on whatever `python3` the machine has)."""

from __future__ import annotations

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


def main() -> int:
    problem = python_problem(sys.version_info, sys.executable)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
