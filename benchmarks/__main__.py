"""Command line: `python -m benchmarks {yardstick,overhead,child-runs,scale,parallel,repro,overhead-server,room,
progress,all,report}`."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from benchmarks.child_runs import child_run_cost
from benchmarks.overhead import EXPERIMENT, SERVER_VARIANTS, measure_overhead
from benchmarks.parallel import measure_parallel
from benchmarks.progress import ATTENDEES, measure_progress
from benchmarks.report import DOC_PATH, write_report
from benchmarks.repro import measure_repro
from benchmarks.results import RESULTS_DIR, results_dir, write_result
from benchmarks.room import fresh_workshop, measure_room, room_attendees
from benchmarks.scale import measure_query, measure_ui_expand
from benchmarks.stores import activate, course_postgres, store_under_test
from benchmarks.yardstick import measure_elsewhere
from course_tools.paths import environment, store_environment
from course_tools.workshop.postgres import PostgresError, postgres_bin_dir
from course_tools.workshop.server import WORKERS
from tutorial_utils.tracking import experiment_name_for

BENCHMARKS = ["yardstick", "overhead", "child-runs", "scale", "parallel", "repro"]
#: The benchmarks with PostgreSQL variants, which `--postgres` gives a throw-away cluster of the course's own.
POSTGRES_BENCHMARKS = {"child-runs", "scale"}
#: Benchmarks not in `all`: they start workshop servers of their own (PostgreSQL always), and `make bench` runs them.
SEPARATE = ["overhead-server", "room", "progress"]
#: The room's backends, each with its attendee counts: the workshop server as it ships, then the small-room variant.
ROOMS = {"postgres": [50], "sqlite": [10, 50]}


def bench_yardstick(args: argparse.Namespace, _: Path) -> dict[str, Any]:
    """The machine's speed on the day (first in `all`), in a process of its own."""
    return asdict(measure_elsewhere(quick=args.quick))


