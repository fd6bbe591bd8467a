"""The workshop roster without a server: reading rows, usernames unique against the file and the server, the
passwords file merged and private."""

from __future__ import annotations

import pytest

from course_tools.workshop import roster
from course_tools.workshop.roster import Attendee, Listed


def _listed(*rows: tuple[str, ...]) -> list[Listed]:
    return [Listed(row[0], row) for row in rows]


def test_read_roster_takes_the_name_column_or_the_first_and_keeps_each_row(tmp_path):
    with_header = tmp_path / "a.csv"
    with_header.write_text("email,Name\nx@y,Ana Lima\n\n,  \nz@y,Bo\n")
    assert roster.read_roster(with_header) == [Listed("Ana Lima", ("x@y", "Ana Lima")), Listed("Bo", ("z@y", "Bo"))]
    plain = tmp_path / "b.csv"
    plain.write_text("Ana Lima\nBo\n")
    assert [entry.name for entry in roster.read_roster(plain)] == ["Ana Lima", "Bo"]


def test_an_empty_roster_is_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("name\n\n")
    with pytest.raises(ValueError, match="lists no attendees"):
        roster.read_roster(empty)


def test_usernames_are_plain_unique_and_never_admin():
    assert roster.username_for("Zoë  O'Brien") == "zoe.o.brien"
    attendees = roster.plan_attendees(_listed(("Ana Lima",), ("ana lima",), ("Admin",)))
    assert [a.username for a in attendees] == ["ana.lima", "ana.lima.2", "admin.2"]
    assert len({a.password for a in attendees}) == 3 and all(len(a.password) >= 16 for a in attendees)
    with pytest.raises(ValueError, match="no letters or digits"):
        roster.username_for("-- !")


def test_a_rerun_with_the_same_rows_keeps_every_account_and_password():
    rows = _listed(("Ana Lima", "ana@x"), ("Bo", "bo@x"), ("Bo", "bo@x"))
    first = roster.plan_attendees(rows)
    assert [a.username for a in first] == ["ana.lima", "bo", "bo.2"]
    assert roster.plan_attendees(rows, known=first, on_server={"ana.lima", "bo", "bo.2"}.__contains__) == first
    late = roster.plan_attendees(_listed(("Cy", "cy@x"), ("Bo", "bo@x")), known=first)
    assert [a.username for a in late] == ["cy", "bo"] and late[1] == first[1]


def test_a_namesake_is_a_new_account_with_a_username_free_on_the_server():
    known = roster.plan_attendees(_listed(("Ana Lima", "ana@x")))
    later = roster.plan_attendees(_listed(("Ana Lima", "other@x")), known=known)
    assert [a.username for a in later] == ["ana.lima.2"]
    on_server = {"ana.lima", "ana.lima.2"}.__contains__  # e.g. made by a run whose passwords file is elsewhere
    assert [a.username for a in roster.plan_attendees(_listed(("Ana Lima",)), on_server=on_server)] == ["ana.lima.3"]


def test_reset_gives_only_the_named_attendee_a_new_password():
    known = roster.plan_attendees(_listed(("Ana Lima", "a@x"), ("Ana Lima", "b@x"), ("Bo",)))
    assert roster.usernames_to_reset(["Bo", "ana.lima.2"], known) == {"bo", "ana.lima.2"}
    planned = roster.plan_attendees(_listed(("Bo",)), known=known, reset={"ana.lima.2"})
    assert [a.username for a in planned] == ["bo", "ana.lima.2"]
    assert planned[0] == known[2] and planned[1].password != known[1].password
    with pytest.raises(ValueError, match=r"is shared by ana\.lima, ana\.lima\.2: reset one by username"):
        roster.usernames_to_reset(["Ana Lima"], known)
    with pytest.raises(ValueError, match="'Cy': that name is not in it"):
        roster.usernames_to_reset(["Cy"], known)


def test_the_passwords_file_is_merged_private_and_read_back(tmp_path):
    path = tmp_path / "secret" / "passwords.csv"
    ana = Attendee("Ana Lima", "ana.lima", "pw-1", ("Ana Lima", "ana@x, home"))
    roster.write_passwords([ana], "http://h:5000", path)
    bo = Attendee("Bo", "bo", "pw-2", ("Bo",))
    roster.write_passwords([bo, ana], "http://other:5000", path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert roster.read_passwords(path) == [ana, bo]
    assert path.read_text().splitlines()[0] == "name,username,password,tracking_uri,roster_row"
    assert path.read_text().count("http://other:5000") == 2
    assert [p.name for p in path.parent.iterdir()] == ["passwords.csv"]  # no temporary file left beside it
    assert roster.read_passwords(tmp_path / "none.csv") == []


def test_an_existing_passwords_file_with_wider_permissions_becomes_private(tmp_path):
    path = tmp_path / "passwords.csv"
    roster.write_passwords([Attendee("Ana", "ana", "pw-1", ("Ana",))], "http://h:5000", path)
    path.chmod(0o644)
    roster.write_passwords([Attendee("Bo", "bo", "pw-2", ("Bo",))], "http://h:5000", path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [a.username for a in roster.read_passwords(path)] == ["ana", "bo"]


def test_every_attendee_gets_the_notebooks_experiments_and_registered_model():
    experiments, models = roster.course_namespace()
    assert {"diamonds-price", "parent-child-runs", "search-strategies", "parallel-tuning"} <= set(experiments)
    assert models == ("diamonds-price",)


def test_attendee_env_names_the_three_variables():
    assert Attendee("Ana", "ana", "pw-123").env("http://h:5000") == {
        "MLFLOW_TRACKING_URI": "http://h:5000",
        "MLFLOW_TRACKING_USERNAME": "ana",
        "MLFLOW_TRACKING_PASSWORD": "pw-123",
    }
