"""`make progress` on the workshop server as it ships: ten attendees at different stages, some with failed runs, one
idle, one who has not started; the table is exact, an attendee's login is refused in one sentence, no password is
printed, and the page renders in Chromium."""

from __future__ import annotations

import time

import pytest
from mlflow.tracking import MlflowClient

from benchmarks.progress import progress_on
from course_tools import ui_browser
from course_tools.workshop import progress, roster
from course_tools.workshop.server import ADMIN_PASSWORD_ENV, ADMIN_USERNAME
from tutorial_utils.exercises import DONE, VERDICT_TAG
from tutorial_utils.tracking import experiment_name_for
from workshop_support import listed

MINUTE = 60_000  # ms
#: Per attendee: (lesson runs as (experiment, run name, status, minutes ago), exercise verdicts recorded).
STAGES = {
    "progress.01": ([], {}),
    "progress.02": ([("diamonds-price", "baseline-lasso", "FINISHED", 3)], {}),
    "progress.03": (
        [("diamonds-price", "baseline-lasso", "FINISHED", 9), ("diamonds-price", "baseline-catboost", "FINISHED", 8)],
        {"00.1": "done", "00.2": "done", "00.3": "not right yet. Give the three features."},
    ),
    "progress.04": ([("parent-child-runs", "lasso", "FAILED", 2)], {}),
    "progress.05": ([("diamonds-price", "lasso-alpha-grid", "RUNNING", 1)], {}),
    "progress.06": ([("diamonds-price", "catboost-optuna", "FINISHED", 40)], {"04.1": "done"}),
    "progress.07": ([("diamonds-price", "lasso-alpha-grid", "FAILED", 30)], {}),
    "progress.08": (
        [("diamonds-price", "lasso-alpha-grid", "FAILED", 6), ("diamonds-price", "lasso-alpha-grid", "FINISHED", 4)],
        {"02.1": "done"},
    ),
    "progress.09": ([("search-strategies", "summary", "KILLED", 5)], {}),
    "progress.10": ([("parallel-tuning", "parallel-study", "FINISHED", 1)], {"06.1": "done", "06.2": "done"}),
}


def _log(client: MlflowClient, username: str, runs, verdicts, now: float) -> None:
    """As the attendee: each top-level run, started and ended some minutes ago; each verdict as its tag."""
    for experiment_name, run_name, status, minutes_ago in runs:
        experiment = client.get_experiment_by_name(experiment_name_for(experiment_name, username))
        started = int(now * 1000) - minutes_ago * MINUTE
        run = client.create_run(experiment.experiment_id, start_time=started, run_name=run_name)
        if status != "RUNNING":
            client.set_terminated(run.info.run_id, status, end_time=started + 1000)
    for exercise, verdict in verdicts.items():
        notebook = progress.LESSONS[exercise[:2]]
        experiment = client.get_experiment_by_name(experiment_name_for(notebook.experiment, username))
        client.set_experiment_tag(experiment.experiment_id, VERDICT_TAG.format(exercise=exercise), verdict)


@pytest.fixture(scope="module")
def logged_at() -> float:
    """When the room's runs are logged: their ages count from then, not from the import of this module, which can
    come many minutes earlier in a shuffled session (`make progress` itself counts from the clock)."""
    return time.time()


@pytest.fixture(scope="module")
def room(workshop_server, logged_at):
    """The ten attendees, their runs logged as each of them; their roster entries by username."""
    attendees = roster.create_attendees(
        workshop_server.uri, listed(*(f"Progress {n:02d}" for n in range(1, 11))), workshop_server.admin_password
    )
    by_name = {a.username: a for a in attendees}
    assert sorted(by_name) == sorted(STAGES)
    for username, (runs, verdicts) in STAGES.items():
        with roster.signed_in(username, by_name[username].password):
            _log(MlflowClient(workshop_server.uri), username, runs, verdicts, logged_at)
    return by_name


