"""The workshop server of a test session, configured as `make server` runs it (PostgreSQL in a temp folder, basic
auth, served artifacts, the CLI's default number of workers), and its simulated attendees (`workshop_support`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_tools.workshop.network import free_port
from course_tools.workshop.server import ADMIN_PASSWORD_ENV, SECRET_KEY_ENV, WORKERS, running_workshop
from workshop_support import postgres_reachable_dir, simulated_attendees


@dataclass(frozen=True)
class SharedServer:
    """The workshop server of a test session: its URI, the admin password, the server log, the Optuna URL's file,
    its number of worker processes."""

    uri: str
    admin_password: str
    log_path: Path
    optuna_storage: Path | None
    workers: int

    def attendees(self, count: int) -> list[dict[str, str]]:
        """`count` new-password users attendee.01 ...; each one's MLFLOW_TRACKING_URI/USERNAME/PASSWORD."""
        return simulated_attendees(self.uri, count, self.admin_password)


@pytest.fixture(scope="session")
def workshop_server() -> Iterator[SharedServer]:
    """The workshop server as `make server` runs it (PostgreSQL in a temp folder, basic auth, served artifacts, and
    `--workers`' default, 4: each worker has its own 60-second password cache), started once."""
    admin_password = secrets.token_urlsafe(18)
    env = dict(os.environ, **{ADMIN_PASSWORD_ENV: admin_password, SECRET_KEY_ENV: secrets.token_urlsafe(24)})
    with (
        postgres_reachable_dir("course-workshop-") as root,
        running_workshop(root, port=free_port(), workers=WORKERS, env=env) as workshop,
    ):
        server = workshop.server
        yield SharedServer(server.uri, admin_password, server.log_path, workshop.optuna_storage, WORKERS)
