"""The course's command line: `run` every notebook headlessly, `render` them in place, `student` copies, `check` the
learner's progress, `timings`, `export` the runs, `screenshots` of the UI, `ui`, `kernel`, and the `prerequisites`
of `make test`.

Usage: python -m course_tools {run,render,student,check,timings,export,screenshots,ui,kernel,prerequisites} [options]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

import nbformat

from course_tools.check import main as progress_main
from course_tools.export_runs import export_runs
from course_tools.kernel import register_kernel
from course_tools.notebooks import KERNEL_DISPLAY_NAME, KERNEL_NAME, clean_metadata, coalesce_streams
from course_tools.paths import BUILD_DIR, DOCS_DIR, store_environment
from course_tools.prerequisites import missing_prerequisites, missing_sentence
from course_tools.runner import format_results, run_notebook, selected_notebooks
from course_tools.student import write_student_copies
from course_tools.timings import machine_summary, timings_markdown
from course_tools.workshop.network import LOOPBACK, port_in_use
from tutorial_utils.tracking import ensure_store, local_store_uri, quiet_mlflow, tracking_uri

UI_HOST = LOOPBACK


def _fresh_log(path: Path) -> Path:
    """`path`, emptied: the log of one command."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path


def command_run(args: argparse.Namespace) -> int:
    """Execute notebooks into the build folder on the tracking store in force, then print the summary."""
    quiet_mlflow()  # its settings pass on to the kernels this process starts
    ensure_store(tracking_uri())
    out_dir = Path(args.out)
    sources = selected_notebooks(args.notebooks)
    log = _fresh_log(out_dir / "papermill.log")
    results = [run_notebook(p, out_dir / p.name, args.budget, log) for p in sources]
    print(f"\n{format_results(results)}\n")
    print(f"Executed notebooks: {out_dir} (papermill's and the kernels' messages: {log.name})")
    print(f"Browse the runs: `make ui`, then open http://{UI_HOST}:5000")
    return 0 if all(r.ok for r in results) else 1


def command_render(args: argparse.Namespace) -> int:
    """Re-execute notebooks in place at the full budget, each on a fresh temporary store, metadata cleaned and
    redrawn progress bars stored as their last state."""
    quiet_mlflow()
    failed = []
    sources = selected_notebooks(args.notebooks)  # an unknown name fails here, before any file is written
    log = _fresh_log(Path(args.log))
    for source in sources:
        with tempfile.TemporaryDirectory() as scratch, store_environment(Path(scratch)):
            output = Path(scratch) / source.name
            result = run_notebook(source, output, "full", log)
            if result.ok:
                rendered = coalesce_streams(clean_metadata(nbformat.read(output, as_version=4)))
                nbformat.write(rendered, source)
                print(f"rendered {source.name} in {result.seconds:.1f} s")
            else:
                failed.append(source.name)
    if failed:
        print(f"not rendered: {', '.join(failed)}; papermill's log: {log}")
    return 1 if failed else 0


def command_student(args: argparse.Namespace) -> int:
    """Write the student copies (solution cells swapped for empty answer cells) into the build folder."""
    written = write_student_copies(selected_notebooks(args.notebooks), Path(args.out))
    print(f"{len(written)} student notebooks without solutions in {args.out}")
    return 0


def command_timings(args: argparse.Namespace) -> int:
    """Time every notebook at the small, then the full budget on one fresh store; write the Markdown table.

    With `--repeats N` each budget runs N times and the table shows each notebook's median.
    """
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be at least 1, got {args.repeats}")
    quiet_mlflow()
    seconds: dict[str, dict[str, float]] = {}
    log = _fresh_log(Path(args.log))
    with tempfile.TemporaryDirectory() as scratch, store_environment(Path(scratch)):
        for budget in ("small", "full"):
            samples: dict[str, list[float]] = {}
            for repeat in range(1, args.repeats + 1):
                results = [
                    run_notebook(p, Path(scratch) / budget / p.name, budget, log) for p in selected_notebooks([])
                ]
                print(f"\n{budget} budget, execution {repeat} of {args.repeats}\n{format_results(results)}")
                if not all(r.ok for r in results):
                    return 1
                for r in results:
                    samples.setdefault(r.notebook, []).append(r.seconds)
            seconds[budget] = {name: statistics.median(values) for name, values in samples.items()}
    table = timings_markdown(
        seconds["small"], seconds["full"], machine=machine_summary(), day=date.today(), repeats=args.repeats
    )
    Path(args.out).write_text(table + "\n")
    print(f"\nwrote {args.out}")
    return 0


def command_export(args: argparse.Namespace) -> int:
    """Write every run of the store in force (MLFLOW_TRACKING_URI, else the local store) to CSV files."""
    quiet_mlflow()
    summary = export_runs(tracking_uri(), Path(args.out))
    print(summary.to_string(index=False))
    print(f"\n{summary['runs'].sum()} runs of {len(summary)} experiments in {args.out}")
    return 0


