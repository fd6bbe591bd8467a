"""Render `docs/benchmarks.md` from the JSON results: tables of medians and ratios, each with its provenance."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from benchmarks.results import read_results
from benchmarks.stats import median
from benchmarks.yardstick import Yardstick
from course_tools.paths import DOCS_DIR

DOC_PATH = DOCS_DIR / "benchmarks.md"
TIMINGS_DOC = DOCS_DIR / "timings.md"
MISSING = "_Not measured yet: run `make bench`._"
#: The issue's goals for the whole course, in seconds: every notebook from a cold kernel, one after the other.
WALL_TIME_GOALS = {"full": 360, "small": 90}
TOTAL_ROW = re.compile(r"^\| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$", re.MULTILINE)
OVERHEAD_GOAL = 0.01
#: The issue's bound for the course's objective on the workshop server, beyond which round trips are to be cut.
SERVER_OVERHEAD_GOAL = 0.02
VARIANTS_LEGEND = (
    "Variants: `none` no tracking; `course` the notebook's objective (a child run per trial, `log_params` + "
    "`log_metrics`, and from 2026-12-02 its two datasets, as notebook 04 logs them); `mlflow_callback` "
    "`optuna_integration.MLflowCallback` with `nested=True`, the peer (deprecated since optuna-integration 4.9, to "
    "go in 6.0: it still works, with a warning); `naive` one `log_param` call per value; `async` the course's "
    "objective with MLflow's async logging. Logging ms per trial: objective + callback time minus the fit, beyond "
    "what `none` spends there."
)
SERVER_LEGEND = (
    "Variants: `none` no tracking; `course` notebook 04's objective on the embedded store (a child run per trial: "
    "its two datasets with `log_input`, `log_params`, `log_metrics` linked to the validation dataset: seven requests "
    "on a server); `server` the same objective on the workshop server as `make server` runs it (PostgreSQL, "
    "{workers} workers, basic auth), signed in as an attendee; `server_batched` the same run in four requests (the "
    "run; both datasets in one `mlflow.log_inputs`; params and metric in one `MlflowClient.log_batch` after the fit; "
    "its end). Server and client share the machine's 2 cores. The server's workers run with Nagle's algorithm off "
    "(`course_tools/workshop/server_site`): without that, every request after a connection's first waited about "
    "40 ms for the client's delayed ACK (`tests/workshop/test_workshop_keepalive.py` measures it)."
)


def provenance(document: dict[str, Any]) -> str:
    """The line under each table: command, date, machine and the library versions it does not already name."""
    machine = document["machine"]
    versions = [f"{name} {v}" for name, v in document["versions"].items() if f"{name} {v}" not in machine]
    quick = " (quick smoke subset: not for publication)" if document["quick"] else ""
    return (
        f"Measured with `{document['command']}` on {document['date']}{quick}. "
        f"Machine: {machine}{''.join(f', {v}' for v in versions)}."
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def overhead_section(results: dict[str, Any]) -> str:
    rows = [
        [
            f"`{name}`",
            f"{v['median_wall_s']:.1f}",
            f"{v['ratio_to_none']:.3f}",
            f"{v['logging_ms_per_trial']:.1f}",
            f"{100 * v['logging_share']:.2f}%",
        ]
        for name, v in results["variants"].items()
    ]
    return "\n\n".join(
        [
            VARIANTS_LEGEND,
            f"Notebook 04's study: {results['n_trials']} trials of {results['tuning_iterations']} trees, seed "
            f"{results['seed']}; medians of {results['variants']['none']['repeats']} interleaved repeats.",
            table(["variant", "study wall (s)", "ratio to none", "logging ms / trial", "logging share"], rows),
            *([_goal(results["variants"]["course"]["logging_share"])] if "course" in results["variants"] else []),
            fit_noise(results),
        ]
    )


def overhead_server_section(results: dict[str, Any]) -> str:
    variants = results["variants"]
    rows = [
        [
            f"`{name}`",
            f"{v['median_wall_s']:.1f}",
            f"{v['logging_ms_per_trial']:.1f} ({_range(v['logging_ms_range'], '.1f')})",
            f"{100 * v['logging_share']:.2f}% ({_range([100 * x for x in v['logging_share_range']], '.2f')}%)",
        ]
        for name, v in variants.items()
    ]
    share = {name: v["logging_share"] for name, v in variants.items()}
    over = {name: "under" if value < SERVER_OVERHEAD_GOAL else "over" for name, value in share.items()}
    server, batched = (variants[name]["logging_ms_per_trial"] for name in ("server", "server_batched"))
    embedded_goal = "met" if share["course"] < OVERHEAD_GOAL else "not met"
    return "\n\n".join(
        [
            SERVER_LEGEND.format(workers=results["workers"]),
            f"Notebook 04's study: {results['n_trials']} trials of {results['tuning_iterations']} trees, seed "
            f"{results['seed']}; medians of {variants['none']['repeats']} interleaved repeats, each with the lowest "
            "and highest repeat in brackets. The attendee's experiment on the server held "
            f"{results['server_runs']} runs afterwards: a parent per study and a child per trial.",
            table(["variant", "study wall (s)", "logging ms / trial (range)", "logging share (range)"], rows),
            f"The course's objective on the server: {share['server']:.2%} of the study's wall time, {over['server']} "
            f"the {SERVER_OVERHEAD_GOAL:.0%} bound; on the embedded store {share['course']:.2%} (section 1's goal, "
            f"under {OVERHEAD_GOAL:.0%}: {embedded_goal}). Batching the requests on the server saves "
            f"{server - batched:.0f} ms per trial, to {share['server_batched']:.2%}: {over['server_batched']} the "
            "bound. Notebook 04 keeps its fluent calls all the same (`log_input`, `log_params` before the fit, "
            "`log_metrics` after it): they are what the lesson teaches, and a trial that fails in its fit keeps its "
            f"params, which the batch after the fit would lose; the price is {server - batched:.0f} ms per trial "
            f"on the server, {(server - batched) * results['n_trials'] / 1000:.0f} s of a "
            f"{results['n_trials']}-trial study.",
        ]
    )


def _range(bounds: list[float], spec: str) -> str:
    return f"{bounds[0]:{spec}} to {bounds[1]:{spec}}"


def fit_noise(results: dict[str, Any]) -> str:
    """Why whole-study ratios stray from 1 + the logging share: the spread of the fit time itself, from the samples.

    A sample's fit time is its wall time less its time beside the fit; every variant fits the same trees.
    """
    n_trials = results["n_trials"]
    fits = [
        s["wall_s"] - s["beside_fit_ms_per_trial"] * n_trials / 1000
        for runs in results["samples"].values()
        for s in runs
    ]
    walls = [s["wall_s"] for s in results["samples"]["none"]]
    return (
        "Why the ratios stray from 1 by more than the logging share: every variant fits the same trees, yet their fit "
        f"time (a study's wall less its time beside the fit) ranged from {_spread(fits)} of its median over the "
        f"{len(fits)} studies (the `none` variant's own {len(walls)} repeats: {_spread(walls)}): run-to-run noise "
        "of the fit, not logging. The logging columns are timed inside the study, apart from that noise."
    )


def _spread(values: list[float]) -> str:
    middle = median(values)
    return f"{min(values) / middle:.0%} to {max(values) / middle:.0%}"


def _goal(share: float) -> str:
    verdict = "met" if share < OVERHEAD_GOAL else "not met"
    goal = f"logging under {OVERHEAD_GOAL:.0%} of the study's wall time"
    return f"Goal for the course's way: {goal}: {verdict} ({share:.2%})."


def child_runs_section(results: dict[str, Any]) -> str:
    rows = [
        [f"`{kind}`", str(v["n_children"]), f"{v['median_ms']:.1f}", f"{v['p90_ms']:.1f}"]
        for kind, v in results.items()
    ]
    return table(["store", "child runs", "median ms", "p90 ms"], rows)


def scale_section(results: dict[str, Any]) -> str:
    rows = [
        [f"`{kind}`", str(v["runs"]), f"{v['median_query_s']:.3f}", f"{v['max_query_s']:.3f}", f"{v['build_s']:.0f}"]
        for kind, v in results["query"].items()
    ]
    parts = [table(["store", "runs", "median query (s)", "max query (s)", "build (s)"], rows)]
    if "ui" in results:
        ui = results["ui"]
        parts.append(
            f"MLflow UI (local server, SQLite): a parent with {ui['children']} children shows its children "
            f"{ui['expand_s']:.2f} s after the expander is clicked; the page then holds {ui['child_rows_shown']} "
            "child rows."
        )
    return "\n\n".join(parts)


def parallel_section(results: dict[str, Any]) -> str:
    rows = [
        [
            f"{v['workers']} x {v['threads']}",
            *(f"{v[key]:.1f}" for key in ("median_wall_s", "min_wall_s", "max_wall_s")),
        ]
        for v in results["studies"].values()
    ]
    same = "yes" if results["same_trials"] else "NO"
    return "\n\n".join(
        [
            f"Notebook 06's `run_study`: {results['n_trials']} trials of {results['tuning_iterations']} trees, seed "
            f"{results['seed']}, one study on a JournalStorage file shared by the worker processes of "
            f"`notebooks/workers/tune_worker.py`. Each worker gets {results['cores']} cores / workers CatBoost "
            "threads, so both sides use the same cores; after the first study, every study replays its trial "
            f"parameters (the same work). Medians of {len(results['samples'])} interleaved repeats; the wall time "
            "includes starting the workers.",
            table(["workers x CatBoost threads", "median wall (s)", "min (s)", "max (s)"], rows),
            f"Speed-up (1 worker's median wall / 2 workers'): {results['speedup']:.2f}; efficiency (speed-up / "
            f"workers): {results['efficiency']:.2f}. As both sides use the same cores, a speed-up of 1 (efficiency "
            "0.5) means two processes merely match one process with all the threads. Every study evaluated the "
            f"same {results['n_trials']} trials with the same val_rmse values: {same}.",
        ]
    )


def timings_section(timings: str) -> str:
    """The timings table, then each budget's total against its goal (read from the table's total row)."""
    total = TOTAL_ROW.search(timings)
    if total is None:
        raise ValueError("the timings table has no '| **total** | **S** | **F** |' row: rerun `make timings`")
    measured = {"small": int(total[1]), "full": int(total[2])}
    verdicts = [
        f"the {budget} budget under {goal} s: {'met' if measured[budget] < goal else 'missed'} ({measured[budget]} s)"
        for budget, goal in WALL_TIME_GOALS.items()
    ]
    return (
        f"{timings}\n\nGoals on this 2-core machine: {'; '.join(verdicts)}. Where the time goes: `make course` "
        "prints, next to each notebook's seconds, its start-up (starting the kernel and importing MLflow and the "
        "rest, before the lesson's own work)."
    )


def yardstick_section(document: dict[str, Any]) -> str:
    """The yardstick's two times, why they matter, and their provenance."""
    stick = Yardstick(**document["results"])
    return (
        f"{stick.describe()[0].upper()}{stick.describe()[1:]}. Shared machines differ from one session to the next, "
        "so compare your own yardstick before you compare your timings with these.\n\n" + provenance(document)
    )


