"""The environment check at the top of notebook 00: installed versions against the course's pins."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from tutorial_utils.paths import CONSTRAINTS_FILE

#: The packages whose versions decide the course's numbers and behaviour.
KEY_PACKAGES = ["mlflow", "optuna", "catboost", "scikit-learn", "numpy", "pandas", "matplotlib"]


def read_pins(path: Path = CONSTRAINTS_FILE) -> dict[str, str]:
    """`name==version` lines of a constraints file, as {normalised name: version}."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+).*", line)
        if match:
            pins[_normalise(match[1])] = match[2]
    return pins


def _normalise(name: str) -> str:
    """A distribution name in its canonical form (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_environment(packages: list[str] = KEY_PACKAGES, pins_file: Path = CONSTRAINTS_FILE) -> pd.DataFrame:
    """A table of each key package: pinned version, installed version, and whether they match."""
    pins = read_pins(pins_file)
    rows = []
    for package in packages:
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "missing"
        pinned = pins.get(_normalise(package), "unpinned")
        rows.append({"package": package, "pinned": pinned, "installed": installed, "ok": installed == pinned})
    table = pd.DataFrame(rows).set_index("package")
    return table
