"""A room at once: 10 simulated attendees execute notebook 02 concurrently against the workshop server.

Every attendee's runs must arrive in their own namespaced experiment, none in experiment 0, none lost, with the
parent/child links intact and no run left RUNNING.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

from course_tools.notebooks import read_parameters, small_budget
from tutorial_utils.paths import NOTEBOOKS_DIR

ATTENDEES = 10
GRID_NOTEBOOK = NOTEBOOKS_DIR / "02_lasso_grid_child_runs.ipynb"
#: One attendee's notebook execution, in a process of its own (its own login in its environment), its kernel on
#: Unix sockets: on TCP, two of the ten kernels can pick the same free port, and one of them dies (a CI run failed so).
EXECUTE = (
    "import json, sys; from pathlib import Path; from course_tools.notebooks import execute_notebook; "
    "execute_notebook(Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]), progress_bar=False, "
    "unix_sockets=True)"
)


def test_ten_attendees_run_the_grid_notebook_at_once(workshop_server, tmp_path, monkeypatch):
    attendees = workshop_server.attendees(ATTENDEES)
    budget = small_budget(GRID_NOTEBOOK)
    start = time.monotonic()
    processes = []
    for number, login in enumerate(attendees):
        output = tmp_path / f"attendee-{number:02d}.ipynb"
        command = [sys.executable, "-c", EXECUTE, str(GRID_NOTEBOOK), str(output), json.dumps(budget)]
        log = (tmp_path / f"attendee-{number:02d}.log").open("w")
        processes.append((subprocess.Popen(command, env={**os.environ, **login}, stdout=log, stderr=log), log))
    for process, log in processes:
        process.wait(timeout=900)
        log.close()
    seconds = time.monotonic() - start
    failed = [n for n, (process, _) in enumerate(processes) if process.returncode != 0]
    assert not failed, (tmp_path / f"attendee-{failed[0]:02d}.log").read_text()[-3000:]

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", workshop_server.admin_password)
    admin = MlflowClient(workshop_server.uri)
    name = read_parameters(GRID_NOTEBOOK)["EXPERIMENT_NAME"].default
    assert admin.search_runs(["0"]) == []  # nothing fell into the Default experiment
    counts = {}
    for login in attendees:
        experiment = admin.get_experiment_by_name(f"{login['MLFLOW_TRACKING_USERNAME']}/{name}")
        runs = admin.search_runs([experiment.experiment_id])
        parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        # the hand-written grid, then section 9's autolog grid and the run that mixes the two (its stray run deleted)
        by_name = {p.info.run_name: p for p in parents}
        assert sorted(by_name) == ["lasso-alpha-grid", "lasso-alpha-grid-autolog", "lasso-alpha-grid-mixed"]
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == by_name["lasso-alpha-grid"].info.run_id]
        assert len(children) == len(budget["ALPHAS"])
        assert len(runs) == 2 * (1 + len(children)) + 2
        assert {r.info.status for r in runs} == {"FINISHED"}
        counts[experiment.name] = len(runs)
    print(f"\n{ATTENDEES} attendees, {sum(counts.values())} runs in {len(counts)} experiments, {seconds:.0f} s")
    assert Path(tmp_path / "attendee-00.ipynb").is_file()
