"""Workshop attendees: one user per roster row on the tracking server, a generated password each, their namespace
reserved.

Usage: python -m course_tools.workshop.roster attendees.csv [--host 127.0.0.1] [--port 5000] [--uri URI] [--out FILE]
                                               [--reset NAME ...]

The CSV has a `name` column (or names in its first column). The admin signs in with `MLFLOW_AUTH_ADMIN_PASSWORD`.
Passwords go to a file only the instructor can read (mode 0600, git-ignored); nothing secret is printed.

Running it again (late arrivals, or the whole list) never changes an existing attendee's password, and never gives
anyone an account that is already someone's:
- The passwords file is the roster's memory. A row identical to one the file recorded (every cell, e.g. name and
  email) is the same person and keeps their account; the k-th of several identical rows is the k-th one recorded.
- Any other row is a new person: a username free on the server ("ana.lima", else "ana.lima.2", ...).
- `--reset NAME` (a name or a username from the passwords file) gives that one person a new password.
- Each attendee's course experiments "<username>/<name>" and registered models "<username>.<name>" (the notebooks'
  `EXPERIMENT_NAME` and `REGISTERED_MODEL` defaults) are created up front, with MANAGE for that attendee: nobody
  else can create them first.
The file is merged, never truncated: attendees not in this run's CSV stay in it.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import re
import secrets
import sys
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.exceptions import MlflowException, RestException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, ErrorCode
from mlflow.tracking import MlflowClient

with warnings.catch_warnings():  # keep Starlette's deprecation notice, raised on import, out of the instructor's output
    warnings.simplefilter("ignore", DeprecationWarning)
    from mlflow.server import get_app_client

from course_tools.notebooks import read_parameters
from course_tools.paths import environment, notebook_paths
from course_tools.workshop.server import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USERNAME,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    attendee_uri,
)
from tutorial_utils.serving import registered_model_name
from tutorial_utils.tracking import experiment_name_for, get_or_create_experiment

if TYPE_CHECKING:
    from mlflow.server.auth.client import AuthServiceClient

CREDENTIAL_ENV = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
PASSWORD_BYTES = 12  # token_urlsafe(12): 16 characters
PASSWORD_COLUMNS = ["name", "username", "password", "tracking_uri", "roster_row"]
OWNER_PERMISSION = "MANAGE"


@dataclass(frozen=True)
class Listed:
    """One row of the roster CSV: the attendee's name, and every cell of the row (what tells two people of the
    same name apart)."""

    name: str
    row: tuple[str, ...]


@dataclass(frozen=True)
class Attendee:
    """One attendee's account on the workshop server, and the roster row that listed them."""

    name: str
    username: str
    password: str
    row: tuple[str, ...] = ()

    def env(self, tracking_uri: str) -> dict[str, str]:
        """The three environment variables this attendee sets."""
        return {
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_TRACKING_USERNAME": self.username,
            "MLFLOW_TRACKING_PASSWORD": self.password,
        }


