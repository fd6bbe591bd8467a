"""Where results go and what each JSON file carries: the numbers plus command, machine, versions and date."""

from __future__ import annotations

import json
import sys
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

from course_tools.paths import BUILD_DIR
from course_tools.timings import machine_summary
from tutorial_utils.environment import KEY_PACKAGES
from tutorial_utils.paths import REPO_ROOT

#: Published numbers (full runs); quick runs go to QUICK_DIR so CI never overwrites them.
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
QUICK_DIR = BUILD_DIR / "bench"
BENCH_PACKAGES = [*KEY_PACKAGES, "optuna-integration"]


def results_dir(quick: bool) -> Path:
    """The folder a run writes to: `build/bench/` for `--quick`, else `benchmarks/results/`."""
    return QUICK_DIR if quick else RESULTS_DIR


def write_result(folder: Path, name: str, data: dict[str, Any], *, command: str, quick: bool) -> Path:
    """Write `<folder>/<name>.json`: `data` under "results", with command, quick flag, machine, versions and date."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    document = {
        "name": name,
        "command": command,
        "quick": quick,
        "date": date.today().isoformat(),
        "machine": machine_summary(),
        "python": sys.version.split()[0],
        "versions": {package: version(package) for package in BENCH_PACKAGES},
        "results": data,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def read_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Every `<name>.json` in `folder`, keyed by name (empty when the folder does not exist)."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}