def command_screenshots(args: argparse.Namespace) -> int:
    """Notebooks 02, 04 and 05 on throwaway servers, captured in Chromium: the pictures of the UI in docs/images."""
    from course_tools.screenshots import make_screenshots  # imports Playwright: only this command needs it

    shots = make_screenshots(Path(args.out))
    print(f"grid parent expanded to {len(shots.grid.expanded)} children; pictures: {[p.name for p in shots.pictures]}")
    return 0


def command_ui(args: argparse.Namespace) -> int:
    """Start the MLflow UI on the course store, bound to 127.0.0.1 (replaces this process)."""
    if port_in_use(args.port):
        print(
            f"Port {args.port} is already in use (another `make ui` or MLflow server?). "
            f"Open http://{UI_HOST}:{args.port} if it is the course UI, stop it, or pick another port: "
            f"`make ui PORT={args.port + 1}`.",
            file=sys.stderr,
        )
        return 1
    quiet_mlflow()
    uri = local_store_uri()
    ensure_store(uri)
    print(f"MLflow UI on the course store: http://{UI_HOST}:{args.port} (Ctrl-C stops it)", flush=True)
    mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    command = [mlflow, "ui", "--backend-store-uri", uri, "--host", UI_HOST, "--port", str(args.port), "--workers", "1"]
    os.execv(mlflow, command)
    return 0  # not reached: execv replaces the process


def command_kernel(_: argparse.Namespace) -> int:
    """Register the course's Jupyter kernel in this environment, the quiet MLflow settings as defaults."""
    path = register_kernel()
    print(f"Jupyter kernel {KERNEL_NAME!r} ({KERNEL_DISPLAY_NAME}) registered in {path}")
    return 0


def command_prerequisites(_: argparse.Namespace) -> int:
    """Say in one sentence which system programs `make test` needs and this machine lacks (then exit 1)."""
    missing = missing_prerequisites()
    if missing:
        print(missing_sentence(missing), file=sys.stderr)
    return 1 if missing else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_tools", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute every notebook headlessly and print a summary")
    run.add_argument("--budget", choices=["small", "full"], default="full", help="parameter budget (default full)")
    run.add_argument("--out", default=str(BUILD_DIR / "course"), help="folder for the executed notebooks")
    run.add_argument("notebooks", nargs="*", help="notebook names or stems (default: all)")
    run.set_defaults(handler=command_run)
    render = commands.add_parser("render", help="re-execute notebooks in place (fresh store, clean metadata)")
    render.add_argument("--log", default=str(BUILD_DIR / "render.log"), help="papermill's and the kernels' messages")
    render.add_argument("notebooks", nargs="*", help="notebook names or stems (default: all)")
    render.set_defaults(handler=command_render)
    student = commands.add_parser("student", help="write student copies of the notebooks, without solutions")
    student.add_argument("--out", default=str(BUILD_DIR / "student"), help="folder for the student copies")
    student.add_argument("notebooks", nargs="*", help="notebook names or stems (default: all)")
    student.set_defaults(handler=command_student)
    check = commands.add_parser("check", help="your lessons and exercises, read from the store in force")
    check.set_defaults(handler=lambda _: progress_main())
    timings = commands.add_parser("timings", help="time every notebook at both budgets, write a Markdown table")
    timings.add_argument("--out", default=str(DOCS_DIR / "timings.md"), help="the Markdown file to write")
    timings.add_argument("--repeats", type=int, default=1, help="executions per budget; the table shows medians")
    timings.add_argument("--log", default=str(BUILD_DIR / "timings.log"), help="papermill's and the kernels' messages")
    timings.set_defaults(handler=command_timings)
    export = commands.add_parser("export", help="every run of the store in force to CSV files")
    export.add_argument("--out", default=str(BUILD_DIR / "export"), help="folder for the CSV files")
    export.set_defaults(handler=command_export)
    screenshots = commands.add_parser("screenshots", help="the pictures of the MLflow UI (02, 04, 05)")
    screenshots.add_argument("--out", default=str(DOCS_DIR / "images"), help="folder for the PNG files")
    screenshots.set_defaults(handler=command_screenshots)
    ui = commands.add_parser("ui", help="the MLflow UI on the course store, on 127.0.0.1")
    ui.add_argument("--port", type=int, default=5000)
    ui.set_defaults(handler=command_ui)
    kernel = commands.add_parser("kernel", help="register the course's Jupyter kernel")
    kernel.set_defaults(handler=command_kernel)
    prerequisites = commands.add_parser("prerequisites", help="what `make test` needs and this machine lacks")
    prerequisites.set_defaults(handler=command_prerequisites)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
