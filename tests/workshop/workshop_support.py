"""Test support for the workshop tests: simulated attendees on a workshop server, folders PostgreSQL can reach."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from course_tools.workshop.roster import Listed, create_attendees


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
    names = [f"attendee {n:02d}" for n in range(1, count + 1)]
    return [a.env(tracking_uri) for a in create_attendees(tracking_uri, listed(*names), admin_password)]


def listed(*names: str) -> list[Listed]:
    """A roster of one name per row, as `roster.read_roster` reads it."""
    return [Listed(name, (name,)) for name in names]
