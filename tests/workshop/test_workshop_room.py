"""A room of 10 on the session's workshop server: the load benchmark's code (`benchmarks.room`), asserted clean."""

from __future__ import annotations

from benchmarks.room import RUNS_PER_ATTENDEE, fill_room


def test_a_room_of_ten_loses_misplaces_and_leaves_running_nothing(workshop_server):
    room = fill_room(workshop_server.uri, workshop_server.attendees(10), workshop_server.admin_password)
    assert room["errors"] == {}, room["error_examples"]
    assert room["runs_found"] == room["runs_expected"] == 10 * RUNS_PER_ATTENDEE
    assert (room["lost"], room["duplicates"], room["misplaced"], room["running"]) == (0, 0, 0, 0)
    assert all(a["found"] == a["expected"] for a in room["per_attendee"]) and len(room["per_attendee"]) == 10
    assert room["child_runs"] == 10 * (RUNS_PER_ATTENDEE - 2)  # two of each attendee's runs are parents
    assert 0 < room["child_ms"]["p50"] <= room["child_ms"]["p95"] <= room["child_ms"]["max"]
    assert room["start_spread_s"] < 1  # all started within the same second
