"""Issue 18: what `make progress` costs on the workshop server as it ships (PostgreSQL, 4 workers, basic auth): a
room of attendees, each with a whole course's runs in their experiments (every lesson's top-level runs, a study's
children, every exercise's verdict), read again and again as the instructor's refresh does."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from benchmarks.room import fresh_workshop, room_attendees
from course_tools.workshop.progress import PARALLEL_READS, room_progress
from course_tools.workshop.roster import signed_in
from course_tools.workshop.server import ADMIN_USERNAME
from tutorial_utils.exercises import LESSONS, VERDICT_TAG
from tutorial_utils.tracking import experiment_name_for

ATTENDEES = 50
CHILDREN = 50  # a study's trials, under notebook 04's parent
EXERCISES = [f"{notebook}.{k}" for notebook in LESSONS for k in (1, 2, 3)]
REFRESHES = 5
GOAL_SECONDS = 2.0


def _fill(client: MlflowClient, username: str) -> int:
    """One attendee's course, logged by the admin: each lesson's runs FINISHED, 04's parent with its children, every
    exercise's verdict. Returns the runs created."""
    created = 0
    for number, lesson in LESSONS.items():
        experiment = client.get_experiment_by_name(experiment_name_for(lesson.experiment, username))
        for name in lesson.runs:
            run = client.create_run(experiment.experiment_id, run_name=name)
            children = CHILDREN if number == "04" else 0
            for trial in range(children):
                tags = {"mlflow.parentRunId": run.info.run_id}
                child = client.create_run(experiment.experiment_id, run_name=f"trial-{trial:02d}", tags=tags)
                client.set_terminated(child.info.run_id)
            client.set_terminated(run.info.run_id)
            created += 1 + children
        for exercise in (e for e in EXERCISES if e.startswith(number)):
            client.set_experiment_tag(experiment.experiment_id, VERDICT_TAG.format(exercise=exercise), "done")
    return created


def progress_on(uri: str, admin_password: str, count: int, refreshes: int = REFRESHES) -> dict[str, Any]:
    """`count` new attendees on the server at `uri`, each with a course's runs; then `refreshes` reads of the room,
    timed."""
    usernames = [env["MLFLOW_TRACKING_USERNAME"] for env in room_attendees(uri, count, admin_password)]
    with signed_in(ADMIN_USERNAME, admin_password):
        client = MlflowClient(uri)
        with ThreadPoolExecutor(PARALLEL_READS) as pool:
            runs = list(pool.map(lambda username: _fill(client, username), usernames))
        seconds, rows = [], []
        for _ in range(refreshes):
            start = time.perf_counter()
            rows = room_progress(client)
            seconds.append(time.perf_counter() - start)
    mine = [row for row in rows if row.username in usernames]
    return {
        "attendees": count,
        "runs_per_attendee": runs[0],
        "queries_per_refresh": 1 + count,
        "parallel_reads": PARALLEL_READS,
        "refresh_s": {"median": statistics.median(seconds), "max": max(seconds), "all": seconds},
        "rows_complete": sum(all(state == "done" for state in row.notebooks.values()) for row in mine),
        "exercises_done": sorted({row.exercises_done for row in mine}),
        "goal_s": GOAL_SECONDS,
    }


def measure_progress(data_dir: Path, count: int = ATTENDEES, refreshes: int = REFRESHES) -> dict[str, Any]:
    """`progress_on` a fresh workshop server as `make server` runs it, in `data_dir`."""
    with fresh_workshop(data_dir) as (workshop, admin_password):
        return {"backend": "postgres", **progress_on(workshop.server.uri, admin_password, count, refreshes)}