def repro_section(results: dict[str, Any]) -> str:
    first, second = results["executions"]
    verdict = "identical" if results["identical"] else "DIFFERENT"
    rows = [
        [str(s["thread_count"]), str(s["n_jobs"]), f"{s['best_value']:.6f}", "yes" if s["same_as_reference"] else "no"]
        for s in results["settings"]
    ]
    return "\n\n".join(
        [
            f"Two fresh executions of notebook 04 ({_parameters(results['parameters'])}): {verdict}; "
            f"sha256 `{first['sha256'][:16]}` and `{second['sha256'][:16]}`, test_rmse {first['test_rmse']:.6f} "
            f"and {second['test_rmse']:.6f}.",
            "Short studies against the notebook's own setting "
            f"(thread_count {results['reference']['thread_count']}, n_jobs 1):",
            table(["CatBoost thread_count", "Optuna n_jobs", "best val_rmse", "same best params and value"], rows),
        ]
    )


ROOM_LEGEND = (
    "Each attendee is a process of its own with its own user and its own experiment `<user>/room-benchmark`, and "
    "logs what notebooks 02 and 04 log at the small budget: a parent with 2 children (params, metrics) and a Lasso "
    "model (`mlflow.sklearn.log_model`), then a parent with 4 children and a figure (`mlflow.log_figure`): 8 runs. "
    "The attendees are forked from one process that has imported MLflow already (50 Python processes importing "
    "MLflow would take minutes on 2 cores): threads could not be different users, as MLflow reads the credentials "
    "from the process's environment. They wait at a barrier and start logging together; then the admin checks "
    "every attendee's experiment. Child-run latency: start (nested), params, metrics, end, as the attendee sees it. "
    "The attendees and the server share the machine's cores (and with other jobs on a shared machine: the load "
    "average before each room says how busy it was), so latencies are upper bounds for a room of laptops; the "
    "server's CPU and memory are its own process trees', from the barrier to the last attendee's end."
)


