"""The system programs `make test` needs beyond python3, make and git: PostgreSQL's server programs (the workshop
tests start a throwaway cluster), Debian's Chromium (the UI test) and Debian's nginx (the network tests' HTTPS
proxy). `.ci/run` installs them; `make test` first checks for them with `python -m course_tools prerequisites`."""

from __future__ import annotations

from pathlib import Path

from course_tools.ui_browser import CHROMIUM
from course_tools.workshop.postgres import PostgresError, postgres_bin_dir

#: Debian's nginx, which tests/workshop/test_workshop_network.py puts in front of a tracking server.
NGINX = Path("/usr/sbin/nginx")


def missing_prerequisites() -> dict[str, str]:
    """What `make test` needs and this machine lacks, each with the Debian package that installs it."""
    missing = {}
    try:
        postgres_bin_dir()
    except PostgresError:
        missing["PostgreSQL's server programs"] = "postgresql"
    if not CHROMIUM.exists():
        missing["Chromium"] = "chromium"
    if not NGINX.exists():
        missing["nginx"] = "nginx"
    return missing


def missing_sentence(missing: dict[str, str]) -> str:
    """One sentence: what is missing and the command that installs it."""
    names = list(missing)
    listed = " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))
    them = "them" if len(missing) > 1 else "it"
    return (
        f"make test needs {listed}, which this machine lacks: "
        f"sudo apt-get install {' '.join(missing.values())} (or run bash .ci/run, which installs {them})."
    )
