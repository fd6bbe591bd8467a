"""The workshop server of a test session (PostgreSQL in a temp folder, basic auth, served artifacts), and its
simulated attendees (`workshop_support`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_tools.workshop.network import free_port
from course_tools.workshop.server import ADMIN_PASSWORD_ENV, SECRET_KEY_ENV, running_workshop
from workshop_support import postgres_reachable_dir, simulated_attendees


@dataclass(frozen=True)
class SharedServer:
    """The workshop server of a test session: its URI, the admin password, the server log, the Optuna URL's file."""

    uri: str
    admin_password: str
    log_path: Path
    optuna_storage: Path | None

    def attendees(self, count: int) -> list[dict[str, str]]:
        """`count` new-password users attendee.01 ...; each one's MLFLOW_TRACKING_URI/USERNAME/PASSWORD."""
        return simulated_attendees(self.uri, count, self.admin_password)


@pytest.fixture(scope="session")
def workshop_server() -> Iterator[SharedServer]:
    """The workshop server (PostgreSQL in a temp folder, basic auth, served artifacts, one worker), started once."""
    admin_password = secrets.token_urlsafe(18)
    env = dict(os.environ, **{ADMIN_PASSWORD_ENV: admin_password, SECRET_KEY_ENV: secrets.token_urlsafe(24)})
    with (
        postgres_reachable_dir("course-workshop-") as root,
        running_workshop(root, port=free_port(), workers=1, env=env) as workshop,
    ):
        yield SharedServer(workshop.server.uri, admin_password, workshop.server.log_path, workshop.optuna_storage)
