"""Workshop attendees: one user per name on the tracking server, with a generated password each.

Usage: python -m course_tools.workshop.roster attendees.csv [--host 127.0.0.1] [--port 5000] [--uri URI] [--out FILE]

The CSV has a `name` column (or names in its first column). The admin signs in with `MLFLOW_AUTH_ADMIN_PASSWORD`.
Passwords go to a file only the instructor can read (mode 0600, git-ignored); nothing secret is printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import secrets
import sys
import unicodedata
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from mlflow.exceptions import MlflowException, RestException

with warnings.catch_warnings():  # keep Starlette's deprecation notice, raised on import, out of the instructor's output
    warnings.simplefilter("ignore", DeprecationWarning)
    from mlflow.server import get_app_client

from course_tools.paths import environment
from course_tools.workshop.server import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USERNAME,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    attendee_uri,
)

CREDENTIAL_ENV = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
PASSWORD_BYTES = 12  # token_urlsafe(12): 16 characters


@dataclass(frozen=True)
class Attendee:
    """One attendee's account on the workshop server."""

    name: str
    username: str
    password: str

    def env(self, tracking_uri: str) -> dict[str, str]:
        """The three environment variables this attendee sets."""
        return {
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_TRACKING_USERNAME": self.username,
            "MLFLOW_TRACKING_PASSWORD": self.password,
        }


def read_roster(path: Path) -> list[str]:
    """The names in a roster CSV: its `name` column, or its first column when there is no such header."""
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if rows and "name" in [cell.strip().lower() for cell in rows[0]]:
        column = [cell.strip().lower() for cell in rows[0]].index("name")
        rows = rows[1:]
    else:
        column = 0
    names = [row[column].strip() for row in rows if len(row) > column and row[column].strip()]
    if not names:
        raise ValueError(f"{path} lists no attendees (expected a 'name' column or one name per line)")
    return names


def username_for(name: str) -> str:
    """A login from a name: ASCII, lower case, words joined by dots ("Zoë Smith" -> "zoe.smith")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    username = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")
    if not username:
        raise ValueError(f"cannot make a username from {name!r}: it has no letters or digits")
    return username


def plan_attendees(names: Sequence[str]) -> list[Attendee]:
    """An `Attendee` per name, usernames made unique (a second "Ana Lima" is "ana.lima.2"), new passwords."""
    taken = {ADMIN_USERNAME}
    attendees = []
    for name in names:
        base = username = username_for(name)
        suffix = 1
        while username in taken:
            suffix += 1
            username = f"{base}.{suffix}"
        taken.add(username)
        attendees.append(Attendee(name, username, secrets.token_urlsafe(PASSWORD_BYTES)))
    return attendees


def signed_in(username: str, password: str) -> AbstractContextManager[None]:
    """MLflow clients in this process act as `username` inside the block (credentials come from the environment)."""
    return environment(**dict(zip(CREDENTIAL_ENV, (username, password), strict=True)))


def create_attendees(tracking_uri: str, names: Sequence[str], admin_password: str) -> list[Attendee]:
    """Create one user per name on the server (as the admin); an existing user gets a new password."""
    attendees = plan_attendees(names)
    client = get_app_client("basic-auth", tracking_uri=tracking_uri)
    with signed_in(ADMIN_USERNAME, admin_password):
        for attendee in attendees:
            try:
                client.create_user(attendee.username, attendee.password)
            except RestException as error:
                if "already exists" not in error.message:
                    raise
                client.update_user_password(attendee.username, attendee.password)
    return attendees


def write_passwords(attendees: Sequence[Attendee], tracking_uri: str, path: Path) -> Path:
    """The instructor's credentials file (name, username, password, URI), readable by its owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "username", "password", "tracking_uri"])
        writer.writerows([a.name, a.username, a.password, tracking_uri] for a in attendees)
    path.chmod(0o600)  # also when the file existed with wider permissions
    return path


def attendee_instructions(tracking_uri: str) -> str:
    """What every attendee sets (each one's username and password are in the instructor's file)."""
    return (
        "Each attendee sets, before starting JupyterLab (username and password from the passwords file):\n"
        f"  export MLFLOW_TRACKING_URI={tracking_uri}\n"
        "  export MLFLOW_TRACKING_USERNAME=<username>\n"
        "  export MLFLOW_TRACKING_PASSWORD=<password>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.workshop.roster", description=__doc__.splitlines()[0])
    parser.add_argument("roster", type=Path, help="CSV of attendee names")
    parser.add_argument("--host", default=DEFAULT_HOST, help="the interface the server listens on (as in make server)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--uri", help="the server as attendees reach it (default: from --host and --port)")
    parser.add_argument("--out", type=Path, default=DEFAULT_DATA_DIR / "passwords.csv", help="credentials file")
    args = parser.parse_args(argv)
    uri = args.uri or attendee_uri(args.host, args.port)
    admin_password = os.environ.get(ADMIN_PASSWORD_ENV)
    if not admin_password:
        print(f"{ADMIN_PASSWORD_ENV} is not set: the roster signs in as {ADMIN_USERNAME!r} with it.", file=sys.stderr)
        return 2
    try:
        attendees = create_attendees(uri, read_roster(args.roster), admin_password)
    except (OSError, ValueError, MlflowException) as error:
        print(f"Roster failed: {error}", file=sys.stderr)
        return 1
    path = write_passwords(attendees, uri, args.out)
    print(f"{len(attendees)} attendees on {uri}; their usernames and passwords: {path} (mode 0600)")
    print(attendee_instructions(uri))
    return 0


if __name__ == "__main__":
    sys.exit(main())