def progress_section(results: dict[str, Any]) -> str:
    """How long `make progress` takes to read the room, against its goal."""
    refresh = results["refresh_s"]
    verdict = "met" if refresh["max"] < results["goal_s"] else "missed"
    return (
        f"`make progress` on a fresh workshop server as it ships (PostgreSQL, 4 workers, basic auth), signed in as "
        f"the admin: {results['attendees']} attendees, each with {results['runs_per_attendee']} runs (every "
        "lesson's top-level runs, and a study's children under notebook 04's parent) and a verdict per exercise. "
        f"A refresh makes {results['queries_per_refresh']} searches: the experiments once, then each attendee's "
        f"top-level runs, {results['parallel_reads']} at a time. Over {len(refresh['all'])} refreshes it took "
        f"{refresh['median']:.2f} s (median), {refresh['max']:.2f} s at most: the goal, under {results['goal_s']:g} s, "
        f"is {verdict}. {results['rows_complete']} of {results['attendees']} rows read every notebook done."
    )


def room_section(results: dict[str, Any]) -> str:
    """The room's integrity (runs expected and found, per attendee and in total), latency, errors and server load."""
    integrity = [
        [
            f"`{key}`",
            str(room["attendees"]),
            str(room["runs_expected"]),
            str(room["runs_found"]),
            str(room["lost"]),
            str(room["duplicates"]),
            str(room["misplaced"]),
            str(room["running"]),
            str(sum(room["errors"].values())),
        ]
        for key, room in results.items()
    ]
    load = [
        [
            f"`{key}`",
            *(f"{room['child_ms'][q]:.0f}" if room["child_ms"] else "-" for q in ("p50", "p95", "max")),
            f"{room['start_spread_s']:.2f}",
            f"{room['logging_wall_s']:.0f}",
            *(_usage(room["usage"].get(tree)) for tree in ("mlflow server", "postgresql")),
            " / ".join(f"{v:.1f}" for v in room["load_average_before"])
            if "load_average_before" in room
            else "not recorded",
            f"{room['request_timeout_s']:g}" if "request_timeout_s" in room else "not recorded",
        ]
        for key, room in results.items()
    ]
    return "\n\n".join(
        [
            ROOM_LEGEND,
            table(
                [
                    "room",
                    "attendees",
                    "runs expected",
                    "found",
                    "lost",
                    "extra runs (retried creates)",
                    "in another's experiment",
                    "left RUNNING",
                    "errors",
                ],
                integrity,
            ),
            table(
                [
                    "room",
                    "child p50 ms",
                    "p95 ms",
                    "max ms",
                    "start spread (s)",
                    "logging wall (s)",
                    "server CPU s (cores), peak MB",
                    "PostgreSQL CPU s (cores), peak MB",
                    "load average before (1 / 5 / 15 min)",
                    "request timeout (s)",
                ],
                load,
            ),
            *(
                " ".join(filter(None, [f"`{key}`:", _per_attendee(room), _errors(room)]))
                for key, room in results.items()
            ),
        ]
    )


