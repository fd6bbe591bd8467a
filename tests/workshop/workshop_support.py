"""Test support for the workshop tests: simulated attendees on a workshop server."""

from __future__ import annotations

from course_tools.workshop.roster import create_attendees


def simulated_attendees(tracking_uri: str, count: int, admin_password: str) -> list[dict[str, str]]:
    """`count` users attendee-01 ... on the server; the environment (URI, username, password) of each."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    names = [f"attendee {n:02d}" for n in range(1, count + 1)]
    return [a.env(tracking_uri) for a in create_attendees(tracking_uri, names, admin_password)]
