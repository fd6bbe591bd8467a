"""Test support for the workshop tests: simulated attendees on a workshop server, folders PostgreSQL can reach."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from course_tools.paths import environment
from course_tools.workshop.roster import Attendee, Listed, named_attendees


@contextmanager
def postgres_reachable_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder the `postgres` user can reach (PostgreSQL runs as that user under root), then removed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def simulated_attendees(tracking_uri: str, count: int, admin_password: str) -> list[dict[str, str]]:
    """`count` new users attendee.01 ... (attendee.01.2 ... when those exist); each one's URI, username, password."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    return named_attendees(tracking_uri, [f"attendee {n:02d}" for n in range(1, count + 1)], admin_password)


def listed(*names: str) -> list[Listed]:
    """A roster of one name per row, as `roster.read_roster` reads it."""
    return [Listed(name, (name,)) for name in names]


def signed_in_as(attendee: Attendee, tracking_uri: str) -> AbstractContextManager[None]:
    """MLflow clients in this process (MlflowClient, the fluent API) act as `attendee` on `tracking_uri` inside the
    block: they read the MLFLOW_TRACKING_* variables at each request."""
    return environment(**attendee.env(tracking_uri))
