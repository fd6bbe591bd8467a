"""Where the course's machinery writes (build output, docs), which notebooks it runs, and temporary environments."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from tutorial_utils.paths import NOTEBOOKS_DIR, REPO_ROOT, STORE_DIR_ENV

BUILD_DIR = REPO_ROOT / "build"
DOCS_DIR = REPO_ROOT / "docs"


def notebook_paths() -> list[Path]:
    """The course notebooks `notebooks/NN_*.ipynb`, in teaching order."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (a string) or unset (None) environment variables inside the block; restore them after it.

    Kernels, workers and MLflow clients started inside the block see the new values.
    """
    saved = {name: os.environ.get(name) for name in values}
    try:
        _apply(values)
        yield
    finally:
        _apply(saved)


def _apply(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def store_environment(store: Path) -> AbstractContextManager[None]:
    """The embedded store at `store` (and no MLFLOW_TRACKING_URI) inside the block."""
    return environment(**{STORE_DIR_ENV: str(store), "MLFLOW_TRACKING_URI": None})
