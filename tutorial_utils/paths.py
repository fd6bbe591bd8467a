"""Where the course keeps the files the notebooks read: the repository, its data, notebooks and local store."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
CONSTRAINTS_FILE = REPO_ROOT / "constraints.txt"

#: Environment variable that moves the embedded store (tests and `make render` point it at a temp folder).
STORE_DIR_ENV = "COURSE_STORE_DIR"


def course_store_dir() -> Path:
    """Folder of the embedded tracking store: `$COURSE_STORE_DIR`, else `mlflow_store/` in the repository."""
    override = os.environ.get(STORE_DIR_ENV)
    return Path(override).expanduser().resolve() if override else REPO_ROOT / "mlflow_store"