def _rows(workshop_server, now: float) -> dict[str, progress.AttendeeProgress]:
    with roster.signed_in(ADMIN_USERNAME, workshop_server.admin_password):
        rows = progress.room_progress(MlflowClient(workshop_server.uri), now)
    return {r.username: r for r in rows if r.username in STAGES}


def test_the_table_is_exact(workshop_server, room, logged_at):
    rows = _rows(workshop_server, logged_at)
    states = {u: {n: s for n, s in r.notebooks.items() if s} for u, r in rows.items()}
    assert states == {
        "progress.01": {},
        "progress.02": {"00": "running"},  # one of the lesson's two runs so far
        "progress.03": {"00": DONE},
        "progress.04": {"01": "failed"},
        "progress.05": {"02": "running"},
        "progress.06": {"04": DONE},
        "progress.07": {"02": "failed"},
        "progress.08": {"02": DONE},  # the newest run of the name counts
        "progress.09": {"03": "failed"},  # KILLED: stopped before the end
        "progress.10": {"06": DONE},
    }
    assert {u: r.exercises_done for u, r in rows.items() if r.exercises_done} == {
        "progress.03": 2,
        "progress.06": 1,
        "progress.08": 1,
        "progress.10": 2,
    }
    assert {u: r.flags for u, r in rows.items() if r.flags} == {
        "progress.01": ("no run yet",),
        "progress.04": ("1 failed in the last 10 min",),
        "progress.06": ("no activity for 39 min",),
        "progress.07": ("no activity for 29 min",),  # failed, but half an hour ago
        "progress.08": ("1 failed in the last 10 min",),
    }
    assert rows["progress.02"].last_run == pytest.approx(logged_at - 3 * 60 + 1, abs=0.01)
    assert rows["progress.05"].last_run == pytest.approx(logged_at - 60, abs=0.01)  # still running: its start


def test_the_command_prints_the_table_and_writes_the_page_without_a_password(
    workshop_server, room, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, workshop_server.admin_password)
    page = tmp_path / "progress.html"
    assert progress.main(["--uri", workshop_server.uri, "--html", str(page)]) == 0
    printed = capsys.readouterr().out
    lines = {line.split()[0]: line for line in printed.splitlines() if line.startswith("progress.")}
    assert lines["progress.03"].split()[1:2] == ["done"] and "FAILED" in lines["progress.04"]
    secrets = [workshop_server.admin_password, *(a.password for a in room.values())]
    for text in (printed, page.read_text()):
        assert not [s for s in secrets if s in text]
    with ui_browser.chromium_page() as browser:
        browser.goto(page.as_uri())
        cells = browser.locator("tr", has_text="progress.04").locator("td").all_inner_texts()
        assert cells[0] == "progress.04" and cells[2] == "FAILED" and "failed in the last 10 min" in cells[-1]
        assert browser.locator("tbody tr").count() >= len(STAGES)


def test_an_attendees_own_login_is_refused_in_one_sentence(workshop_server, room, capsys, monkeypatch):
    monkeypatch.delenv(ADMIN_PASSWORD_ENV, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "progress.02")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", room["progress.02"].password)
    assert progress.main(["--uri", workshop_server.uri]) == 1
    message = capsys.readouterr().err.strip()
    assert message.startswith(f"Progress failed: The server at {workshop_server.uri} refuses 'progress.02'")
    assert "HTTP 403" in message and ADMIN_PASSWORD_ENV in message and "\n" not in message


def test_the_benchmark_reads_a_room_of_whole_courses(workshop_server):
    """`python -m benchmarks progress` at the size of a test: three attendees with every lesson and verdict."""
    results = progress_on(workshop_server.uri, workshop_server.admin_password, 3, refreshes=1)
    assert results["queries_per_refresh"] == 4 and results["runs_per_attendee"] == 11 + 50
    assert results["rows_complete"] == 3 and results["exercises_done"] == [24]
    assert len(results["refresh_s"]["all"]) == 1