def _usage(usage: dict[str, float] | None) -> str:
    return f"{usage['cpu_s']:.0f} ({usage['cores']:.2f}), {usage['peak_rss_mb']:.0f}" if usage else "-"


def _per_attendee(room: dict[str, Any]) -> str:
    """Per attendee, expected against found: one sentence when every attendee is alike, else the ones that differ."""
    odd = [
        a
        for a in room["per_attendee"]
        if (a["found"], a["duplicates"], a["misplaced"], a["running"], a["errors"]) != (a["expected"], 0, 0, 0, 0)
    ]
    if not odd:
        runs = room["runs_per_attendee"]
        attendees = room["attendees"]
        return (
            f"each of the {attendees} attendees: {runs} of {runs} runs found, none extra, "
            "misplaced or RUNNING, no error."
        )
    rows = "; ".join(
        f"{a['username']} {a['found']} of {a['expected']} found "
        f"({a['duplicates']} extra, {a['misplaced']} misplaced, {a['running']} RUNNING, {a['errors']} errors)"
        for a in odd
    )
    return f"{len(odd)} of {room['attendees']} attendees differ: {rows}."


def _errors(room: dict[str, Any]) -> str:
    if not room["errors"]:
        return ""
    kinds = "; ".join(
        f"{kind} x{count} (e.g. {room['error_examples'][kind]!r})"
        for kind, count in sorted(room["errors"].items(), key=lambda item: -item[1])
    )
    return f"Errors by kind: {kinds}."


