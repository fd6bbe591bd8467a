"""The system programs `make test` needs beyond python3, make and git: PostgreSQL's server programs (the workshop
tests start a throwaway cluster) and Debian's Chromium (the UI test). `.ci/run` installs them; `make test` first
checks for them with `python -m course_tools prerequisites`."""

from __future__ import annotations

from course_tools.ui_browser import CHROMIUM
from course_tools.workshop.postgres import PostgresError, postgres_bin_dir


def missing_prerequisites() -> dict[str, str]:
    """What `make test` needs and this machine lacks, each with the Debian package that installs it."""
    missing = {}
    try:
        postgres_bin_dir()
    except PostgresError:
        missing["PostgreSQL's server programs"] = "postgresql"
    if not CHROMIUM.exists():
        missing["Chromium"] = "chromium"
    return missing


def missing_sentence(missing: dict[str, str]) -> str:
    """One sentence: what is missing and the command that installs it."""
    them = "them" if len(missing) > 1 else "it"
    return (
        f"make test needs {' and '.join(missing)}, which this machine lacks: "
        f"sudo apt-get install {' '.join(missing.values())} (or run bash .ci/run, which installs {them})."
    )