def read_roster(path: Path) -> list[Listed]:
    """The rows of a roster CSV, each with its `name` column (or its first column when there is no such header)."""
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        rows = [tuple(cell.strip() for cell in row) for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if rows and "name" in [cell.lower() for cell in rows[0]]:
        column = [cell.lower() for cell in rows[0]].index("name")
        rows = rows[1:]
    else:
        column = 0
    listed = [Listed(row[column], row) for row in rows if len(row) > column and row[column]]
    if not listed:
        raise ValueError(f"{path} lists no attendees (expected a 'name' column or one name per line)")
    return listed


def username_for(name: str) -> str:
    """A login from a name: ASCII, lower case, words joined by dots ("Zoë Smith" -> "zoe.smith")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    username = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")
    if not username:
        raise ValueError(f"cannot make a username from {name!r}: it has no letters or digits")
    return username


def usernames_to_reset(names: Collection[str], known: Sequence[Attendee]) -> set[str]:
    """The usernames `--reset` names: each a name or a username in the passwords file, naming exactly one attendee."""
    usernames = set()
    for name in names:
        matches = {a.username for a in known if name in (a.name, a.username)}
        if len(matches) != 1:
            found = f"is shared by {', '.join(sorted(matches))}: reset one by username" if matches else "is not in it"
            raise ValueError(f"--reset {name!r}: that name {found} (the passwords file)")
        usernames |= matches
    return usernames


def plan_attendees(
    listed: Sequence[Listed],
    known: Sequence[Attendee] = (),
    reset: Collection[str] = (),
    on_server: Callable[[str], bool] = lambda username: False,
) -> list[Attendee]:
    """This run's attendees: for each row, the recorded attendee of that row (`known`, the passwords file) or a new
    one with a username nobody has (recorded, planned here, or `on_server`); then the `reset` usernames, each with a
    new password."""
    unclaimed: dict[tuple[str, ...], list[Attendee]] = {}
    for attendee in known:
        unclaimed.setdefault(attendee.row, []).append(attendee)
    taken = {ADMIN_USERNAME, *(a.username for a in known)}
    planned: dict[str, Attendee] = {}
    for entry in listed:
        if unclaimed.get(entry.row):
            attendee = unclaimed[entry.row].pop(0)
        else:
            base = username = username_for(entry.name)
            suffix = 1
            while username in taken or on_server(username):
                suffix += 1
                username = f"{base}.{suffix}"
            attendee = Attendee(entry.name, username, _new_password(), entry.row)
        taken.add(attendee.username)
        planned[attendee.username] = attendee
    for attendee in known:
        if attendee.username in reset:
            planned[attendee.username] = replace(attendee, password=_new_password())
    return list(planned.values())


def _new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def signed_in(username: str, password: str) -> AbstractContextManager[None]:
    """MLflow clients in this process act as `username` inside the block (credentials come from the environment)."""
    return environment(**dict(zip(CREDENTIAL_ENV, (username, password), strict=True)))


def _has_user(auth: AuthServiceClient, username: str) -> bool:
    """Whether the server has a user called `username` (asked as the signed-in admin)."""
    try:
        auth.get_user(username)
    except RestException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            raise
        return False
    return True


@functools.cache
def course_namespace() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names each attendee gets up front: the notebooks' `EXPERIMENT_NAME` and `REGISTERED_MODEL` defaults."""
    parameters = [read_parameters(path) for path in notebook_paths()]
    experiments = tuple(sorted({p["EXPERIMENT_NAME"].default for p in parameters if "EXPERIMENT_NAME" in p}))
    models = tuple(sorted({p["REGISTERED_MODEL"].default for p in parameters if "REGISTERED_MODEL" in p}))
    return experiments, models


def _grant_owner(auth: AuthServiceClient, username: str, resource_type: str, resource_id: str) -> bool:
    """Give `username` MANAGE on the resource; False when the grant existed already."""
    try:
        auth.grant_user_permission(username, resource_type, resource_id, OWNER_PERMISSION)
    except RestException as error:
        if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
        return False
    return True


def reserve_namespace(tracking_uri: str, auth: AuthServiceClient, username: str) -> list[str]:
    """Create `username`'s course experiments and registered models (as the signed-in admin), MANAGE for them.

    Returns the names that someone else had created before `username` was given them (they get MANAGE too).
    """
    client = MlflowClient(tracking_uri)
    experiments, models = course_namespace()
    taken_first = []
    for name in experiments:
        full = experiment_name_for(name, username)
        existed = client.get_experiment_by_name(full) is not None
        experiment = get_or_create_experiment(client, full)
        if _grant_owner(auth, username, "experiment", experiment.experiment_id) and existed:
            taken_first.append(full)
    for name in models:
        full = registered_model_name(name, username)
        try:
            client.create_registered_model(full)
            existed = False
        except MlflowException as error:
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
            existed = True
        if _grant_owner(auth, username, "registered_model", full) and existed:
            taken_first.append(full)
    return taken_first


def create_attendees(
    tracking_uri: str,
    listed: Sequence[Listed],
    admin_password: str,
    *,
    known: Sequence[Attendee] = (),
    reset: Collection[str] = (),
) -> list[Attendee]:
    """Create this run's users on the server (as the admin) and reserve their namespaces (see the module's rules).

    `known` are the attendees the passwords file records, `reset` names (or usernames) whose password changes. A
    recorded attendee missing on the server (a new server) is created again with their recorded password.
    """
    resets = usernames_to_reset(reset, known)
    auth = get_app_client("basic-auth", tracking_uri=tracking_uri)
    with signed_in(ADMIN_USERNAME, admin_password):
        attendees = plan_attendees(listed, known, resets, on_server=lambda username: _has_user(auth, username))
        for attendee in attendees:
            if not _has_user(auth, attendee.username):
                auth.create_user(attendee.username, attendee.password)
            elif attendee.username in resets:
                auth.update_user_password(attendee.username, attendee.password)
            for name in reserve_namespace(tracking_uri, auth, attendee.username):
                print(f"{name!r} existed before {attendee.username!r} had it; {attendee.username!r} may now manage it")
    return attendees


def named_attendees(tracking_uri: str, names: Sequence[str], admin_password: str) -> list[dict[str, str]]:
    """A new user per name (a roster of one name per row), created as the admin; each one's MLFLOW_TRACKING_URI,
    USERNAME and PASSWORD: the simulated attendees of the tests and the benchmarks."""
    listed = [Listed(name, (name,)) for name in names]
    return [attendee.env(tracking_uri) for attendee in create_attendees(tracking_uri, listed, admin_password)]


def read_passwords(path: Path) -> list[Attendee]:
    """The attendees a passwords file records (none when it does not exist)."""
    return [
        Attendee(
            record["name"], record["username"], record["password"], tuple(json.loads(record.get("roster_row") or "[]"))
        )
        for record in _password_records(Path(path))
    ]


def _password_records(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_passwords(attendees: Sequence[Attendee], tracking_uri: str, path: Path) -> Path:
    """Merge `attendees` into the instructor's credentials file (name, username, password, URI, roster row), by
    username: the others' lines stay as they were. The file is replaced in one step and readable by its owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = {record["username"]: record for record in _password_records(path)}
    for a in attendees:
        row = json.dumps(list(a.row), ensure_ascii=False)
        records[a.username] = dict(
            zip(PASSWORD_COLUMNS, [a.name, a.username, a.password, tracking_uri, row], strict=True)
        )
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, PASSWORD_COLUMNS)
        writer.writeheader()
        writer.writerows(records.values())
    Path(temporary).replace(path)
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
    parser.add_argument(
        "--reset", action="append", default=[], metavar="NAME", help="give this attendee a new password (repeatable)"
    )
    args = parser.parse_args(argv)
    uri = args.uri or attendee_uri(args.host, args.port)
    admin_password = os.environ.get(ADMIN_PASSWORD_ENV)
    if not admin_password:
        print(f"{ADMIN_PASSWORD_ENV} is not set: the roster signs in as {ADMIN_USERNAME!r} with it.", file=sys.stderr)
        return 2
    try:
        known = read_passwords(args.out)
        attendees = create_attendees(uri, read_roster(args.roster), admin_password, known=known, reset=args.reset)
    except (OSError, ValueError, MlflowException) as error:
        print(f"Roster failed: {error}", file=sys.stderr)
        return 1
    path = write_passwords(attendees, uri, args.out)
    recorded = {a.username: a.password for a in known}
    new = sum(a.username not in recorded for a in attendees)
    renewed = sum(recorded.get(a.username, a.password) != a.password for a in attendees)
    print(
        f"{len(attendees)} attendees on {uri}: {new} new, {renewed} with a new password (--reset), "
        f"{len(attendees) - new - renewed} unchanged; usernames and passwords: {path} (mode 0600)"
    )
    print(attendee_instructions(uri))
    return 0


if __name__ == "__main__":
    sys.exit(main())