def _parameters(parameters: dict[str, Any]) -> str:
    if not parameters:
        return "default parameters"
    return "parameters " + ", ".join(f"`{name}={value!r}`" for name, value in parameters.items())


SECTIONS = [
    ("1. Tracking overhead", "overhead", overhead_section),
    ("1b. Tracking overhead on the workshop server", "overhead-server", overhead_server_section),
    ("2. Cost per child run", "child-runs", child_runs_section),
    ("4. Scale: one parent's children", "scale", scale_section),
    ("5. Parallel tuning", "parallel", parallel_section),
    ("6. Reproducibility", "repro", repro_section),
    ("7. A full room, measured", "room", room_section),
    ("8. The instructor's view of the room", "progress", progress_section),
]


def render_report(documents: dict[str, dict[str, Any]], timings: str | None) -> str:
    """The whole page: one section per benchmark (or a note that it has not run) and the course timings."""
    parts = ["# Benchmarks", "Every number below comes from a command in this repository; `make bench` reruns them."]
    yardstick = documents.get("yardstick")
    parts.append(f"## Machine speed on the day\n\n{yardstick_section(yardstick) if yardstick else MISSING}")
    for title, name, render in SECTIONS:
        document = documents.get(name)
        body = f"{render(document['results'])}\n\n{provenance(document)}" if document else MISSING
        parts.append(f"## {title}\n\n{body}")
        if name == "child-runs":
            parts.append(f"## 3. Course wall time\n\n{timings_section(timings) if timings else MISSING}")
    return "\n\n".join(parts) + "\n"


def write_report(results: Path, doc: Path, timings: Path = TIMINGS_DOC) -> None:
    """Render the results in `results` (and `timings` when it exists) into `doc`."""
    text = timings.read_text().strip() if timings.exists() else None
    doc.write_text(render_report(read_results(results), text))
