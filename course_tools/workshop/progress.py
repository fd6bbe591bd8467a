"""`make progress`: the instructor's view of the room, read from the workshop server as its admin.

Usage: python -m course_tools.workshop.progress [--host 127.0.0.1] [--port 5000] [--uri URI] [--watch] [--html FILE]

One row per attendee (the "<username>/" of their experiments): per notebook, its lesson done, running or failed
(from the newest top-level runs of the lesson's names, `tutorial_utils.exercises.LESSONS`); the exercises done (the
verdicts the check cells recorded on the attendee's experiments); the time of the last run; and a flag on anyone
with a failed run in the last 10 minutes, or no activity for 15. It costs the server one search of experiments per
refresh and one search of runs per attendee. `--watch` prints the table again every 30 s below the last one (the
terminal's scrollback stays), and `--html` writes the same view as a page for the projector. No password is shown.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mlflow.entities import Experiment, Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from course_tools.workshop.roster import get_app_client, signed_in
from course_tools.workshop.server import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USERNAME,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    attendee_uri,
)
from tutorial_utils.exercises import DONE, LESSONS, VERDICT_TAG, lesson_state
from tutorial_utils.tracking import PASSWORD_ENV, USERNAME_ENV, quiet_mlflow

FAILED_WITHIN_S = 10 * 60
IDLE_AFTER_S = 15 * 60
WATCH_SECONDS = 30
#: Attendees read at once: the server answers several searches in parallel (4 workers).
PARALLEL_READS = 8
VERDICT_PREFIX = VERDICT_TAG.format(exercise="")
MARKS = {DONE: "done", "running": "running", "failed": "FAILED", None: "-"}


class ProgressRefused(PermissionError):
    """The server did not let the signed-in user read the room: only the workshop's admin may."""


@dataclass(frozen=True)
class AttendeeProgress:
    """One attendee's row: each notebook's state (DONE, "running", "failed" or None), exercises done, the last run
    (seconds since the epoch, None before any), and the flags an instructor should look at."""

    username: str
    notebooks: dict[str, str | None]
    exercises_done: int
    last_run: float | None
    flags: tuple[str, ...]


def _notebook_state(runs: list[Run], experiment_id: str | None, names: tuple[str, ...]) -> str | None:
    """`lesson_state` of the newest run of each name in the experiment (`runs` newest first)."""
    newest: dict[str, str | None] = dict.fromkeys(names)
    for run in reversed(runs):
        if run.info.experiment_id == experiment_id and run.info.run_name in newest:
            newest[run.info.run_name] = run.info.status
    return lesson_state(newest)


def attendee_progress(username: str, experiments: list[Experiment], runs: list[Run], now: float) -> AttendeeProgress:
    """An attendee's row from their experiments and their top-level runs, newest first."""
    ids_by_name = {e.name.removeprefix(f"{username}/"): e.experiment_id for e in experiments}
    notebooks = {
        number: _notebook_state(runs, ids_by_name.get(lesson.experiment), lesson.runs)
        for number, lesson in LESSONS.items()
    }
    done = sum(v == DONE for e in experiments for k, v in e.tags.items() if k.startswith(VERDICT_PREFIX))
    moments = [(r.info.end_time or r.info.start_time) / 1000 for r in runs]
    last = max(moments, default=None)
    failed = [r for r in runs if r.info.status == "FAILED" and (r.info.end_time or 0) / 1000 >= now - FAILED_WITHIN_S]
    flags = []
    if failed:
        flags.append(f"{len(failed)} failed in the last {FAILED_WITHIN_S // 60} min")
    if last is None:
        flags.append("no run yet")
    elif now - last > IDLE_AFTER_S and not any(r.info.status == "RUNNING" for r in runs):
        flags.append(f"no activity for {int(now - last) // 60} min")
    return AttendeeProgress(username, notebooks, done, last, tuple(flags))


def room_progress(client: MlflowClient, now: float | None = None) -> list[AttendeeProgress]:
    """Every attendee's row, by username: one search of experiments, then one search of runs per attendee."""
    now = time.time() if now is None else now
    experiments = _all_experiments(client)
    by_user: dict[str, list[Experiment]] = {}
    for experiment in experiments:
        username, slash, _ = experiment.name.partition("/")
        if slash and username != ADMIN_USERNAME:
            by_user.setdefault(username, []).append(experiment)

    def row(username: str) -> AttendeeProgress:
        ids = [e.experiment_id for e in by_user[username]]
        runs = client.search_runs(
            ids, "tags.mlflow.parentRunId IS NULL", order_by=["attributes.start_time DESC"], max_results=1000
        )
        return attendee_progress(username, by_user[username], list(runs), now)

    with ThreadPoolExecutor(PARALLEL_READS) as pool:
        return list(pool.map(row, sorted(by_user)))