def bench_overhead(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Item 1, on a fresh embedded store."""
    with store_environment(workdir):
        return measure_overhead(quick=args.quick, repeats=args.repeats or (1 if args.quick else 5))


def bench_overhead_server(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Issue 19 §6: the course's objective on a fresh embedded store and on a fresh workshop server as it ships
    (PostgreSQL, 4 workers, basic auth), signed in as an attendee, against no tracking."""
    workdir.chmod(0o755)  # PostgreSQL runs as the postgres user when we are root, and must reach its folder
    repeats = args.repeats or (1 if args.quick else 5)
    with fresh_workshop(workdir / "server") as (workshop, admin_password):
        (login,) = room_attendees(workshop.server.uri, 1, admin_password)
        with store_environment(workdir / "embedded"):
            results = measure_overhead(quick=args.quick, repeats=repeats, variants=SERVER_VARIANTS, server=login)
        with environment(**login):  # the attendee's experiment on the server: a parent per study, a child per trial
            uri = login["MLFLOW_TRACKING_URI"]
            runs = MlflowClient(uri).search_runs([activate(uri, experiment_name_for(EXPERIMENT))], max_results=50_000)
    return {"backend": "postgres", "workers": WORKERS, "server_runs": len(runs), **results}


def store_kinds(args: argparse.Namespace, sqlite_kinds: list[str], postgres_kinds: list[str]) -> list[str]:
    """The store kinds to measure: embedded SQLite (quick) or `sqlite_kinds`, then PostgreSQL kinds if it has a URI."""
    return [*(["embedded-sqlite"] if args.quick else sqlite_kinds), *(postgres_kinds if args.postgres_uri else [])]


def bench_child_runs(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Item 2, per store kind."""
    n_children = 10 if args.quick else 200
    results = {}
    for kind in store_kinds(args, ["embedded-sqlite", "server-sqlite"], ["server-postgresql"]):
        with store_under_test(kind, workdir / kind, args.postgres_uri) as uri:
            results[kind] = child_run_cost(uri, n_children)
    return results


def bench_scale(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Item 4: the children query per store kind, then (full runs) the UI on a local server."""
    n_parents, n_children, n_queries = (3, 10, 3) if args.quick else (100, 100, 10)
    results: dict[str, Any] = {"query": {}}
    for kind in store_kinds(args, ["embedded-sqlite"], ["postgresql"]):
        with store_under_test(kind, workdir / kind, args.postgres_uri) as uri:
            results["query"][kind] = measure_query(uri, n_parents, n_children, n_queries)
    if not args.quick:
        with store_under_test("server-sqlite", workdir / "ui") as uri:
            results["ui"] = measure_ui_expand(uri, 1000)
    return results


def bench_parallel(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Item 5, on a fresh embedded store and a journal file in `workdir`."""
    repeats = args.repeats or (1 if args.quick else 3)
    with store_environment(workdir):
        return measure_parallel(quick=args.quick, repeats=repeats, workdir=workdir)


def bench_repro(args: argparse.Namespace, _: Path) -> dict[str, Any]:
    """Item 6."""
    return measure_repro(quick=args.quick)


def bench_room(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Issue 19 §6: full rooms on fresh workshop servers (4 workers), keyed "<backend>-<attendees>".

    `--backend` measures that one only, `--attendees N` N on each backend; `--quick` 3 attendees (on SQLite, unless
    `--backend` says otherwise).
    """
    workdir.chmod(0o755)  # PostgreSQL runs as the postgres user when we are root, and must reach its folder
    backends = [args.backend] if args.backend else ["sqlite"] if args.quick else list(ROOMS)
    counts = {
        backend: [args.attendees] if args.attendees else [3] if args.quick else ROOMS[backend] for backend in backends
    }
    return {
        f"{backend}-{count}": measure_room(workdir / f"{backend}-{count}", backend, count)
        for backend in backends
        for count in counts[backend]
    }


def bench_progress(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Issue 18: `make progress` on a fresh workshop server, 50 attendees with a course each (`--attendees`; quick 3)
    and 5 refreshes (`--repeats`; quick 1)."""
    workdir.chmod(0o755)  # PostgreSQL runs as the postgres user when we are root, and must reach its folder
    count = args.attendees or (3 if args.quick else ATTENDEES)
    return measure_progress(workdir / "server", count, refreshes=1 if args.quick else args.repeats or 5)


RUNNERS: dict[str, Callable[[argparse.Namespace, Path], dict[str, Any]]] = {
    "yardstick": bench_yardstick,
    "overhead": bench_overhead,
    "child-runs": bench_child_runs,
    "scale": bench_scale,
    "parallel": bench_parallel,
    "repro": bench_repro,
    "overhead-server": bench_overhead_server,
    "room": bench_room,
    "progress": bench_progress,
}


def check_postgres() -> None:
    """Exit with what to do when `--postgres` cannot find PostgreSQL's programs."""
    try:
        postgres_bin_dir()
    except PostgresError:
        raise SystemExit(
            "--postgres starts a throw-away PostgreSQL cluster, but PostgreSQL's initdb and pg_ctl were found "
            "neither in /usr/lib/postgresql/<version>/bin nor on the PATH. Install the server (Debian/Ubuntu: "
            "apt-get install postgresql), or pass --postgres-uri postgresql+psycopg2://... for a database you run."
        ) from None


@contextmanager
def postgres_uri(args: argparse.Namespace, name: str, scratch: str) -> Iterator[str | None]:
    """The PostgreSQL database benchmark `name` measures: `--postgres-uri`, with `--postgres` a fresh cluster's
    in `scratch` for the benchmarks that have PostgreSQL variants, else None."""
    if not (args.postgres and name in POSTGRES_BENCHMARKS):
        yield args.postgres_uri
        return
    Path(scratch).chmod(0o755)  # PostgreSQL runs as the postgres user when we are root, and must reach its folder
    with course_postgres(Path(scratch) / "postgres") as uri:
        yield uri


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", choices=[*BENCHMARKS, *SEPARATE, "all", "report"])
    parser.add_argument("--quick", action="store_true", help="the CI smoke subset, results to build/bench/")
    parser.add_argument(
        "--repeats", type=int, help="repeats of the overhead(-server) and parallel studies (default 5 and 3, quick 1)"
    )
    parser.add_argument(
        "--attendees", type=int, help="room: attendees on each backend (default 50; SQLite 10 and 50); progress: 50"
    )
    parser.add_argument("--backend", choices=list(ROOMS), help="room: this backend only (default: both)")
    parser.add_argument("--out", type=Path, help="results folder (default benchmarks/results, quick build/bench)")
    postgres = parser.add_mutually_exclusive_group()
    postgres.add_argument(
        "--postgres-uri", help="also measure this postgresql+psycopg2:// database (scale) and a server on it"
    )
    postgres.add_argument(
        "--postgres",
        action="store_true",
        help="the same on a throw-away PostgreSQL cluster started for child-runs and scale (needs initdb, pg_ctl)",
    )
    parser.add_argument("--doc", type=Path, default=DOC_PATH, help="the Markdown file `report` writes")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        raise SystemExit(f"--repeats must be at least 1, got {args.repeats}")
    if args.attendees is not None and args.attendees < 1:
        raise SystemExit(f"--attendees must be at least 1, got {args.attendees}")
    out = args.out or results_dir(args.quick)
    if args.benchmark == "report":
        write_report(args.out or RESULTS_DIR, args.doc)
        print(f"wrote {args.doc}")
        return 0
    names = BENCHMARKS if args.benchmark == "all" else [args.benchmark]
    if args.postgres:
        check_postgres()
    flags = [flag for flag in ("--quick", "--postgres") if getattr(args, flag[2:])]
    counts = [f"--{name} {getattr(args, name)}" for name in ("repeats", "attendees", "backend") if getattr(args, name)]
    command = " ".join(["python -m benchmarks", args.benchmark, *flags, *counts])
    for name in names:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch, postgres_uri(args, name, scratch) as uri:
            data = RUNNERS[name](argparse.Namespace(**{**vars(args), "postgres_uri": uri}), Path(scratch))
        path = write_result(out, name, data, command=command, quick=args.quick)
        print(f"{name}: wrote {path} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