def _all_experiments(client: MlflowClient) -> list[Experiment]:
    found, token = [], None
    while True:
        page = client.search_experiments(max_results=1000, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def check_admin(uri: str) -> None:
    """Raise `ProgressRefused` unless the signed-in user may read the other users, which only the admin may."""
    username = os.environ.get(USERNAME_ENV, "")
    try:
        get_app_client("basic-auth", tracking_uri=uri).get_user(ADMIN_USERNAME)
    except MlflowException as error:  # MLflow's auth client raises a plain MlflowException for a 403
        if "403" not in str(error):
            raise
        raise ProgressRefused(
            f"The server at {uri} refuses {username!r} a look at the other users (HTTP 403, permission denied): the "
            f"room's progress is for the workshop's admin, so run it in the instructor's shell with "
            f"{ADMIN_PASSWORD_ENV} set."
        ) from None


def _clock(seconds: float | None) -> str:
    return "-" if seconds is None else time.strftime("%H:%M", time.localtime(seconds))


def progress_table(rows: Sequence[AttendeeProgress]) -> str:
    """The room as a fixed-width text table, one line per attendee."""
    lines = [["attendee", *LESSONS, "exercises", "last run", "flags"]]
    for r in rows:
        marks = [MARKS[r.notebooks[n]] for n in LESSONS]
        lines.append([r.username, *marks, str(r.exercises_done), _clock(r.last_run), "; ".join(r.flags)])
    widths = [max(len(cells[i]) for cells in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() for cells in lines)


HTML_COLOURS = {"done": "#c8e6c9", "running": "#fff3c4", "FAILED": "#ffcdd2", "-": "#ffffff"}


def progress_html(rows: Sequence[AttendeeProgress], refreshed: float, refresh_seconds: int | None = None) -> str:
    """The same view as a small page for the projector: a coloured cell per notebook, flags in red."""
    refresh = f'<meta http-equiv="refresh" content="{refresh_seconds}">' if refresh_seconds else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["attendee", *LESSONS, "exercises", "last run", "flags"])
    body = []
    for r in rows:
        marks = [MARKS[r.notebooks[n]] for n in LESSONS]
        cells = [f"<td>{html.escape(r.username)}</td>"]
        cells += [f'<td style="background:{HTML_COLOURS[m]}">{m}</td>' for m in marks]
        cells += [f"<td>{r.exercises_done}</td>", f"<td>{_clock(r.last_run)}</td>"]
        cells.append(f'<td class="flag">{html.escape("; ".join(r.flags))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<!doctype html><html><head><meta charset="utf-8">{refresh}<title>Workshop progress</title><style>'
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:1.3em}"
        "th,td{border:1px solid #999;padding:.3em .7em;text-align:center}td:first-child{text-align:left}"
        ".flag{color:#b71c1c;font-weight:bold;text-align:left}</style></head><body>"
        f"<h1>Workshop progress</h1><p>{len(rows)} attendees, refreshed at {_clock(refreshed)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_tools.workshop.progress", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="the interface the server listens on (as in make server)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--uri", help="the server's address (default: from --host and --port)")
    parser.add_argument("--watch", action="store_true", help=f"refresh every {WATCH_SECONDS} s until Ctrl-C")
    parser.add_argument("--html", type=Path, default=DEFAULT_DATA_DIR / "progress.html", help="the page to write")
    args = parser.parse_args(argv)
    uri = args.uri or attendee_uri(args.host, args.port)
    quiet_mlflow()
    admin_password = os.environ.get(ADMIN_PASSWORD_ENV)
    login = (
        (ADMIN_USERNAME, admin_password)
        if admin_password
        else (os.environ.get(USERNAME_ENV), os.environ.get(PASSWORD_ENV))
    )
    if not all(login):
        print(
            f"{ADMIN_PASSWORD_ENV} is not set: make progress signs in as {ADMIN_USERNAME!r} with it.", file=sys.stderr
        )
        return 2
    try:
        with signed_in(*login):
            check_admin(uri)
            while True:
                now = time.time()
                rows = room_progress(MlflowClient(uri), now)
                print(f"\n{len(rows)} attendees on {uri}, at {_clock(now)}\n{progress_table(rows)}", flush=True)
                args.html.parent.mkdir(parents=True, exist_ok=True)
                args.html.write_text(progress_html(rows, now, WATCH_SECONDS if args.watch else None))
                if not args.watch:
                    return 0
                time.sleep(WATCH_SECONDS)
    except (ProgressRefused, MlflowException) as error:
        print(f"Progress failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
